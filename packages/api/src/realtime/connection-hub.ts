import type { BusEvent, EphemeralBusEvent, EventBus, LogBusEvent } from './event-bus.ts';
import { Groups } from './groups.ts';

/** One live delivery target of a user: a tRPC subscription or a legacy socket. */
export interface Listener {
  readonly userId: string;
  deliver(event: LogBusEvent | EphemeralBusEvent): void;
}

/** Fetches committed log events with positions in [from, to], in order, with their recipients. */
export type LogReader = (from: number, to: number) => Promise<LogBusEvent[]>;

export interface HubOptions {
  /** Position of the last committed event when the hub starts. */
  startAfter: number;
  readLog: LogReader;
  /** The last committed position in the database. */
  readHead: () => Promise<number>;
  /** How long an out-of-order event waits for the ones before it before they are read from the database. Default 100 ms. */
  gapTimeoutMs?: number;
  /**
   * How often to compare with the database head and deliver anything the bus
   * lost (Redis pub/sub delivers at most once). 0, the default, never does.
   */
  catchUpIntervalMs?: number;
  /** Told when a user's first listener on this instance arrives and when their last one leaves. */
  presence?: { connected(userId: string): void; disconnected(userId: string): void };
  onError?: (error: unknown) => void;
}

/** Most log positions read from the database in one go while catching up. */
const FILL_CHUNK = 1000;
/** Conversations whose recent leavers are remembered (least recently changed forgotten first). */
const DEPARTED_CAPACITY = 10_000;

/**
 * Holds this instance's live connections per user and hands each committed
 * event to the connections of its recipients, in log order. Events can be
 * announced out of order (two commits racing to publish); the hub holds a
 * later one until the earlier positions arrive, or reads them from the
 * database after a short wait, so every listener sees positions ascending.
 */
export class ConnectionHub {
  readonly #byUser = new Groups<string, Listener>();
  readonly #pending = new Map<number, LogBusEvent>();
  /**
   * Per conversation, who left or was removed at its last membership change.
   * An event after that change is never handed to them, even when another
   * instance addressed it before it heard of the change (its member cache
   * lags the bus): delivery is in log order, so the change is known first.
   */
  readonly #departed = new Map<string, ReadonlySet<string>>();
  readonly #options: Required<Omit<HubOptions, 'presence'>> & Pick<HubOptions, 'presence'>;
  #delivered: number;
  #gapTimer: NodeJS.Timeout | undefined;
  #filling = false;
  #catchUpTimer: NodeJS.Timeout | undefined;
  readonly #unsubscribe: () => void;

  constructor(bus: EventBus, options: HubOptions) {
    this.#options = { gapTimeoutMs: 100, catchUpIntervalMs: 0, onError: () => {}, ...options };
    this.#delivered = options.startAfter;
    this.#unsubscribe = bus.subscribe((event) => this.#receive(event));
    if (this.#options.catchUpIntervalMs > 0) {
      this.#catchUpTimer = setInterval(
        () => void this.catchUp().catch(this.#options.onError),
        this.#options.catchUpIntervalMs,
      );
      this.#catchUpTimer.unref();
    }
  }

  /** The last position handed to listeners; everything up to it is committed. */
  get deliveredPosition(): number {
    return this.#delivered;
  }

