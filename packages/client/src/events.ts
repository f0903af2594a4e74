import type { Unsubscribable } from '@trpc/server/observable';
import { errorCode } from './errors.ts';
import { SessionEndedError } from './session.ts';
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

/** Errors that no resubscribe can fix: the request itself is wrong. */
const PERMANENT = new Set(['BAD_REQUEST', 'NOT_FOUND', 'FORBIDDEN', 'PARSE_ERROR']);

/**
 * The user's event stream as an async iterator. The socket resends the last
 * event id whenever it reconnects, so the server replays exactly what was
 * missed; if the subscription itself fails, it is started again from that
 * same id after a backoff. It ends when `signal` aborts or the client
 * closes, and throws {@link SessionEndedError} when the login is over or
 * another user signs in.
 */
export async function* streamEvents(
  source: EventSource,
  options: EventsOptions = {},
): AsyncGenerator<StreamEventWithId, void, undefined> {
  const owner = source.userId();
  if (owner === null) throw new SessionEndedError('Signed out');
  const signals = [source.closed, ...(options.signal ? [options.signal] : [])];
  const stopped = () => signals.some((signal) => signal.aborted);

  const queue: StreamEventWithId[] = [];
  // Set by the subscription's callbacks; an object so the loop below reads it fresh.
  const state: {
    subscription: Unsubscribable | null;
    ended: { error: unknown } | null;
    wake: (() => void) | null;
  } = { subscription: null, ended: null, wake: null };
  const notify = () => {
    state.wake?.();
    state.wake = null;
  };
  for (const signal of signals) signal.addEventListener('abort', notify);

  let lastEventId = options.lastEventId ?? null;
  let attempt = 0;
  const start = () => {
    state.ended = null;
    state.subscription = source.api.events.stream.subscribe(
      { lastEventId },
      {
        onStarted() {
          attempt = 0;
          options.onStarted?.();
        },
        onData({ id, data }) {
          lastEventId = id;
          queue.push({ ...data, eventId: id });
          notify();
        },
        onError(error) {
          state.ended = { error };
          notify();
        },
        onComplete() {
          state.ended ??= { error: null };
          notify();
        },
      },
    );
  };

  try {
    start();
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (stopped()) return;
      if (source.userId() !== owner) throw new SessionEndedError('The login is over');
      if (state.ended) {
        const { error } = state.ended;
        state.subscription?.unsubscribe();
        state.subscription = null;
        const code = errorCode(error);
        if (code && PERMANENT.has(code)) throw error;
        await delay(source.retryDelayMs(attempt++), signals);
        if (!stopped() && source.userId() === owner) start();
        continue;
      }
      await new Promise<void>((resolve) => {
        state.wake = resolve;
      });
    }
  } finally {
    for (const signal of signals) signal.removeEventListener('abort', notify);
    state.subscription?.unsubscribe();
  }
}

/** Resolves after `ms`, or as soon as one of `signals` aborts. */
export function delay(ms: number, signals: readonly AbortSignal[] = []): Promise<void> {
  return new Promise((resolve) => {
    if (signals.some((signal) => signal.aborted)) return resolve();
    const done = () => {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const signal of signals) signal.addEventListener('abort', done, { once: true });
  });
}
