import {
  conversationsRepository,
  type Executor,
  type LogEntry,
  logRepository,
  messagesRepository,
} from '@pneumatic/db';
import { type TrackedEnvelope, tracked } from '@trpc/server';
import type { SocketHandle } from '../context.ts';
import type { ApiDeps } from '../deps.ts';
import { AsyncQueue } from '../realtime/async-queue.ts';
import type { EphemeralBusEvent, LogBusEvent } from '../realtime/event-bus.ts';
import type { StreamEvent } from '../schemas/events.schema.ts';
import { loadConversation } from './conversations.service.ts';
import { toMessage } from './views.ts';

/** Events a live subscriber may have waiting before it is cut off as too slow. */
const LIVE_QUEUE_CAPACITY = 10_000;

/**
 * One StreamEvent object per bus event, shared by every subscriber and
 * socket it goes to, so that the socket layer can serialize it once (see
 * serializedOnce; it must never be changed after it is made).
 */
const shared = new WeakMap<LogBusEvent | EphemeralBusEvent, StreamEvent>();

export function sharedStreamEvent(event: LogBusEvent | EphemeralBusEvent): StreamEvent {
  let streamEvent = shared.get(event);
  if (streamEvent === undefined) {
    streamEvent = toStreamEvent(event);
    shared.set(event, streamEvent);
  }
  return streamEvent;
}

function toStreamEvent(event: LogBusEvent | EphemeralBusEvent): StreamEvent {
  switch (event.kind) {
    case 'message':
      return { type: 'message', message: event.message };
    case 'message_updated':
      return { type: 'message_updated', message: event.message };
    case 'conversation':
      return { type: 'conversation', conversation: event.conversation };
    case 'read':
      return {
        type: 'read',
        conversation_id: event.conversation_id,
        user_id: event.user_id,
        last_read_seq: event.last_read_seq,
      };
    case 'typing':
      return {
        type: 'typing',
        conversation_id: event.conversation_id,
        user_id: event.user_id,
        expires_in_ms: event.expires_in_ms,
      };
    case 'presence':
      return { type: 'presence', user_id: event.user_id, online: event.online };
  }
}

/** Turns log entries into stream events with the current state; what is gone since is left out. */
async function fromLog(db: Executor, entry: LogEntry): Promise<StreamEvent | null> {
  if (entry.kind === 'message') return { type: 'message', message: toMessage(entry.message) };
  if (entry.kind === 'message_updated') {
    const row = entry.subject_id ? await messagesRepository.findMessageById(db, entry.subject_id) : undefined;
    return row ? { type: 'message_updated', message: toMessage(row) } : null;
  }
  const row = await conversationsRepository.findConversation(db, entry.conversation_id);
  return row ? { type: 'conversation', conversation: await loadConversation(db, row) } : null;
}

/** Takes one tracked event of a stream: its id (the position to resume after) and the event. */
export type EventSink = (eventId: string, event: StreamEvent) => void;

/** Where a host that writes to sockets itself finds a stream's direct form (see EventStream). */
export const DIRECT_STREAM = Symbol.for('pneumatic.directStream');

/**
 * The user's event stream, in two forms over one implementation: an async
 * iterable of tracked events (what tRPC's own adapters iterate), and
 * `[DIRECT_STREAM](sink, signal)`, which hands each live event to `sink` the
 * moment the hub delivers it, with no iterator step, promise or envelope per
 * subscriber: the form the server's socket handler uses.
 */
export interface EventStream extends AsyncIterable<TrackedEnvelope<StreamEvent>> {
  [DIRECT_STREAM](sink: EventSink, signal: AbortSignal): Promise<void>;
}

export function isEventStream(value: unknown): value is EventStream {
  return typeof value === 'object' && value !== null && DIRECT_STREAM in value;
}

export function streamEvents(
  deps: ApiDeps,
  userId: string,
  lastEventId: string | null | undefined,
  signal: AbortSignal | undefined,
  socket?: SocketHandle,
): EventStream {
  const pipe = (sink: EventSink, stop: AbortSignal) =>
    pipeEvents(deps, userId, lastEventId, stop, sink, socket);
  return {
    [DIRECT_STREAM]: pipe,
    async *[Symbol.asyncIterator]() {
      const queue = new AsyncQueue<TrackedEnvelope<StreamEvent>>(LIVE_QUEUE_CAPACITY);
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      if (signal?.aborted) return;
      signal?.addEventListener('abort', onAbort, { once: true });
      const piping = pipe((id, event) => queue.push(tracked(id, event)), stop.signal).then(
        () => queue.end(),
        (error: unknown) => queue.fail(error),
      );
      try {
        yield* queue;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        stop.abort();
        await piping;
      }
    },
  };
}

/**
 * Registers for live events first, then replays what the user missed after
 * `lastEventId` from the database, then continues live, skipping what the
 * replay already gave: no gap, no duplicate. Live events that come during
 * the replay wait (at most LIVE_QUEUE_CAPACITY); after it each goes to the
 * sink as the hub delivers it. Resolves when `signal` aborts; rejects when
 * the replay fails or too many events waited.
 */
async function pipeEvents(
  deps: ApiDeps,
  userId: string,
  lastEventId: string | null | undefined,
  signal: AbortSignal,
  sink: EventSink,
  socket: SocketHandle | undefined,
): Promise<void> {
  if (signal.aborted) return;
  const { observer } = deps;
  let waiting: (LogBusEvent | EphemeralBusEvent)[] | null = [];
  let after = 0;
  const emit = (event: LogBusEvent | EphemeralBusEvent) => {
    if ('pos' in event) {
      if (event.pos <= after) return;
      after = event.pos;
      if (event.kind === 'message') observer.messageDelivered?.(event.message.created_at, 'trpc');
    }
    // Events that are never stored carry the last position, so a resume still starts there.
    sink(String(after), sharedStreamEvent(event));
  };
  let fail: (error: Error) => void = () => {};
  const ended = new Promise<void>((resolve, reject) => {
    fail = reject;
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  // Awaited once the replay is done; an overflow during it must not count as unhandled meanwhile.
  ended.catch(() => {});
  const removeListener = deps.hub.addListener({
    userId,
    deliver: (event) => {
      if (socket?.shedIfStalled()) return;
      if (waiting === null) return emit(event);
      if (waiting.length < LIVE_QUEUE_CAPACITY) waiting.push(event);
      else fail(new Error('subscriber too slow: event queue overflow'));
    },
  });
  observer.subscriptionsChanged?.(1);
  try {
    after = deps.hub.deliveredPosition;
    if (lastEventId != null) {
      after = Number(lastEventId);
      const { db } = deps.database;
      const limit = deps.settings.replayLimit;
      const backlog = await logRepository.readLogSince(db, userId, after, limit + 1);
      if (backlog.length > limit) {
        after = Math.max(deps.hub.deliveredPosition, backlog.at(-1)!.pos);
        sink(String(after), { type: 'resync' });
      } else {
        for (const entry of backlog) {
          if (signal.aborted) return;
          const event = await fromLog(db, entry);
          after = entry.pos;
          if (event) sink(String(entry.pos), event);
        }
      }
    }
    const live = waiting;
    waiting = null;
    for (const event of live) emit(event);
    await ended;
  } finally {
    observer.subscriptionsChanged?.(-1);
    removeListener();
  }
}
