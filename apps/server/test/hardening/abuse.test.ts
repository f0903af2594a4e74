import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@pneumatic/db/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { Rest, type TestUser } from '../helpers/rest.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { legacySocket, sleep, trpcClient } from '../helpers/sockets.ts';
import { serverForSuite } from '../helpers/suite.ts';
import { RawTrpcSocket, report } from './helpers.ts';

const tally: Record<string, number> = {};
const count = (name: string, n = 1) => {
  tally[name] = (tally[name] ?? 0) + n;
};
afterAll(() => report('attacks-abuse', tally));

/** The raw TCP socket under a `ws` client, to stop reading from it. */
function tcpOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

describe('a flood from one user', () => {
  let server: ServerProcess;
  let database: TestDatabase;
  let api: Rest;
  const LIMIT = 120;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    server = await spawnServer(
      { DATABASE_URL: database.url, RATE_LIMIT_PER_MINUTE: String(LIMIT) },
      { bundled: true },
    );
    api = new Rest(server.url);
  });
  afterAll(async () => {
    server.kill('SIGKILL');
    await server.exited;
    await database.drop();
  });

  it('is cut at RATE_LIMIT_PER_MINUTE while another user keeps sending and receiving', async () => {
    const flooder = await api.user('flooder');
    const sender = await api.user('sender');
    const receiver = await api.user('receiver');
    const floodRoom = await api.conversation(flooder.token, [receiver.id]);
    const room = await api.conversation(sender.token, [receiver.id]);
    const watcher = trpcClient(server.url, receiver.token);
    const stream = watcher.stream();
    await stream.started.count(1);

    /** Sends `n` messages one by one, each waited for until delivered; resolves with the send-to-delivery times. */
    async function measure(n: number): Promise<number[]> {
      const latencies: number[] = [];
      for (let i = 0; i < n; i++) {
        const content = `probe ${randomUUID()}`;
        const started = performance.now();
        const before = stream.events.items.length;
        const reply = await api.send(sender.token, sender.id, room, content);
        expect(reply.status).toBe(201);
        await stream.events.until((items) =>
          items.slice(before).some((e) => e.data.message?.content === content),
        );
        latencies.push(performance.now() - started);
        await sleep(10);
      }
      return latencies;
    }

    let flooding = true;
    const outcomes = { refused: 0, other: 0 };
    const accepted = new Set<string>();
    const sockets = await Promise.all(
      [1, 2, 3].map(() => legacySocket(server.url, `?token=${flooder.token}`)),
    );
    for (const s of sockets)
      s.ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.type === 'message') accepted.add(frame.message.id);
        else if (frame.type === 'error' && /Rate limit exceeded/.test(frame.reason)) outcomes.refused++;
        else outcomes.other++;
      });
    const socketFlood = (async () => {
      while (flooding) {
        for (const s of sockets)
          for (let i = 0; i < 100; i++)
            s.send({
              type: 'message',
              message_id: randomUUID(),
              conversation_id: floodRoom,
              content: 'spam',
            });
        count('flood frames', 300);
        await sleep(25);
      }
    })();
    const httpFlood = Array.from({ length: 6 }, async () => {
      while (flooding) {
        const reply = await api.send(flooder.token, flooder.id, floodRoom, 'spam').catch(() => null);
        count('flood requests');
        if (reply?.status === 201) accepted.add(reply.body.id);
        else if (reply?.status === 429) outcomes.refused++;
        else outcomes.other++;
      }
    });
    await sleep(300);
    const loaded = await measure(40);
    flooding = false;
    await Promise.all([socketFlood, ...httpFlood]);
    await sleep(200);

    // The flooder got its minute's worth and no more; everything else was refused, never failed.
    expect(outcomes.refused).toBeGreaterThan(1000);
    expect(outcomes.other).toBe(0);
    const stored = new Database(database.url, { readonly: true });
    const { n } = stored
      .prepare('select count(*) as n from messages where sender_id = ?')
      .get(flooder.id) as { n: number };
    stored.close();
    expect(n).toBeLessThanOrEqual(LIMIT);
    expect(accepted.size).toBe(n);

    // The other user's messages were all taken and delivered while the flood ran: the budget is the
    // flooder's alone. (How fast they arrive under load is the bench's to measure, not a test's.)
    expect(loaded).toHaveLength(40);
    for (const s of sockets) s.ws.close();
    watcher.close();
  }, 60_000);
});

