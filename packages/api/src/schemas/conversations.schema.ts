import { z } from 'zod';
import { Id, MAX_SEQ, Timestamp, text } from './common.ts';
import { Message } from './messages.schema.ts';

export const ConversationKind = z.enum(['direct', 'group']);

/** A group member's role: the owner (one per group) or an admin; plain members have none. */
export const MemberRole = z.enum(['owner', 'admin']);
export type MemberRole = z.infer<typeof MemberRole>;

export const CreateConversationInput = z.object({
  title: text({ max: 200 }),
  member_ids: z.array(Id).max(500, 'At most 500 members'),
});
export type CreateConversationInput = z.infer<typeof CreateConversationInput>;

export const ConversationIdInput = z.object({ conversation_id: Id });

/** A conversation as every member sees it. */
export const Conversation = z
  .object({
    id: Id,
    kind: ConversationKind,
    title: z.string(),
    members: z.array(Id),
    created_by: Id,
    created_at: Timestamp,
    last_activity_at: Timestamp,
    last_seq: z.number().int(),
    last_message: Message.nullable(),
    /** The owner and admins of a group, by user id; members without a role are absent (a 1-on-1: empty). */
    roles: z.record(z.string(), MemberRole),
  })
  .meta({ id: 'Conversation' });
export type Conversation = z.infer<typeof Conversation>;

/** A conversation in the caller's list, with the caller's own read state. */
export const ConversationListItem = Conversation.extend({
  last_read_seq: z.number().int(),
  unread_count: z.number().int(),
  /** Every member's last read seq, for receipts ("seen"). */
  read_seqs: z.record(z.string(), z.number().int()),
  /** Whether the caller muted it: their apps show no notifications for it. Only ever the caller's own. */
  muted: z.boolean(),
  /** Unread messages that mention the caller. */
  unread_mentions: z.number().int(),
}).meta({ id: 'ConversationListItem' });
export type ConversationListItem = z.infer<typeof ConversationListItem>;

export const MarkReadInput = z.object({
  conversation_id: Id,
  /** The seq of the last message read; moving backwards is ignored. */
  seq: z.number().int().min(0).max(MAX_SEQ),
});
export type MarkReadInput = z.infer<typeof MarkReadInput>;

export const SetMutedInput = z.object({
  conversation_id: Id,
  /** true mutes (no notifications on any of the caller's devices), false unmutes. */
  muted: z.boolean(),
});
export type SetMutedInput = z.infer<typeof SetMutedInput>;

/** The caller's mute of one conversation, as `setMuted` answers and the `mute` event says. */
export const MuteState = z.object({ conversation_id: Id, muted: z.boolean() }).meta({ id: 'MuteState' });
export type MuteState = z.infer<typeof MuteState>;

export const AddMembersInput = z.object({
  conversation_id: Id,
  user_ids: z.array(Id).min(1, 'Add at least one member').max(100, 'At most 100 at a time'),
});
export type AddMembersInput = z.infer<typeof AddMembersInput>;

export const RenameConversationInput = z.object({ conversation_id: Id, title: text({ min: 1, max: 200 }) });
export type RenameConversationInput = z.infer<typeof RenameConversationInput>;

export const RemoveMemberInput = z.object({ conversation_id: Id, user_id: Id });
export type RemoveMemberInput = z.infer<typeof RemoveMemberInput>;

export const SetMemberRoleInput = z.object({
  conversation_id: Id,
  user_id: Id,
  /** `admin` makes them an admin, `member` makes an admin a plain member again. */
  role: z.enum(['admin', 'member']),
});
export type SetMemberRoleInput = z.infer<typeof SetMemberRoleInput>;
