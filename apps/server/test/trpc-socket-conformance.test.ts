/**
 * The server's own /trpc socket handler (src/trpc-socket.ts) against tRPC's
 * WebSocket adapter, over the same router, services and database: the same
 * client frames must get the same answers, and the unmodified @trpc/client
 * must work the same with both.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  type AppRouter,
  appRouter,
  authenticate,
  createContextFactory,
  socketIdentity,
} from '@pneumatic/api';
import { createTRPCClient, createWSClient, TRPCClientError, wsLink } from '@trpc/client';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { MAX_BATCH_SIZE, MAX_SUBSCRIPTIONS_PER_SOCKET } from '../src/sockets/socket-limits.ts';
import { useChatFixture } from './helpers/chat-fixture.ts';
import { Inbox, type StreamItem } from './helpers/sockets.ts';

/** A frame as compared: error stacks (where each implementation threw) left out. */
function normalized(frame: string): string {
  if (frame === 'PONG') return frame;
  const message = JSON.parse(frame) as { error?: { data?: { stack?: string } } };
  if (message.error?.data) delete message.error.data.stack;
  return JSON.stringify(message);
}

/** A raw socket that keeps every frame it gets, and its close. */
async function rawSocket(url: string) {
  const ws = new WebSocket(url);
  const frames = new Inbox<string>();
  const closes = new Inbox<number>();
  ws.on('message', (data) => frames.push(String(data)));
  ws.on('close', (code) => closes.push(code));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, frames, closes };
}

