import type { z } from 'zod';
import { EventStreamInput } from '../schemas/events.schema.ts';
import { streamEvents } from '../services/events.service.ts';
import { type AuthedContext, authedProcedure, router } from '../trpc.ts';

/** events.stream's input and resolver, which the socket host also runs directly (direct-calls.ts). */
export const streamProcedure = {
  input: EventStreamInput,
  resolve: ({
    ctx,
    input,
    signal,
  }: {
    ctx: AuthedContext;
    input: z.infer<typeof EventStreamInput>;
    signal?: AbortSignal;
  }) => streamEvents(ctx.deps, ctx.user.id, input.lastEventId, signal, ctx.socket),
};

export const eventsRouter = router({
  /**
   * Everything that happens in the caller's conversations, live. Each event
   * is tracked: on reconnect the client resumes after the last one it got.
   */
  stream: authedProcedure.input(streamProcedure.input).subscription(streamProcedure.resolve),
});
