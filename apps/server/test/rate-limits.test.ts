import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { legacySocket, trpcClient } from './helpers/sockets.ts';
import { serverForSuite } from './helpers/suite.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('rate limits (memory store)', () => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    t = await startServer('sqlite', { RATE_LIMIT_PER_MINUTE: 60, RATE_LIMIT_PER_HOUR: 1000 });
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  it('gives the 61st request in a minute a 429 for one user and not for another on the same address', async () => {
    const alice = await api.user('alice');
    const bob = await api.user('bob');
    const replies = [];
    for (let i = 0; i < 61; i++) replies.push(await api.get('/auth/me', alice.token));
    expect(replies.slice(0, 60).every((r) => r.status === 200)).toBe(true);
    const refused = replies[60]!;
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ detail: 'Rate limit exceeded: 60 requests per minute' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(replies[0]!.headers.get('x-ratelimit-limit')).toBe('60');
    expect(replies[0]!.headers.get('x-ratelimit-remaining')).toBe('59');
    expect(Number(replies[0]!.headers.get('x-ratelimit-reset'))).toBeGreaterThan(0);
    // Bob shares the address but has his own budget.
    expect((await api.get('/auth/me', bob.token)).status).toBe(200);
  });

  it('refuses tRPC calls over HTTP in the tRPC error shape', async () => {
    const frank = await api.user('frank');
    const client = trpcClient(t.url, frank.token);
    let error: unknown;
    for (let i = 0; i < 61 && !error; i++) {
      try {
        await client.client.users.list.query();
      } catch (e) {
        error = e;
      }
    }
    expect((error as { data?: { code?: string } }).data?.code).toBe('TOO_MANY_REQUESTS');
    expect((error as Error).message).toBe('Rate limit exceeded: 60 requests per minute');
    client.close();
  });

  it('counts unknown paths and errors, and leaves probes and docs alone', async () => {
    const carol = await api.user('carol');
    const unknown = await api.get('/no/such/path', carol.token);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-ratelimit-remaining')).not.toBeNull();
    for (const path of ['/health', '/ready', '/metrics', '/openapi.json']) {
      const reply = await fetch(`${t.url}${path}`);
      expect(reply.headers.get('x-ratelimit-limit'), path).toBeNull();
    }
  });

  it('spends the same budget on socket sends, so a flood cannot bypass it', async () => {
    const dave = await api.user('dave');
    const room = await api.conversation(dave.token, []);
    const socket = await legacySocket(t.url, `?token=${dave.token}`);
    for (let i = 0; i < 70; i++) {
      socket.send({
        type: 'message',
        message_id: randomUUID(),
        conversation_id: room,
        content: `flood ${i}`,
      });
    }
    const frames = await socket.frames.until((items) => items.some((f) => f.type === 'error'));
    expect(frames.find((f) => f.type === 'error')).toEqual({
      type: 'error',
      reason: 'Rate limit exceeded: 60 requests per minute',
    });
    // The HTTP budget is the same one: it is spent too.
    expect((await api.get('/auth/me', dave.token)).status).toBe(429);
    socket.ws.close();

    const erin = await api.user('erin');
    const client = trpcClient(t.url, erin.token, { allOverSocket: true });
    const results: PromiseSettledResult<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      results.push(
        ...(await Promise.allSettled(Array.from({ length: 20 }, () => client.client.users.list.query()))),
      );
    }
    const refused = results.filter((r) => r.status === 'rejected');
    // Every call over the socket spends one unit: 60 pass, the rest are refused.
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(60);
    expect(String((refused[0] as PromiseRejectedResult).reason.message)).toBe(
      'Rate limit exceeded: 60 requests per minute',
    );
    client.close();
  });

  it("spends it on tRPC sends over a socket too, which run outside tRPC's chain", async () => {
    const gina = await api.user('gina');
    const hal = await api.user('hal');
    const room = await api.conversation(gina.token, [hal.id]);
    const client = trpcClient(t.url, gina.token, { allOverSocket: true });
    const sends = await Promise.allSettled(
      Array.from({ length: 70 }, (_, i) =>
        client.client.messages.send.mutate({
          message_id: randomUUID(),
          conversation_id: room,
          content: `${i}`,
        }),
      ),
    );
    // Signing up, logging in and making the room spent some of the 60.
    const refused = sends.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(sends.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(50);
    expect(refused.length).toBeGreaterThanOrEqual(10);
    expect(refused[0]!.reason.data?.code).toBe('TOO_MANY_REQUESTS');
    expect(refused[0]!.reason.message).toBe('Rate limit exceeded: 60 requests per minute');
    // What was refused was not stored; Hal, with a budget of his own, reads the room.
    const stored = await api.get(`/conversations/${room}/messages?limit=100`, hal.token);
    expect(stored.status).toBe(200);
    const contents = (stored.body as { messages: { content: string; kind: string }[] }).messages
      .filter((m) => m.kind === 'user')
      .map((m) => m.content);
    expect(contents).toHaveLength(70 - refused.length);
    client.close();
  });
});

