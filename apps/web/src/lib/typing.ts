import { ValueStore } from './store.ts';

/** Who is typing in one conversation: user id → when their indicator expires (ms since epoch). */
export type TypingInConversation = ReadonlyMap<string, number>;
type TypingMap = ReadonlyMap<string, TypingInConversation>;

/**
 * Who is typing where. Each `typing` event shows its user until it expires
 * (`expires_in_ms`, renewed by the next event); a message from them ends it
 * at once. One timer, set for the earliest expiry, removes the stale ones.
 */
export class TypingState extends ValueStore<TypingMap> {
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super(new Map());
  }

  /** `userId` is typing in `conversationId` for the next `expiresInMs`. */
  started(conversationId: string, userId: string, expiresInMs: number, now = Date.now()): void {
    const inConversation = new Map(this.get().get(conversationId));
    inConversation.set(userId, now + Math.max(0, expiresInMs));
    this.#replace(conversationId, inConversation, now);
  }

  /** `userId` stopped typing in `conversationId` (their message arrived). */
  stopped(conversationId: string, userId: string, now = Date.now()): void {
    const current = this.get().get(conversationId);
    if (!current?.has(userId)) return;
    const inConversation = new Map(current);
    inConversation.delete(userId);
    this.#replace(conversationId, inConversation, now);
  }

  /** Drops indicators that expired by `now`. */
  prune(now = Date.now()): void {
    let changed = false;
    const next = new Map<string, TypingInConversation>();
    for (const [conversationId, users] of this.get()) {
      const live = new Map([...users].filter(([, expiresAt]) => expiresAt > now));
      if (live.size !== users.size) changed = true;
      if (live.size > 0) next.set(conversationId, live.size === users.size ? users : live);
    }
    if (changed) this.set(next);
    this.#schedule(now);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #replace(conversationId: string, users: Map<string, number>, now: number): void {
    const next = new Map(this.get());
    if (users.size > 0) next.set(conversationId, users);
    else next.delete(conversationId);
    this.set(next);
    this.#schedule(now);
  }

  #schedule(now: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let earliest = Number.POSITIVE_INFINITY;
    for (const users of this.get().values())
      for (const at of users.values()) earliest = Math.min(earliest, at);
    if (earliest === Number.POSITIVE_INFINITY) return;
    this.#timer = setTimeout(() => this.prune(), Math.max(0, earliest - now));
  }
}

/** Who is typing, in the order they started, leaving me out. */
export function typingUserIds(users: TypingInConversation | undefined, myId: string): string[] {
  return users ? [...users.keys()].filter((id) => id !== myId) : [];
}

/** "Bob is typing…", "Bob and Carol are typing…", "Several people are typing…"; null when no one is. */
export function describeTyping(names: readonly string[]): string | null {
  const [first, second] = names;
  if (first === undefined) return null;
  if (second === undefined) return `${first} is typing…`;
  if (names.length === 2) return `${first} and ${second} are typing…`;
  return 'Several people are typing…';
}
