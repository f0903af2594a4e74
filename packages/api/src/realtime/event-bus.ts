import type { OfEventKinds } from '@pneumatic/db';
import type { PublicUser } from '../schemas/common.ts';
import type { Conversation } from '../schemas/conversations.schema.ts';
import type { Message, MessageReactions } from '../schemas/messages.schema.ts';

/**
 * A notification that something was committed. The database stays the log:
 * a lost notification costs a replay from it, never data. Every committed
 * log position is announced exactly once, by the instance that committed it.
 */
export type BusEvent = OfEventKinds<
  LogBusEvent | EphemeralBusEvent | { kind: 'session_revoked'; session_id: string; user_id: string }
>;

/** Events at a log position: delivered in order, replayed on resume. */
export type LogBusEvent = OfEventKinds<
  | { kind: 'message'; pos: number; recipients: string[]; message: Message }
  | { kind: 'message_updated'; pos: number; recipients: string[]; message: Message }
  | { kind: 'conversation'; pos: number; recipients: string[]; conversation: Conversation }
  | ({ kind: 'reaction'; pos: number; recipients: string[] } & MessageReactions)
>;

/** Events never stored: delivered at once to whoever is connected, lost otherwise. */
export type EphemeralBusEvent = OfEventKinds<
  | { kind: 'read'; recipients: string[]; conversation_id: string; user_id: string; last_read_seq: number }
  | { kind: 'typing'; recipients: string[]; conversation_id: string; user_id: string; expires_in_ms: number }
  /** Goes to the people who share a conversation with the user. */
  | { kind: 'presence'; recipients: string[]; user_id: string; online: boolean }
  /** Goes to the muting user only (their other devices): another member's mute is never told. */
  | { kind: 'mute'; recipients: string[]; conversation_id: string; muted: boolean }
  /** Goes to the user's contacts and their own devices. */
  | { kind: 'user'; recipients: string[]; user: PublicUser }
>;

export type BusHandler = (event: BusEvent) => void;

export interface EventBus {
  /** Announces a committed event to every instance, this one included. Never throws. */
  publish(event: BusEvent): void;
  /** Registers a handler for every announced event; returns the unsubscribe function. */
  subscribe(handler: BusHandler): () => void;
  close(): Promise<void>;
}

/** The single-instance bus: handlers run synchronously in publish order. */
export class InProcessEventBus implements EventBus {
  readonly #handlers = new Set<BusHandler>();
  #onHandlerError: (error: unknown) => void;

  constructor(onHandlerError: (error: unknown) => void = () => {}) {
    this.#onHandlerError = onHandlerError;
  }

  publish(event: BusEvent): void {
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (error) {
        this.#onHandlerError(error);
      }
    }
  }

  subscribe(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
  }
}