describe('a tRPC subscriber that stops reading', () => {
  const suite = serverForSuite();

  it('is cut off with memory bounded while other subscribers keep receiving', async () => {
    const alice = await suite.api.user('alice');
    const bob = await suite.api.user('bob');
    const room = await suite.api.conversation(alice.token, [bob.id]);
    const stalled = await RawTrpcSocket.open(suite.t.url, bob.token);
    stalled.ws.send(
      JSON.stringify({ id: 1, method: 'subscription', params: { path: 'events.stream', input: {} } }),
    );
    expect((await stalled.until((r) => r.id === 1))?.result?.type).toBe('started');
    const healthy = trpcClient(suite.t.url, bob.token);
    const stream = healthy.stream();
    await stream.started.count(1);
    tcpOf(stalled.ws).pause();

    const sender = await legacySocket(suite.t.url, `?token=${alice.token}`);
    const big = 'y'.repeat(3900);
    const total = 3000;
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < total; i++) {
      sender.send({
        type: 'message',
        message_id: randomUUID(),
        conversation_id: room,
        content: `${i} ${big}`,
      });
      if (i % 200 === 199) await sender.frames.count(i - 100, 30_000);
    }
    count('messages to a stalled subscriber', total);
    await stream.events.count(total, 60_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024);
    tcpOf(stalled.ws).resume();
    await stalled.until(() => false, 10_000).catch(() => null);
    expect(stalled.closed, 'the stalled socket was cut off').not.toBeNull();
    // It was cut long before everything was queued for it.
    expect(stalled.replies.length).toBeLessThan(total);
    sender.ws.close();
    healthy.close();
  }, 90_000);
});

