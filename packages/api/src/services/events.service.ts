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

/**
 * The user's event stream. It registers for live events first, then replays
 * what the user missed after `lastEventId` from the database, then continues
 * live, skipping what the replay already gave: no gap, no duplicate.
 */
export async function* streamEvents(
  deps: ApiDeps,
  userId: string,
  lastEventId: string | null | undefined,
  signal: AbortSignal | undefined,
  socket?: SocketHandle,
): AsyncGenerator<TrackedEnvelope<StreamEvent>> {
  const queue = new AsyncQueue<LogBusEvent | EphemeralBusEvent>(LIVE_QUEUE_CAPACITY);
  const removeListener = deps.hub.addListener({
    userId,
    deliver: (event) => {
      if (!socket?.shedIfStalled()) queue.push(event);
    },
  });
  const onAbort = () => queue.end();
  signal?.addEventListener('abort', onAbort, { once: true });
  const { observer } = deps;
  observer.subscriptionsChanged?.(1);
  try {
    let after = deps.hub.deliveredPosition;
    if (lastEventId != null) {
      after = Number(lastEventId);
      const { db } = deps.database;
      const limit = deps.settings.replayLimit;
      const backlog = await logRepository.readLogSince(db, userId, after, limit + 1);
      if (backlog.length > limit) {
        after = Math.max(deps.hub.deliveredPosition, backlog.at(-1)!.pos);
        yield tracked(String(after), { type: 'resync' });
      } else {
        for (const entry of backlog) {
          const event = await fromLog(db, entry);
          after = entry.pos;
          if (event) yield tracked(String(entry.pos), event);
        }
      }
    }
    for await (const event of queue) {
      if ('pos' in event) {
        if (event.pos <= after) continue;
        after = event.pos;
        if (event.kind === 'message') observer.messageDelivered?.(event.message.created_at, 'trpc');
      }
      // Events that are never stored carry the last position, so a resume still starts there.
      yield tracked(String(after), sharedStreamEvent(event));
    }
  } finally {
    observer.subscriptionsChanged?.(-1);
    removeListener();
    signal?.removeEventListener('abort', onAbort);
    queue.end();
  }
}