describe('rate limits shared through Redis', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startServer('postgres', {
      RATE_LIMIT_PER_MINUTE: 10,
      RATE_LIMIT_PER_HOUR: 1000,
      REDIS_URL: REDIS_URL,
    });
    b = await startServer('postgres', {
      RATE_LIMIT_PER_MINUTE: 10,
      RATE_LIMIT_PER_HOUR: 1000,
      REDIS_URL: REDIS_URL,
    });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('shares one budget between two instances', async () => {
    // Each instance has its own database, so the same user id is made on both with the same secret.
    const apiA = new Rest(a.url);
    // Counters live in Redis across test runs: start this address afresh.
    const redis = new Redis(REDIS_URL);
    await redis.del('rl:m:ip:127.0.0.1', 'rl:h:ip:127.0.0.1');
    const user = await apiA.user('shared');
    redis.disconnect();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await apiA.get('/auth/me', user.token)).status);
    // Instance B sees the same user id in the token and spends the same budget.
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await fetch(`${b.url}/users`, { headers: { authorization: `Bearer ${user.token}` } })).status,
      );
    expect(statuses.slice(0, 6)).toEqual(Array(6).fill(200));
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
  });

  it('reports Redis in /ready', async () => {
    expect((await fetch(`${a.url}/ready`)).status).toBe(200);
  });
});

describe('login throttling', () => {
  const suite = serverForSuite();

  it('slows guessing from one address without locking the owner out from another', async () => {
    const victim = await suite.api.user('victim');
    const attacker = { 'x-forwarded-for': '203.0.113.9' };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const reply = await suite.api.request('POST', '/auth/login', {
        body: { username: victim.username, password: `guess-${i}` },
        headers: attacker,
      });
      statuses.push(reply.status);
    }
    // TRUST_PROXY is off here, so forwarded addresses are ignored: the attacker is 127.0.0.1 too.
    expect(statuses.slice(0, 6)).toEqual(Array(6).fill(401));
    expect(statuses.at(-1)).toBe(429);
    // Even the right password waits while this address is blocked for this account...
    const owner = await suite.api.post('/auth/login', {
      username: victim.username,
      password: victim.password,
    });
    expect(owner.status).toBe(429);
    expect(owner.body.detail).toMatch(/Too many failed login attempts/);
  });

  it('keeps the owner in from their own address when guesses come from elsewhere', async () => {
    const proxied = await startServer('sqlite', { TRUST_PROXY: true });
    const p = new Rest(proxied.url);
    const victim = await p.user('victim2');
    for (let i = 0; i < 8; i++) {
      await p.request('POST', '/auth/login', {
        body: { username: victim.username, password: `guess-${i}` },
        headers: { 'x-forwarded-for': '203.0.113.9' },
      });
    }
    const attacker = await p.request('POST', '/auth/login', {
      body: { username: victim.username, password: victim.password },
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(attacker.status).toBe(429);
    const owner = await p.request('POST', '/auth/login', {
      body: { username: victim.username, password: victim.password },
      headers: { 'x-forwarded-for': '198.51.100.7' },
    });
    expect(owner.status).toBe(200);
    await proxied.close();
  });
});
