import { ConversationIdInput, CreateConversationInput } from '../schemas/conversations.schema.ts';
import * as conversations from '../services/conversations.service.ts';
import { authedProcedure, router } from '../trpc.ts';

export const conversationsRouter = router({
  list: authedProcedure.query(({ ctx }) => conversations.listConversations(ctx.deps, ctx.user.id)),
  get: authedProcedure
    .input(ConversationIdInput)
    .query(({ ctx, input }) => conversations.getConversation(ctx.deps, ctx.user.id, input.conversation_id)),
  create: authedProcedure
    .input(CreateConversationInput)
    .mutation(({ ctx, input }) => conversations.createConversation(ctx.deps, ctx.user.id, input)),
});
