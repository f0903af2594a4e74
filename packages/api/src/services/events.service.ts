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
import type { Listener } from '../realtime/connection-hub.ts';
import type { EphemeralBusEvent, LogBusEvent } from '../realtime/event-bus.ts';
import { keep, keptOn } from '../realtime/serialized-once.ts';
import type { StreamEvent } from '../schemas/events.schema.ts';
import { loadConversation } from './conversations.service.ts';
import { reactionsOf } from './reactions.service.ts';
import { toMessage } from './views.ts';

/** Events a live subscriber may have waiting before it is cut off as too slow. */
const LIVE_QUEUE_CAPACITY = 10_000;

/**
 * One StreamEvent object per bus event, shared by every subscriber and
 * socket it goes to, so that the socket layer can serialize it once (see
 * serializedOnce; it must never be changed after it is made).
 */
const STREAM_EVENT = Symbol('stream event');

export function sharedStreamEvent(event: LogBusEvent | EphemeralBusEvent): StreamEvent {
  return keptOn<StreamEvent>(event, STREAM_EVENT) ?? keep(event, STREAM_EVENT, toStreamEvent(event));
}

function toStreamEvent(event: LogBusEvent | EphemeralBusEvent): StreamEvent {
  switch (event.kind) {
    case 'message':
      return { type: 'message', message: event.message };
    case 'message_updated':
      return { type: 'message_updated', message: event.message };
    case 'conversation':
      return { type: 'conversation', conversation: event.conversation };
    case 'reaction':
      return {
        type: 'reaction',
        conversation_id: event.conversation_id,
        message_id: event.message_id,
        reactions: event.reactions,
      };
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
    case 'mute':
      return { type: 'mute', conversation_id: event.conversation_id, muted: event.muted };
    case 'user':
      return { type: 'user', user: event.user };
  }
}

/** Turns log entries into stream events with the current state; what is gone since is left out. */
async function fromLog(db: Executor, entry: LogEntry): Promise<StreamEvent | null> {
  if (entry.kind === 'message') return { type: 'message', message: toMessage(entry.message) };
  if (entry.kind === 'message_updated') {
    const row = entry.subject_id ? await messagesRepository.findMessageById(db, entry.subject_id) : undefined;
    return row ? { type: 'message_updated', message: toMessage(row) } : null;
  }
  if (entry.kind === 'reaction') {
    const row = entry.subject_id ? await messagesRepository.findMessageById(db, entry.subject_id) : undefined;
    return row ? { type: 'reaction', ...reactionsOf(row) } : null;
  }
  const row = await conversationsRepository.findConversation(db, entry.conversation_id);
  return row ? { type: 'conversation', conversation: await loadConversation(db, row) } : null;
}

/**
 * Where a stream's direct form delivers: each tracked event (its id is the
 * position to resume after), then, only if the stream fails by itself (the
 * replay failed, or the subscriber fell too far behind), `end` with why.
 */
export interface EventSink {
  event(eventId: string, event: StreamEvent): void;
  end(error: Error): void;
}

/** A running direct stream; `stop` unregisters it (idempotent; no `end` follows). */
export interface StreamHandle {
  stop(): void;
}

/** Where a host that writes to sockets itself finds a stream's direct form (see EventStream). */
export const DIRECT_STREAM = Symbol.for('pneumatic.directStream');

/**
 * The user's event stream, in two forms over one implementation: an async
 * iterable of tracked events (what tRPC's own adapters iterate), and
 * `[DIRECT_STREAM](sink)`, which hands each live event to `sink` the moment
 * the hub delivers it, with no iterator step, promise or envelope per
 * subscriber and event, and nothing suspended while it waits: the form the
 * server's socket handler uses.
 */
