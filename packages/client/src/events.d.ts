import type { PneumaticApi, StreamEvent } from './types.ts';
/** A stream event with the id to resume after it. */
export type StreamEventWithId = StreamEvent & {
  /** Pass as `lastEventId` to resume after this event, even in another process. */
  eventId: string;
};
export interface EventsOptions {
  /**
   * Resume after this event (an earlier `eventId`): the server replays what
   * came after it, or yields `resync` when that is too much. Default: start
   * with what happens from now on.
   */
  lastEventId?: string | null;
  /** Ends the iteration (the loop finishes without an error). */
  signal?: AbortSignal;
  /** Called each time the stream is live: at the start, and after every resubscribe. */
  onStarted?: () => void;
}
/** What the event iterator needs from the client. */
export interface EventSource {
  api: PneumaticApi;
  /** The signed-in user's id, or null. */
  userId(): string | null;
  /** Aborted when the client closes. */
  closed: AbortSignal;
  /** Wait before resubscribing after failure number `attempt` (0-based). */
  retryDelayMs(attempt: number): number;
}
/**
 * The user's event stream as an async iterator. The socket resends the last
 * event id whenever it reconnects, so the server replays exactly what was
 * missed; if the subscription itself fails, it is started again from that
 * same id after a backoff. It ends when `signal` aborts or the client
 * closes, and throws {@link SessionEndedError} when the login is over or
 * another user signs in.
 */
export declare function streamEvents(
  source: EventSource,
  options?: EventsOptions,
): AsyncGenerator<StreamEventWithId, void, undefined>;
/** Resolves after `ms`, or as soon as one of `signals` aborts. */
export declare function delay(ms: number, signals?: readonly AbortSignal[]): Promise<void>;