describe('the /trpc socket handler, next to tRPC’s own adapter', () => {
  const f = useChatFixture('sqlite');
  let stock: WebSocketServer;
  let stockUrl: string;
  let ours: string;

  beforeAll(async () => {
    const { deps } = f.t.server;
    const createContext = createContextFactory(deps);
    stock = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => stock.once('listening', resolve));
    applyWSSHandler({
      wss: stock,
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      async createContext({ info }) {
        const token = info.connectionParams?.token;
        const auth = await authenticate(deps, typeof token === 'string' ? token : null);
        return createContext(socketIdentity(auth), {
          ip: '127.0.0.1',
          socket: { userId: auth.user.id, shedIfStalled: () => false },
        });
      },
    });
    stockUrl = `ws://127.0.0.1:${(stock.address() as AddressInfo).port}`;
    ours = `${f.t.wsUrl}/trpc`;
  });
  afterAll(async () => {
    for (const client of stock.clients) client.terminate();
    await new Promise((resolve) => stock.close(resolve));
  });

  /**
   * Runs the same steps on a socket to each implementation, side by side: each
   * step sends a frame (or does something else) and waits for as many frames as
   * it says; the frames each got in that step must be the same.
   */
  async function sideBySide(
    query: string,
    steps: Array<{
      send?: unknown;
      raw?: string;
      act?: () => Promise<unknown>;
      frames: number;
      why: string;
      /** Where tRPC's adapter has no such rule: the frames ours must answer instead. */
      ours?: string[];
    }>,
  ) {
    const sockets = [await rawSocket(`${ours}${query}`), await rawSocket(`${stockUrl}${query}`)];
    try {
      for (const step of steps) {
        const before = sockets.map((s) => s.frames.items.length);
        for (const s of sockets) {
          if (step.raw !== undefined) s.ws.send(step.raw);
          else if (step.send !== undefined) s.ws.send(JSON.stringify(step.send));
        }
        await step.act?.();
        const got = await Promise.all(
          sockets.map(async (s, i) => {
            await s.frames.count(before[i]! + step.frames);
            // Nothing more comes for this step.
            await new Promise((resolve) => setTimeout(resolve, 30));
            // Calls of one batch answer in whatever order they finish: compared as sets.
            return s.frames.items.slice(before[i]).map(normalized).sort();
          }),
        );
        expect(got[0], `${step.why}: ours`).toHaveLength(step.frames);
        expect(got[0], step.why).toEqual(step.ours ? step.ours.map(normalized).sort() : got[1]);
      }
      return sockets;
    } finally {
      for (const s of sockets) s.ws.close();
    }
  }

  it('answers calls, batches, bad frames and subscriptions frame for frame as tRPC does', async () => {
    const token = f.alice.token;
    /** A send both implementations get alike: one of them stores it, the other repeats it. */
    const send = (content: string) => ({ message_id: randomUUID(), conversation_id: f.chat, content });
    const [mine] = await sideBySide('?connectionParams=1', [
      { send: { method: 'connectionParams', data: { token } }, frames: 0, why: 'connectionParams' },
      { send: { id: 1, method: 'query', params: { path: 'auth.me' } }, frames: 1, why: 'a query' },
      {
        send: { id: 'two', jsonrpc: '2.0', method: 'query', params: { path: 'conversations.list' } },
        frames: 1,
        why: 'a string id and jsonrpc',
      },
      {
        send: [
          { id: 3, method: 'query', params: { path: 'conversations.list' } },
          { id: 4, method: 'query', params: { path: 'no.such.procedure' } },
          { id: 5, method: 'mutation', params: { path: 'messages.send', input: { conversation_id: 'x' } } },
        ],
        frames: 3,
        why: 'a batch with an unknown procedure and bad input',
      },
      { raw: 'not json', frames: 1, why: 'a frame that is not JSON' },
      { send: { id: 6, method: 'dance', params: {} }, frames: 1, why: 'an unknown method' },
      { send: { id: null, method: 'query', params: { path: 'auth.me' } }, frames: 1, why: 'no id' },
      {
        send: Array.from({ length: MAX_BATCH_SIZE + 1 }, (_, i) => ({
          id: 100 + i,
          method: 'query',
          params: { path: 'auth.me' },
        })),
        frames: MAX_BATCH_SIZE + 1,
        why: 'a batch past the limit',
        // tRPC 11.19's adapter limits batches over HTTP only: each call is refused as HTTP refuses one.
        ours: Array.from(
          { length: MAX_BATCH_SIZE + 1 },
          (_, i) =>
            `{"id":${100 + i},"error":{"message":"Batch call exceeds maximum size","code":-32600,"data":{"code":"BAD_REQUEST","httpStatus":400,"zodError":null}}}`,
        ),
      },
      { raw: 'PING', frames: 1, why: 'PING' },
      { raw: 'PONG', frames: 0, why: 'PONG' },
      {
        send: { id: 10, method: 'subscription', params: { path: 'events.stream', input: {} } },
        frames: 1,
        why: 'a subscription starts',
      },
      {
        send: { id: 10, method: 'subscription', params: { path: 'events.stream', input: {} } },
        frames: 1,
        why: 'a subscription id in use',
      },
      {
        act: () => f.api.send(token, f.alice.id, f.chat, 'to both'),
        frames: 1,
        why: 'a live event',
      },
      { send: { id: 10, method: 'subscription.stop' }, frames: 1, why: 'stopped' },
      {
        send: {
          id: 11,
          method: 'subscription',
          params: { path: 'events.stream', input: { lastEventId: '0' } },
        },
        frames: 1 + 1 + 1,
        why: 'a resume replays (the chat created, the message)',
      },
      { send: { id: 11, method: 'subscription.stop' }, frames: 1, why: 'the resumed one stopped' },
      {
        send: {
          id: 12,
          method: 'subscription',
          params: { path: 'events.stream', input: { lastEventId: 7 } },
        },
        frames: 1,
        why: 'a subscription with bad input',
      },
      {
        send: { id: 13, method: 'query', params: { path: 'events.stream', input: {} } },
        frames: 1,
        why: 'a subscription called as a query',
      },
      // messages.send runs without tRPC's middleware chain on our side (direct-calls.ts).
      {
        send: { id: 14, method: 'mutation', params: { path: 'messages.send', input: send('sent by both') } },
        frames: 1,
        why: 'a send (stored once; the second is a repeat and answers the same message)',
      },
      {
        send: [
          { id: 15, method: 'mutation', params: { path: 'messages.send', input: send('batched') } },
          {
            id: 16,
            method: 'mutation',
            params: { path: 'messages.send', input: { ...send('x'), content: '' } },
          },
          {
            id: 17,
            method: 'mutation',
            params: { path: 'messages.send', input: { ...send('x'), conversation_id: randomUUID() } },
          },
          {
            id: 18,
            method: 'mutation',
            params: { path: 'messages.send', input: { ...send('x'), extra: 1 } },
          },
        ],
        frames: 4,
        why: 'sends in a batch: stored, empty, an unknown conversation, an unknown field',
      },
      {
        send: { id: 19, method: 'query', params: { path: 'messages.send' } },
        frames: 1,
        why: 'a send called as a query',
      },
      {
        send: { id: 20, method: 'mutation', params: { path: 'messages.send', input: 'text' } },
        frames: 1,
        why: 'a send whose input is not an object',
      },
    ]);
    // And it is the frame any JSON encoder would write for the event.
    const event = mine!.frames.items.find((frame) => frame.includes('to both'))!;
    expect(event).toBe(JSON.stringify(JSON.parse(event)));
    expect(JSON.parse(event)).toMatchObject({
      id: 10,
      result: { type: 'data', data: { data: { type: 'message' } } },
    });
  });

  it('refuses a socket without a valid token the same way, and closes it', async () => {
    for (const [query, first] of [
      ['', undefined],
      ['?connectionParams=1', JSON.stringify({ method: 'connectionParams', data: { token: 'forged' } })],
      ['?connectionParams=1', '[1,2'],
      ['?connectionParams=1', JSON.stringify({ method: 'connectionParams', data: 'not params' })],
    ] as const) {
      const got = await Promise.all(
        [ours, stockUrl].map(async (url) => {
          const s = await rawSocket(`${url}${query}`);
          if (first !== undefined) s.ws.send(first);
          await s.closes.count(1);
          return s.frames.items.map(normalized);
        }),
      );
      expect(got[0], `${query} ${first}`).toHaveLength(1);
      expect(got[0], `${query} ${first}`).toEqual(got[1]);
    }
  });

  it('(ours only) caps the subscriptions one socket holds', async () => {
    const s = await rawSocket(`${ours}?connectionParams=1`);
    const subscribe = (id: number) =>
      s.ws.send(JSON.stringify({ id, method: 'subscription', params: { path: 'events.stream', input: {} } }));
    s.ws.send(JSON.stringify({ method: 'connectionParams', data: { token: f.alice.token } }));
    for (let id = 1; id <= MAX_SUBSCRIPTIONS_PER_SOCKET + 1; id++) subscribe(id);
    const frames = async (n: number) => (await s.frames.count(n)).map((frame) => JSON.parse(frame));
    const first = await frames(MAX_SUBSCRIPTIONS_PER_SOCKET + 1);
    expect(first.filter((m) => m.result?.type === 'started')).toHaveLength(MAX_SUBSCRIPTIONS_PER_SOCKET);
    expect(first.find((m) => m.error)).toMatchObject({
      id: MAX_SUBSCRIPTIONS_PER_SOCKET + 1,
      error: { data: { code: 'TOO_MANY_REQUESTS' } },
    });
    // A stopped one makes room.
    s.ws.send(JSON.stringify({ id: 1, method: 'subscription.stop' }));
    await s.frames.until((items) => items.some((frame) => frame.includes('"stopped"')));
    subscribe(99);
    expect((await frames(MAX_SUBSCRIPTIONS_PER_SOCKET + 3)).at(-1)).toEqual({
      id: 99,
      result: { type: 'started' },
    });
    s.ws.close();
  });

  describe.each([
    ['ours', () => ours],
    ['tRPC’s adapter', () => stockUrl],
  ])('the unmodified @trpc/client over %s', (_name, url) => {
    function client(token: string, keepAlive = false) {
      const wsClient = createWSClient({
        url: url(),
        WebSocket: WebSocket as never,
        connectionParams: () => ({ token }),
        retryDelayMs: () => 50,
        keepAlive: keepAlive ? { enabled: true, intervalMs: 50, pongTimeoutMs: 500 } : undefined,
      });
      return { wsClient, trpc: createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] }) };
    }

    it('queries, batches, reports errors with their codes, and keeps the connection alive', async () => {
      const { wsClient, trpc } = client(f.alice.token, true);
      try {
        const [me, list] = await Promise.all([trpc.auth.me.query(), trpc.conversations.list.query()]);
        expect(me.id).toBe(f.alice.id);
        expect(list.map((c) => c.id)).toContain(f.chat);
        const refused = await trpc.messages.list
          .query({ conversation_id: crypto.randomUUID() })
          .catch((e) => e);
        expect(refused).toBeInstanceOf(TRPCClientError);
        expect(refused.data.code).toBe('NOT_FOUND');
        // Many PING/PONG rounds later the same connection still answers.
        const opened = wsClient.connection?.id;
        await new Promise((resolve) => setTimeout(resolve, 400));
        expect((await trpc.auth.me.query()).id).toBe(f.alice.id);
        expect(wsClient.connection?.id).toBe(opened);
      } finally {
        wsClient.close();
      }
    });

    it('streams live events, and resumes after the last one it got', async () => {
      const { wsClient, trpc } = client(f.alice.token);
      try {
        const events = new Inbox<StreamItem>();
        const started = new Inbox<true>();
        const sub = trpc.events.stream.subscribe(
          {},
          {
            onStarted: () => started.push(true),
            onData: (item) => events.push(item as unknown as StreamItem),
          },
        );
        await started.count(1);
        await f.api.send(f.bob.token, f.bob.id, f.chat, 'live one');
        const [first] = await events.until((items) =>
          items.some((e) => e.data.message?.content === 'live one'),
        );
        sub.unsubscribe();
        await f.api.send(f.bob.token, f.bob.id, f.chat, 'while away');

        const resumed = new Inbox<StreamItem>();
        const again = trpc.events.stream.subscribe(
          { lastEventId: first!.id },
          { onData: (item) => resumed.push(item as unknown as StreamItem) },
        );
        await resumed.until((items) => items.some((e) => e.data.message?.content === 'while away'));
        expect(resumed.items.map((e) => e.data.message?.content)).toEqual(['while away']);
        again.unsubscribe();
      } finally {
        wsClient.close();
      }
    });
  });
});
