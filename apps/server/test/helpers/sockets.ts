import type { AppRouter } from '@pneumatic/api';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import WebSocket from 'ws';

/** Collects what arrives and lets a test wait for a condition on it. */
export class Inbox<T> {
  readonly items: T[] = [];
  #waiters: Array<() => void> = [];

  push(item: T): void {
    this.items.push(item);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `predicate(items)` holds; rejects after `timeoutMs`. */
  async until(predicate: (items: T[]) => boolean, timeoutMs = 5000): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.items)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out; have ${this.items.length}: ${JSON.stringify(this.items).slice(0, 500)}`);
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

  count(n: number, timeoutMs?: number) {
    return this.until((items) => items.length >= n, timeoutMs);
  }
}

export interface StreamItem {
  id: string;
  data: {
    type: string;
    message?: { id: string; content: string; seq: number };
    conversation?: { id: string; members?: string[]; roles?: Record<string, string> };
  };
}

/** A typed tRPC client with its own WebSocket, authenticated with `token`. */
export function trpcClient(baseUrl: string, token: string, options: { allOverSocket?: boolean } = {}) {
  const closes = new Inbox<{ code: number; reason: string }>();
  const opens = new Inbox<true>();
  const wsClient = createWSClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/trpc`,
    WebSocket: WebSocket as never,
    connectionParams: () => ({ token }),
    retryDelayMs: () => 50,
    onOpen: () => opens.push(true),
    onClose: (cause) =>
      closes.push({ code: cause?.code ?? 0, reason: (cause as { reason?: string })?.reason ?? '' }),
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => options.allOverSocket === true || op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({
          url: `${baseUrl}/trpc`,
          headers: () => ({ authorization: `Bearer ${token}` }),
        }),
      }),
    ],
  });

  /** Subscribes to the event stream; events land in the returned inbox. */
  /** Presence events go to everyone connected; tests about them ask for them. */
  function stream(lastEventId?: string, options: { presence?: boolean } = {}) {
    const events = new Inbox<StreamItem>();
    const errors = new Inbox<unknown>();
    const started = new Inbox<true>();
    const sub = client.events.stream.subscribe(lastEventId === undefined ? {} : { lastEventId }, {
      onStarted: () => started.push(true),
      onData: (item) => {
        const event = item as unknown as StreamItem;
        if (event.data.type !== 'presence' || options.presence) events.push(event);
      },
      onError: (error) => errors.push(error),
    });
    return { events, errors, started, unsubscribe: () => sub.unsubscribe() };
  }

  return { client, wsClient, stream, closes, opens, close: () => wsClient.close() };
}

/** A raw legacy `/ws` socket that records frames and its close. */
export async function legacySocket(baseUrl: string, query = '', headers: Record<string, string> = {}) {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws${query}`, { headers });
  const frames = new Inbox<any>();
  const closed = new Inbox<{ code: number; reason: string }>();
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  ws.on('close', (code, reason) => closed.push({ code, reason: reason.toString() }));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const send = (frame: unknown) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  return {
    ws,
    frames,
    closed,
    send,
    /** Resolves once the server has checked the token: frames are answered only after that. */
    async authenticated() {
      const before = frames.items.length;
      send({ type: 'probe' });
      await frames.until((items) => items.slice(before).some((f) => f.reason === 'unknown type'));
      const index = frames.items.findIndex((f, i) => i >= before && f.reason === 'unknown type');
      frames.items.splice(index, 1);
    },
  };
}

export function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
