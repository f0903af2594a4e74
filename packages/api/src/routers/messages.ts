import { ListMessagesInput, SendMessageInput } from '../schemas/messages.schema.ts';
import * as messages from '../services/messages.service.ts';
import { authedProcedure, router } from '../trpc.ts';

export const messagesRouter = router({
  /** The latest page first; pass `next_cursor` back as `cursor` for older messages. */
  list: authedProcedure
    .input(ListMessagesInput)
    .query(({ ctx, input }) => messages.listMessages(ctx.deps, ctx.user.id, input)),
  /** Idempotent per sender and message_id: a retry returns the stored message. */
  send: authedProcedure
    .input(SendMessageInput)
    .mutation(async ({ ctx, input }) => (await messages.sendMessage(ctx.deps, ctx.user.id, input)).message),
});