  /** Hands the user's events to `listener` from now on; returns its removal (or call removeListener). */
  addListener(listener: Listener): () => void {
    if (this.#byUser.add(listener.userId, listener) === 1) this.#options.presence?.connected(listener.userId);
    return () => this.removeListener(listener);
  }

  /** Stops handing events to `listener`; nothing happens if it is not there. */
  removeListener(listener: Listener): void {
    if (this.#byUser.delete(listener.userId, listener) === 0)
      this.#options.presence?.disconnected(listener.userId);
  }

  listenerCount(userId?: string): number {
    return userId === undefined ? this.#byUser.count() : this.#byUser.get(userId).length;
  }

  close(): void {
    this.#unsubscribe();
    clearTimeout(this.#gapTimer);
    clearInterval(this.#catchUpTimer);
  }

  #receive(event: BusEvent): void {
    // Sockets of a revoked login are the socket host's (it closes them).
    if (event.kind === 'session_revoked') return;
    // Never stored (read, typing, presence, mute): at once, to whoever of the recipients is connected.
    if (!('pos' in event)) {
      for (const userId of event.recipients) {
        for (const listener of this.#byUser.get(userId)) this.#hand(listener, event);
      }
      return;
    }
    if (event.pos <= this.#delivered) return;
    if (event.pos === this.#delivered + 1 && !this.#filling) {
      this.#dispatch(event);
      this.#drainPending();
      return;
    }
    this.#pending.set(event.pos, event);
    this.#gapTimer ??= setTimeout(() => void this.#fillGap(), this.#options.gapTimeoutMs);
  }

  #dispatch(event: LogBusEvent): void {
    this.#delivered = event.pos;
    let departed: ReadonlySet<string> | undefined;
    if (event.kind === 'conversation')
      this.#noteDeparted(event.conversation.id, event.recipients, event.conversation.members);
    else
      departed = this.#departed.get(
        event.kind === 'reaction' ? event.conversation_id : event.message.conversation_id,
      );
    for (const userId of event.recipients) {
      if (departed?.has(userId)) continue;
      for (const listener of this.#byUser.get(userId)) this.#hand(listener, event);
    }
  }

  /** Remembers who of a conversation event's recipients is no longer a member (who left or was removed). */
  #noteDeparted(conversationId: string, recipients: string[], members: string[]): void {
    this.#departed.delete(conversationId);
    if (recipients.length <= members.length) return;
    const current = new Set(members);
    if (this.#departed.size >= DEPARTED_CAPACITY) this.#departed.delete(this.#departed.keys().next().value!);
    this.#departed.set(conversationId, new Set(recipients.filter((id) => !current.has(id))));
  }

  #hand(listener: Listener, event: LogBusEvent | EphemeralBusEvent): void {
    try {
      listener.deliver(event);
    } catch (error) {
      this.#options.onError(error);
    }
  }

  #drainPending(): void {
    for (
      let next = this.#pending.get(this.#delivered + 1);
      next;
      next = this.#pending.get(this.#delivered + 1)
    ) {
      this.#pending.delete(next.pos);
      this.#dispatch(next);
    }
    for (const pos of this.#pending.keys()) if (pos <= this.#delivered) this.#pending.delete(pos);
    if (this.#pending.size === 0) {
      clearTimeout(this.#gapTimer);
      this.#gapTimer = undefined;
    }
  }

  /**
   * Delivers, from the database, everything committed that the bus did not
   * bring: after the bus was away, events of other instances went missing.
   */
  async catchUp(): Promise<void> {
    const head = await this.#options.readHead();
    if (head > this.#delivered) await this.#fillTo(head);
  }

  /** Reads the missing positions from the database; a commit at p means all below p are committed. */
  async #fillGap(): Promise<void> {
    this.#gapTimer = undefined;
    if (this.#pending.size === 0) return;
    await this.#fillTo(Math.min(...this.#pending.keys()) - 1);
  }

  async #fillTo(upTo: number): Promise<void> {
    if (this.#filling) return;
    this.#filling = true;
    try {
      while (upTo > this.#delivered) {
        const to = Math.min(upTo, this.#delivered + FILL_CHUNK);
        for (const event of await this.#options.readLog(this.#delivered + 1, to)) {
          if (event.pos > this.#delivered) this.#dispatch(event);
        }
        // Positions the database no longer holds (deleted since) are skipped.
        this.#delivered = Math.max(this.#delivered, to);
      }
    } catch (error) {
      this.#options.onError(error);
    } finally {
      this.#filling = false;
    }
    this.#drainPending();
    if (this.#pending.size > 0)
      this.#gapTimer ??= setTimeout(() => void this.#fillGap(), this.#options.gapTimeoutMs);
  }
}
