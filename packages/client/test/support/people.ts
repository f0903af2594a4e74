import WebSocket from 'ws';
import {
  createPneumaticClient,
  type EventsOptions,
  type PneumaticClient,
  type PneumaticClientOptions,
  type StreamEventWithId,
} from '../../src/index.ts';

export const PASSWORD = 'a long enough password';

let counter = 0;

/** A unique username per call, so tests sharing one server never collide. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}_${process.pid}`;
}

/** A new account, logged in with a client of its own (Node: `ws` for the socket). */
export async function signUp(
  url: string,
  prefix: string,
  options: Partial<PneumaticClientOptions> = {},
): Promise<PneumaticClient & { username: string }> {
  const username = uniqueName(prefix);
  const client = createPneumaticClient({ url, WebSocket, reconnectDelayMs: () => 100, ...options });
  await client.signup({ username, password: PASSWORD, full_name: prefix });
  await client.login({ username, password: PASSWORD });
  return Object.assign(client, { username });
}

/** Collects what an async iterator yields in the background, to wait for a given count. */
export class Collector<T> {
  readonly items: T[] = [];
  error: unknown = null;
  readonly done: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(iterator: AsyncIterable<T>) {
    this.done = (async () => {
      try {
        for await (const item of iterator) {
          this.items.push(item);
          this.#wake();
        }
      } catch (error) {
        this.error = error;
      } finally {
        this.#wake();
      }
    })();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Resolves once `predicate` holds for the items, or fails after `timeoutMs`. */
  async until(predicate: (items: T[]) => boolean, timeoutMs = 15_000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.items)) {
      if (this.error) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${JSON.stringify(this.items, null, 1).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.items;
  }
}

/** Starts `client.events()` and resolves once the stream is live, so nothing after this is missed. */
export async function liveEvents(
  client: PneumaticClient,
  options: EventsOptions = {},
): Promise<Collector<StreamEventWithId>> {
  let started!: () => void;
  const live = new Promise<void>((resolve) => {
    started = resolve;
  });
  const collector = new Collector(client.events({ ...options, onStarted: started }));
  await Promise.race([
    live,
    collector.done.then(() => Promise.reject(collector.error ?? new Error('ended'))),
  ]);
  return collector;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