export interface EventStream extends AsyncIterable<TrackedEnvelope<StreamEvent>> {
  [DIRECT_STREAM](sink: EventSink): StreamHandle;
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
  return {
    [DIRECT_STREAM]: (sink) => new LiveFeed(deps, userId, sink, socket).start(lastEventId),
    async *[Symbol.asyncIterator]() {
      if (signal?.aborted) return;
      const queue = new AsyncQueue<TrackedEnvelope<StreamEvent>>(LIVE_QUEUE_CAPACITY);
      const feed = new LiveFeed(
        deps,
        userId,
        { event: (id, event) => queue.push(tracked(id, event)), end: (error) => queue.fail(error) },
        socket,
      ).start(lastEventId);
      const onAbort = () => queue.end();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        yield* queue;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        feed.stop();
      }
    },
  };
}

/**
 * One subscriber's feed: registered for live events first, then it replays
 * what the user missed after `lastEventId` from the database, then goes on
 * live, skipping what the replay already gave: no gap, no duplicate. Live
 * events that come during the replay wait (at most LIVE_QUEUE_CAPACITY);
 * after it each goes to the sink as the hub delivers it. It is itself the
 * hub's listener: a live subscription is this one object.
 */
class LiveFeed implements Listener, StreamHandle {
  /** Live events held while the replay runs; null once it is done. */
  #waiting: (LogBusEvent | EphemeralBusEvent)[] | null = [];
  /** The last position handed on. */
  #after = 0;
  #stopped = false;

  constructor(
    private readonly deps: ApiDeps,
    readonly userId: string,
    private readonly sink: EventSink,
    private readonly socket: SocketHandle | undefined,
  ) {}

  start(lastEventId: string | null | undefined): this {
    this.deps.hub.addListener(this);
    this.deps.observer.subscriptionsChanged?.(1);
    this.#after = this.deps.hub.deliveredPosition;
    this.#replay(lastEventId).then(
      () => this.#goLive(),
      (error: unknown) => this.#fail(error instanceof Error ? error : new Error(String(error))),
    );
    return this;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#waiting = null;
    this.deps.hub.removeListener(this);
    this.deps.observer.subscriptionsChanged?.(-1);
  }

  deliver(event: LogBusEvent | EphemeralBusEvent): void {
    if (this.socket?.shedIfStalled()) return;
    const waiting = this.#waiting;
    if (waiting === null) this.#emit(event);
    else if (waiting.length < LIVE_QUEUE_CAPACITY) waiting.push(event);
    else this.#fail(new Error('subscriber too slow: event queue overflow'));
  }

  async #replay(lastEventId: string | null | undefined): Promise<void> {
    if (lastEventId == null) return;
    const { db } = this.deps.database;
    const limit = this.deps.settings.replayLimit;
    const from = Number(lastEventId);
    this.#after = from;
    const [backlog, prunedThrough] = await Promise.all([
      logRepository.readLogSince(db, this.userId, from, limit + 1),
      logRepository.readPrunedThrough(db),
    ]);
    if (this.#stopped) return;
    // Too much to replay, or events it would need were pruned (see `prune`).
    if (backlog.length > limit || from < prunedThrough) {
      this.#after = Math.max(this.deps.hub.deliveredPosition, backlog.at(-1)?.pos ?? 0);
      this.sink.event(String(this.#after), { type: 'resync' });
      return;
    }
    for (const entry of backlog) {
      const event = await fromLog(db, entry);
      if (this.#stopped) return;
      this.#after = entry.pos;
      if (event) this.sink.event(String(entry.pos), event);
    }
  }

  #goLive(): void {
    const live = this.#waiting;
    if (this.#stopped || live === null) return;
    this.#waiting = null;
    for (const event of live) {
      if (this.#stopped) return;
      this.#emit(event);
    }
  }

  #emit(event: LogBusEvent | EphemeralBusEvent): void {
    if ('pos' in event) {
      if (event.pos <= this.#after) return;
      this.#after = event.pos;
      if (event.kind === 'message') this.deps.observer.messageDelivered?.(event.message.created_at, 'trpc');
    }
    // Events that are never stored carry the last position, so a resume still starts there.
    this.sink.event(String(this.#after), sharedStreamEvent(event));
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.stop();
    this.sink.end(error);
  }
}
