import { ValueStore } from './store.ts';

type Markers = Readonly<Record<string, number>>;

/**
 * How far I have read in each conversation, kept in this browser. The server
 * has a read position per member but no call that moves it yet.
 */
export class ReadMarkers extends ValueStore<Markers> {
  readonly #key: string;

  constructor(userId: string) {
    const key = `pneumatic.read.${userId}`;
    super(load(key));
    this.#key = key;
  }

  /** Records that I have seen `conversationId` up to `seq`. */
  markRead(conversationId: string, seq: number): void {
    if ((this.get()[conversationId] ?? 0) >= seq) return;
    this.set({ ...this.get(), [conversationId]: seq });
    try {
      localStorage.setItem(this.#key, JSON.stringify(this.get()));
    } catch {
      // Storage full or unavailable: the marker still holds for this page's life.
    }
  }
}

function load(key: string): Markers {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(key) ?? '{}');
    if (typeof value !== 'object' || value === null) return {};
    return Object.fromEntries(
      Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
    );
  } catch {
    return {};
  }
}
