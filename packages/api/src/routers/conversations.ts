import { z } from 'zod';
import {
  AddMembersInput,
  ConversationIdInput,
  CreateConversationInput,
  MarkReadInput,
  RemoveMemberInput,
  RenameConversationInput,
  SetMemberRoleInput,
  SetMutedInput,
} from '../schemas/conversations.schema.ts';
import { announceTyping, markRead } from '../services/activity.service.ts';
import * as conversations from '../services/conversations.service.ts';
import {
  addMembers,
  leaveConversation,
  removeMember,
  renameConversation,
  setMemberRole,
} from '../services/membership.service.ts';
import { setMuted } from '../services/mute.service.ts';
import { authedProcedure, router } from '../trpc.ts';

export const conversationsRouter = router({
  list: authedProcedure.query(({ ctx }) => conversations.listConversations(ctx.deps, ctx.user.id)),
  get: authedProcedure
    .input(ConversationIdInput)
    .query(({ ctx, input }) => conversations.getConversation(ctx.deps, ctx.user.id, input.conversation_id)),
  create: authedProcedure
    .input(CreateConversationInput)
    .mutation(({ ctx, input }) => conversations.createConversation(ctx.deps, ctx.user.id, input)),
  /** Moves the caller's read position forward; unread counts and receipts follow live. */
  markRead: authedProcedure
    .input(MarkReadInput)
    .mutation(({ ctx, input }) => markRead(ctx.deps, ctx.user.id, input)),
  /** Adds people to a group (any member may); a system line records it. */
  addMembers: authedProcedure
    .input(AddMembersInput)
    .mutation(({ ctx, input }) => addMembers(ctx.deps, ctx.user.id, input)),
  /** Leaves a group: no more messages, no more history. */
  leave: authedProcedure
    .input(ConversationIdInput)
    .output(z.void())
    .mutation(({ ctx, input }) => leaveConversation(ctx.deps, ctx.user.id, input.conversation_id)),
  /** Removes someone from a group: the owner anyone, an admin plain members. A system line records it. */
  removeMember: authedProcedure
    .input(RemoveMemberInput)
    .mutation(({ ctx, input }) => removeMember(ctx.deps, ctx.user.id, input)),
  /** Makes a member an admin or an admin a member again; the owner only. A system line records it. */
  setRole: authedProcedure
    .input(SetMemberRoleInput)
    .mutation(({ ctx, input }) => setMemberRole(ctx.deps, ctx.user.id, input)),
  /** Renames a group (any member may). */
  rename: authedProcedure
    .input(RenameConversationInput)
    .mutation(({ ctx, input }) => renameConversation(ctx.deps, ctx.user.id, input)),
  /** Mutes or unmutes a conversation for the caller, on all their devices; the others are not told. */
  setMuted: authedProcedure
    .input(SetMutedInput)
    .mutation(({ ctx, input }) => setMuted(ctx.deps, ctx.user.id, input)),
  /** Says the caller is typing; call it every couple of seconds while they type. */
  typing: authedProcedure
    .input(ConversationIdInput)
    .output(z.void())
    .mutation(({ ctx, input }) => announceTyping(ctx.deps, ctx.user.id, input.conversation_id)),
});
