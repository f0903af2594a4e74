import { ValueStore } from './store.ts';

type Markers = Readonly<Record<string, number>>;

export interface ReadMarkersOptions {
  /** Moves my read position on the server (`conversations.markRead`). */
  send(conversationId: string, seq: number): Promise<unknown>;
  /** Wait this long for more reading before telling the server. Default 500 ms. */
  debounceMs?: number;
}

/**
 * How far I have read in each conversation, as this page knows it at once:
 * the server's own position (in the conversation list) catches up a moment
 * later. Reading is told to the server debounced, and only when it moves
 * past what the server already has.
 */
export class ReadMarkers extends ValueStore<Markers> {
  readonly #send: ReadMarkersOptions['send'];
  readonly #debounceMs: number;
  /** What the server has, or is being told: no call is needed at or below it. */
  readonly #told = new Map<string, number>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor({ send, debounceMs = 500 }: ReadMarkersOptions) {
    super({});
    this.#send = send;
    this.#debounceMs = debounceMs;
  }

  /** I have seen `conversationId` up to `seq` (e.g. I sent that message from somewhere). */
  markRead(conversationId: string, seq: number): void {
    if ((this.get()[conversationId] ?? 0) >= seq) return;
    this.set({ ...this.get(), [conversationId]: seq });
  }

  /** The server has my read position at `seq` (a `read` event, or the list). */
  serverRead(conversationId: string, seq: number): void {
    this.markRead(conversationId, seq);
    if ((this.#told.get(conversationId) ?? 0) < seq) this.#told.set(conversationId, seq);
  }

  /**
   * I am reading `conversationId` up to `seq` now: it counts as read here at
   * once, and the server hears of it after a short pause.
   */
  report(conversationId: string, seq: number): void {
    this.markRead(conversationId, seq);
    if ((this.#told.get(conversationId) ?? 0) >= seq) return;
    clearTimeout(this.#timers.get(conversationId));
    this.#timers.set(
      conversationId,
      setTimeout(() => this.#flush(conversationId), this.#debounceMs),
    );
  }

  /** Stops pending calls (sign-out). */
  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #flush(conversationId: string): void {
    this.#timers.delete(conversationId);
    const seq = this.get()[conversationId] ?? 0;
    const before = this.#told.get(conversationId) ?? 0;
    if (before >= seq) return;
    this.#told.set(conversationId, seq);
    this.#send(conversationId, seq).catch(() => {
      // Not stored (offline, say): the next report tries again.
      if (this.#told.get(conversationId) === seq) this.#told.set(conversationId, before);
    });
  }
}
