import {
  DeleteMessageInput,
  EditMessageInput,
  ListMessagesInput,
  ReactInput,
  SearchMessagesInput,
  SendMessageInput,
} from '../schemas/messages.schema.ts';
import { deleteMessage, editMessage } from '../services/message-changes.service.ts';
import * as messages from '../services/messages.service.ts';
import { reactToMessage } from '../services/reactions.service.ts';
import { searchMessages } from '../services/search.service.ts';
import { type AuthedContext, authedProcedure, memberReadProcedure, router } from '../trpc.ts';

/** messages.send's input and resolver, which the socket host also runs directly (direct-calls.ts). */
export const sendProcedure = {
  input: SendMessageInput,
  resolve: async ({ ctx, input }: { ctx: AuthedContext; input: SendMessageInput }) =>
    (await messages.sendMessage(ctx.deps, ctx.user.id, input)).message,
};

export const messagesRouter = router({
  /** The latest page first; pass `next_cursor` back as `cursor` for older messages. */
  list: memberReadProcedure
    .input(ListMessagesInput)
    .query(({ ctx, input }) => messages.listMessages(ctx.deps, ctx.userId, input)),
  /** Idempotent per sender and message_id: a retry returns the stored message. */
  send: authedProcedure.input(sendProcedure.input).mutation(sendProcedure.resolve),
  /** Only the sender may edit; everyone sees the new text, marked edited. */
  edit: authedProcedure
    .input(EditMessageInput)
    .mutation(({ ctx, input }) => editMessage(ctx.deps, ctx.user.id, input)),
  /** Only the sender may delete; the text is erased for everyone. */
  delete: authedProcedure
    .input(DeleteMessageInput)
    .mutation(({ ctx, input }) => deleteMessage(ctx.deps, ctx.user.id, input.id)),
  /** Puts the caller's emoji on a message (`on: true`) or takes it back; members only. */
  react: authedProcedure
    .input(ReactInput)
    .mutation(({ ctx, input }) => reactToMessage(ctx.deps, ctx.user.id, input)),
  /** Finds messages by words in the caller's conversations, newest first. */
  search: authedProcedure
    .input(SearchMessagesInput)
    .query(({ ctx, input }) => searchMessages(ctx.deps, ctx.user.id, input)),
});
