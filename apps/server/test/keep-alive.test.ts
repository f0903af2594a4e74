import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useChatFixture } from './helpers/chat-fixture.ts';
import type { TestServer } from './helpers/server.ts';
import { Inbox, legacySocket, sleep, trpcClient } from './helpers/sockets.ts';

const PING_MS = 400;
const PONG_TIMEOUT_MS = 250;
/** What a loaded machine may add to a deadline: timers fire late, the sweep runs every few tens of ms. */
const SLACK_MS = 400;

/** A socket whose peer has gone quiet: it receives, but never answers a ping. */
async function silentSocket(url: string, onOpen?: (ws: WebSocket) => void) {
  const ws = new WebSocket(url, { autoPong: false });
  const pings = new Inbox<'frame' | 'text'>();
  const closed = new Inbox<{ code: number; at: number }>();
  ws.on('ping', () => pings.push('frame'));
  ws.on('message', (data) => {
    if (data.toString() === 'PING') pings.push('text');
  });
  ws.on('close', (code) => closed.push({ code, at: Date.now() }));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  onOpen?.(ws);
  return { ws, pings, closed, openedAt: Date.now() };
}

/** What the server's gauges say now. */
async function gauge(t: TestServer, transport: 'trpc' | 'legacy'): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`pneumatic_websocket_connections_active{transport="${transport}"}`));
  return Number(line?.split(' ')[1] ?? 0);
}

describe('keep-alive: sockets that notice a dead peer', () => {
  const fx = useChatFixture('sqlite', {
    SOCKET_PING_MS: PING_MS,
    SOCKET_PONG_TIMEOUT_MS: PONG_TIMEOUT_MS,
    PRESENCE_GRACE_MS: 100,
    MAX_SOCKETS_PER_USER: 100,
  });

  it('pings a legacy socket with ping frames and terminates it within ping + pong timeout of silence', async () => {
    const silent = await silentSocket(`${fx.t.wsUrl}/ws?token=${fx.alice.token}`);
    await silent.pings.count(1, PING_MS + SLACK_MS);
    expect(silent.pings.items[0]).toBe('frame');
    const [closed] = await silent.closed.count(1, PING_MS + PONG_TIMEOUT_MS + SLACK_MS);
    // Terminated: no close handshake with a peer that is not there.
    expect(closed!.code).toBe(1006);
    expect(closed!.at - silent.openedAt).toBeLessThanOrEqual(PING_MS + PONG_TIMEOUT_MS + SLACK_MS);
  });

  it("pings a tRPC socket with tRPC's PING and terminates it when no PONG comes", async () => {
    const silent = await silentSocket(`${fx.t.wsUrl}/trpc?connectionParams=1`, (ws) =>
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token: fx.alice.token } })),
    );
    await silent.pings.count(1, PING_MS + SLACK_MS);
    expect(silent.pings.items[0]).toBe('text');
    const [closed] = await silent.closed.count(1, PING_MS + PONG_TIMEOUT_MS + SLACK_MS);
    expect(closed!.code).toBe(1006);
  });

  it('keeps answering clients connected across many ping periods: the SDK link and an old /ws script', async () => {
    const trpc = trpcClient(fx.t.url, fx.bob.token);
    const stream = trpc.stream();
    await stream.started.count(1);
    const legacy = await legacySocket(fx.t.url, `?token=${fx.bob.token}`);
    const legacyPings = new Inbox<true>();
    legacy.ws.on('ping', () => legacyPings.push(true));
    await sleep(PING_MS * 5);
    expect(legacyPings.items.length).toBeGreaterThanOrEqual(3);
    expect(trpc.closes.items).toEqual([]);
    expect(legacy.closed.items).toEqual([]);
    // Still delivering.
    expect((await fx.api.send(fx.alice.token, fx.alice.id, fx.chat, 'still there?')).status).toBe(201);
    await stream.events.until((items) => items.some((e) => e.data.message?.content === 'still there?'));
    await legacy.frames.until((items) => items.some((f) => f.message?.content === 'still there?'));
    trpc.close();
    legacy.ws.close();
  });

  it('ends what a terminated socket held: its subscription, its gauge, and its user goes offline for contacts', async () => {
    const watcher = trpcClient(fx.t.url, fx.bob.token);
    const presence = watcher.stream(undefined, { presence: true });
    await presence.started.count(1);
    const trpcBefore = await gauge(fx.t, 'trpc');
    const legacyBefore = await gauge(fx.t, 'legacy');

    // Alice on a laptop whose lid shuts: a subscribed tRPC socket and a legacy socket, both silent.
    const gone = await silentSocket(`${fx.t.wsUrl}/trpc?connectionParams=1`, (ws) => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token: fx.alice.token } }));
      ws.send(
        JSON.stringify({ id: 1, method: 'subscription', params: { path: 'events.stream', input: {} } }),
      );
    });
    const goneLegacy = await silentSocket(`${fx.t.wsUrl}/ws?token=${fx.alice.token}`);
    const isAlice = (online: boolean) => (e: { data: { type: string } }) =>
      e.data.type === 'presence' &&
      (e.data as { user_id?: string }).user_id === fx.alice.id &&
      (e.data as { online?: boolean }).online === online;
    await presence.events.until((items) => items.some(isAlice(true)));
    expect(await gauge(fx.t, 'trpc')).toBe(trpcBefore + 1);
    expect(await gauge(fx.t, 'legacy')).toBe(legacyBefore + 1);

    await gone.closed.count(1, PING_MS + PONG_TIMEOUT_MS + SLACK_MS);
    await goneLegacy.closed.count(1, PING_MS + PONG_TIMEOUT_MS + SLACK_MS);
    await presence.events.until((items) => items.some(isAlice(false)), 2000);
    expect(await gauge(fx.t, 'trpc')).toBe(trpcBefore);
    expect(await gauge(fx.t, 'legacy')).toBe(legacyBefore);
    expect(fx.t.server.deps.hub.listenerCount(fx.alice.id)).toBe(0);
    watcher.close();
  });

  it('keeps one sweep for all sockets: opening sockets adds no timers', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 20; i++) {
      const legacy = await legacySocket(fx.t.url, `?token=${fx.bob.token}`);
      await legacy.authenticated();
      sockets.push(legacy.ws);
      const raw = new WebSocket(`${fx.t.wsUrl}/trpc?connectionParams=1`);
      await new Promise((resolve) => raw.once('open', resolve));
      raw.send(JSON.stringify({ method: 'connectionParams', data: { token: fx.bob.token } }));
      raw.send(
        JSON.stringify({ id: 1, method: 'subscription', params: { path: 'events.stream', input: {} } }),
      );
      sockets.push(raw);
    }
    await sleep(100);
    // Forty authenticated sockets; a timer each (expiry, auth deadline, keep-alive) would show here.
    expect(timers() - before).toBeLessThan(5);
    for (const ws of sockets) ws.close();
  });

  it('counts any frame from the client as an answer to a ping', async () => {
    const legacy = await legacySocket(fx.t.url, `?token=${fx.bob.token}`);
    legacy.ws.pong = () => {};
    // Talking is answering: a client that sends frames but never pongs keeps its socket.
    const talk = setInterval(() => legacy.send({ type: 'join', conversation_id: randomUUID() }), PING_MS / 4);
    await sleep(PING_MS * 3);
    clearInterval(talk);
    expect(legacy.closed.items).toEqual([]);
    legacy.ws.close();
  });
});