describe('slow and silent clients', () => {
  let t: TestServer;
  let api: Rest;
  let user: TestUser;
  const HEADERS_MS = 500;
  const REQUEST_MS = 1000;
  beforeAll(async () => {
    t = await startServer('sqlite', {
      HTTP_HEADERS_TIMEOUT_MS: HEADERS_MS,
      HTTP_REQUEST_TIMEOUT_MS: REQUEST_MS,
      HTTP_IDLE_TIMEOUT_MS: 1000,
      SOCKET_AUTH_TIMEOUT_MS: 500,
    });
    api = new Rest(t.url);
    user = await api.user('patient');
  });
  afterAll(() => t.close());

  /** Opens a TCP connection that sends `head` at once, then `drip` a byte at a time; resolves when the server hangs up. */
  function slowClient(head: string, drip: string, everyMs = 100) {
    const { port } = new URL(t.url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    socket.on('connect', () => {
      socket.write(head);
      let i = 0;
      timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write(drip[i % drip.length]!);
        i++;
      }, everyMs);
    });
    socket.on('data', (d) => {
      received += d.toString();
    });
    socket.on('error', () => {});
    return new Promise<{ ms: number; received: string }>((resolve) =>
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ ms: performance.now() - started, received });
      }),
    );
  }

  it('drops connections whose headers trickle in (slowloris), and keeps serving everyone else', async () => {
    const attackers = Array.from({ length: 40 }, (_, i) =>
      slowClient(`GET /health HTTP/1.1\r\nHost: x\r\nX-${i}: `, 'abcdefgh'),
    );
    count('slowloris connections', attackers.length);
    // Meanwhile, ordinary requests go through.
    await sleep(100);
    for (let i = 0; i < 10; i++) expect((await api.get('/auth/me', user.token)).status).toBe(200);
    for (const { ms, received } of await Promise.all(attackers)) {
      expect(ms).toBeLessThan(HEADERS_MS + 2000);
      expect(received).toMatch(/^HTTP\/1\.1 408/);
      expect(received).toContain('{"detail":"Request timeout"}');
    }
  });

  it('drops a body trickled byte by byte once the request timeout passes', async () => {
    const body = JSON.stringify({ username: 'patient', password: 'x'.repeat(500) });
    const { ms, received } = await slowClient(
      `POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
      50,
    );
    count('trickled bodies');
    expect(ms).toBeLessThan(REQUEST_MS + 2000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    // The same without a length: a chunked body, a one-byte chunk at a time.
    const chunked = await slowClient(
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      '1\r\n{\r\n',
      50,
    );
    count('trickled bodies');
    expect(chunked.ms).toBeLessThan(REQUEST_MS + 2000);
    expect(chunked.received).toMatch(/^HTTP\/1\.1 408/);
  });

  it('drops an upgrade whose headers trickle in, and a connection that never speaks', async () => {
    const upgrade = slowClient(
      `GET /ws?token=${user.token} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`,
      'Sec-WebSocket-Version: 13\r\n',
    );
    const silent = slowClient('', '', 60_000);
    count('slow upgrades');
    count('silent connections');
    for (const { ms } of await Promise.all([upgrade, silent])) expect(ms).toBeLessThan(HEADERS_MS + 2000);
  });

  it('closes a tRPC socket that never presents its token, but keeps idle authenticated sockets', async () => {
    const mute = await RawTrpcSocket.open(t.url, null);
    await mute.until(() => false, 3000).catch(() => null);
    count('sockets that never authenticate');
    expect(mute.closed).toEqual({ code: 1008, reason: 'Authentication timeout' });

    const idle = await RawTrpcSocket.open(t.url, user.token);
    const legacy = await legacySocket(t.url, `?token=${user.token}`);
    await sleep(1800); // past the idle and auth timeouts
    expect(idle.closed).toBeNull();
    expect(legacy.ws.readyState).toBe(WebSocket.OPEN);
    expect((await idle.call('query', 'auth.me', undefined))?.result?.data).toMatchObject({ id: user.id });
    idle.close();
    legacy.ws.close();
  });
});

describe('socket caps', () => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    t = await startServer('sqlite', {
      MAX_SOCKETS_PER_USER: 3,
      MAX_SOCKETS_PER_ADDRESS: 5,
      TRUST_PROXY: true,
    });
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  /** Opens a socket from `address`; resolves with the socket once open, or with how it was refused. */
  function open(path: string, address: string) {
    const ws = new WebSocket(`${t.wsUrl}${path}`, { headers: { 'x-forwarded-for': address } });
    ws.on('error', () => {});
    return new Promise<{ ws: WebSocket; status?: number; hungUp?: Promise<void> }>((resolve) => {
      ws.once('open', () => resolve({ ws }));
      ws.once('unexpected-response', (_req, res) =>
        resolve({
          ws,
          status: res.statusCode,
          hungUp: new Promise((done) =>
            res.socket.destroyed ? done() : res.socket.once('close', () => done()),
          ),
        }),
      );
    });
  }
  const closed = (ws: WebSocket, ms = 3000) =>
    new Promise<{ code: number; reason: string } | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      ws.once('close', (code, reason) => {
        clearTimeout(timer);
        resolve({ code, reason: reason.toString() });
      });
    });

  it('closes a user’s socket past MAX_SOCKETS_PER_USER with 1008, on /ws and /trpc alike', async () => {
    const user = await api.user('many');
    const other = await api.user('other');
    const first = await legacySocket(t.url, `?token=${user.token}`, { 'x-forwarded-for': '10.0.0.1' });
    const second = await legacySocket(t.url, `?token=${user.token}`, { 'x-forwarded-for': '10.0.0.2' });
    await Promise.all([first.authenticated(), second.authenticated()]);
    const third = await RawTrpcSocket.open(t.url, user.token, { 'x-forwarded-for': '10.0.0.3' });
    expect((await third.call('query', 'auth.me', undefined))?.result).toBeDefined();

    const extraLegacy = await open(`/ws?token=${user.token}`, '10.0.0.4');
    expect(await closed(extraLegacy.ws)).toEqual({ code: 1008, reason: 'Too many sockets for this user' });
    const extraTrpc = await RawTrpcSocket.open(t.url, user.token, { 'x-forwarded-for': '10.0.0.5' });
    await extraTrpc.until(() => false, 3000).catch(() => null);
    expect(extraTrpc.closed).toEqual({ code: 1008, reason: 'Too many sockets for this user' });
    count('sockets over the per-user cap', 2);

    // Someone else is not affected; a slot freed is a slot again.
    const others = await legacySocket(t.url, `?token=${other.token}`, { 'x-forwarded-for': '10.0.0.6' });
    await others.authenticated();
    first.ws.close();
    await first.closed.count(1);
    await sleep(50);
    const again = await legacySocket(t.url, `?token=${user.token}`, { 'x-forwarded-for': '10.0.0.7' });
    await again.authenticated();
    expect(again.ws.readyState).toBe(WebSocket.OPEN);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/pneumatic_websocket_refused_total\{reason="user"\} 2/);
    for (const s of [second, others, again]) s.ws.close();
    third.close();
  });

  it('refuses the upgrade past MAX_SOCKETS_PER_ADDRESS with 429, counting sockets not yet authenticated', async () => {
    const users = await Promise.all([1, 2, 3].map((i) => api.user(`addr${i}`)));
    const address = '10.9.9.9';
    const held = [
      await open(`/ws?token=${users[0]!.token}`, address),
      await open(`/ws?token=${users[1]!.token}`, address),
      await open('/trpc?connectionParams=1', address), // never authenticates
      await open('/trpc?connectionParams=1', address),
      await open(`/ws?token=${users[2]!.token}`, address),
    ];
    expect(held.every((h) => h.status === undefined)).toBe(true);
    const refusedLegacy = await open(`/ws?token=${users[0]!.token}`, address);
    const refusedTrpc = await open('/trpc?connectionParams=1', address);
    expect(refusedLegacy.status).toBe(429);
    expect(refusedTrpc.status).toBe(429);
    // The server hangs up after refusing: a refused upgrade holds nothing.
    await Promise.all([refusedLegacy.hungUp, refusedTrpc.hungUp]);
    count('upgrades over the per-address cap', 2);
    // Another address is not affected.
    const elsewhere = await open(`/ws?token=${users[0]!.token}`, '10.9.9.10');
    expect(elsewhere.status).toBeUndefined();
    // Closing one lets the next one in.
    held[0]!.ws.close();
    await closed(held[0]!.ws);
    await sleep(50);
    const next = await open(`/ws?token=${users[0]!.token}`, address);
    expect(next.status).toBeUndefined();
    for (const h of [...held, elsewhere, next]) h.ws.close();
  });
});
