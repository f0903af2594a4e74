import { EventStreamInput } from '../schemas/events.schema.ts';
import { streamEvents } from '../services/events.service.ts';
import { authedProcedure, router } from '../trpc.ts';

export const eventsRouter = router({
  /**
   * Everything that happens in the caller's conversations, live. Each event
   * is tracked: on reconnect the client resumes after the last one it got.
   */
  stream: authedProcedure
    .input(EventStreamInput)
    .subscription(({ ctx, input, signal }) =>
      streamEvents(ctx.deps, ctx.user.id, input.lastEventId, signal, ctx.socket),
    ),
});
