import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Rest, type TestUser } from '../helpers/rest.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { legacySocket, trpcClient } from '../helpers/sockets.ts';
import { forgedTokens } from './forged-tokens.ts';
import { median, RawTrpcSocket, rawRequest, report, rowCounts } from './helpers.ts';

const tally: Record<string, number> = {};
const count = (name: string, n = 1) => {
  tally[name] = (tally[name] ?? 0) + n;
};

/** Opens a legacy socket that should be refused; resolves with how it was closed. */
function legacyRefusal(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => {});
  return new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

afterAll(() => report('attacks-auth', tally));

describe('forged and stolen tokens', () => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let bob: TestUser;
  let tokens: Record<string, string>;
  beforeAll(async () => {
    t = await startServer('sqlite');
    api = new Rest(t.url);
    alice = await api.user('alice');
    bob = await api.user('bob');
    tokens = await forgedTokens(alice.token, alice.refreshToken, bob.id);
  });
  afterAll(() => t.close());

  it('refuses every forged token over REST with 401 and WWW-Authenticate: Bearer', async () => {
    for (const [name, token] of Object.entries(tokens)) {
      const reply = await rawRequest(`${t.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      count('REST');
      expect(reply.status, name).toBe(401);
      expect(reply.headers.get('www-authenticate'), name).toBe('Bearer');
      expect(reply.body, name).toEqual({ detail: expect.any(String) });
    }
  });

  it('refuses every forged token over tRPC HTTP with UNAUTHORIZED', async () => {
    for (const [name, token] of Object.entries(tokens)) {
      const reply = await rawRequest(`${t.url}/trpc/users.list`, {
        headers: { authorization: `Bearer ${token}` },
      });
      count('tRPC HTTP');
      expect(reply.status, name).toBe(401);
      expect(reply.body, name).toMatchObject({ error: { data: { code: 'UNAUTHORIZED' } } });
    }
  });

  it('refuses every forged token on a tRPC socket: an error, then the socket closes', async () => {
    for (const [name, token] of Object.entries(tokens)) {
      const socket = await RawTrpcSocket.open(t.url, token);
      count('tRPC socket');
      const first = await socket.until((r) => r.id === null || r.id === undefined, 5000);
      expect(first?.error?.data?.code, name).toBe('UNAUTHORIZED');
      await socket.until(() => false, 5000).catch(() => null);
      expect(socket.closed, name).not.toBeNull();
      // Nothing was served on it.
      expect(
        socket.replies.filter((r) => r.result),
        name,
      ).toHaveLength(0);
    }
  });

  it('refuses every forged token on /ws with 1008, in the query and in the header alike', async () => {
    for (const [name, token] of Object.entries(tokens)) {
      const query = await legacyRefusal(`${t.wsUrl}/ws?token=${encodeURIComponent(token)}`);
      const header = token
        ? await legacyRefusal(`${t.wsUrl}/ws`, { authorization: `Bearer ${token}` })
        : query;
      count('legacy /ws', 2);
      for (const closed of [query, header]) {
        expect(closed.code, name).toBe(1008);
        expect(
          ['Missing authentication token', 'Invalid authentication token', 'Invalid token type'],
          name,
        ).toContain(closed.reason);
      }
    }
  });

  it('refuses forged refresh tokens without creating a session', async () => {
    const forgedRefresh = await forgedTokens(alice.refreshToken, alice.token, bob.id);
    const before = await rowCounts(t.server.database.db);
    for (const [name, token] of Object.entries(forgedRefresh)) {
      if (name === 'refresh token as access') continue; // that one is the real access token: also refused, below
      const reply = await api.post('/auth/refresh', { refresh_token: token || 'x' });
      count('refresh');
      // Past 4096 characters the input itself is refused.
      expect(reply.status, name).toBe(token.length > 4096 ? 422 : 401);
    }
    expect((await api.post('/auth/refresh', { refresh_token: alice.token })).status).toBe(401);
    expect((await rowCounts(t.server.database.db)).sessions).toBe(before.sessions);
    // The real one still works afterwards: nothing above revoked it.
    expect((await api.post('/auth/refresh', { refresh_token: alice.refreshToken })).status).toBe(200);
  });
});

describe('tokens of deleted users and revoked logins on live sockets', () => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    t = await startServer('sqlite', { SOCKET_SESSION_CHECK_MS: 200 });
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  it('closes both kinds of socket of a user deleted from the database, and refuses new ones', async () => {
    const doomed = await api.user('doomed');
    const other = await api.user('other');
    const room = await api.conversation(other.token, [doomed.id]);
    const c = trpcClient(t.url, doomed.token);
    const s = c.stream();
    await s.started.count(1);
    const legacy = await legacySocket(t.url, `?token=${doomed.token}`);
    await legacy.authenticated();

    await t.server.database.db.deleteFrom('users').where('id', '=', doomed.id).execute();
    count('deleted user, live sockets', 2);
    const [closed] = await c.closes.count(1, 5000);
    expect(closed).toMatchObject({ code: 4403, reason: 'session revoked' });
    expect((await legacy.closed.count(1, 5000))[0]).toEqual({ code: 4403, reason: 'session revoked' });
    c.close();

    expect(await legacyRefusal(`${t.wsUrl}/ws?token=${doomed.token}`)).toEqual({
      code: 1008,
      reason: 'Invalid authentication token',
    });
    const socket = await RawTrpcSocket.open(t.url, doomed.token);
    expect((await socket.until((r) => r.id === null))?.error?.data?.code).toBe('UNAUTHORIZED');
    count('deleted user, new sockets', 2);
    // The conversation goes on without them; nothing reaches their (closed) sockets.
    expect((await api.send(other.token, other.id, room, 'still here')).status).toBe(201);
  });

  it('closes sockets of a login whose refresh token was reused, legacy included, and spares other logins', async () => {
    const user = await api.user('victim');
    const second = await api.post('/auth/login', { username: user.username, password: user.password });
    const stolen = trpcClient(t.url, user.token);
    const stolenStream = stolen.stream();
    const safe = trpcClient(t.url, second.body.access_token);
    const safeStream = safe.stream();
    await Promise.all([stolenStream.started.count(1), safeStream.started.count(1)]);
    const legacy = await legacySocket(t.url, `?token=${user.token}`);
    await legacy.authenticated();

    expect((await api.post('/auth/refresh', { refresh_token: user.refreshToken })).status).toBe(200);
    expect((await api.post('/auth/refresh', { refresh_token: user.refreshToken })).status).toBe(401);
    count('refresh reuse');
    expect((await stolen.closes.count(1))[0]).toMatchObject({ code: 4403 });
    expect((await legacy.closed.count(1))[0]).toEqual({ code: 4403, reason: 'session revoked' });
    expect(safe.closes.items).toHaveLength(0);
    expect((await api.get('/auth/me', second.body.access_token)).status).toBe(200);
    stolen.close();
    safe.close();
  });

  it('lets one of many simultaneous refreshes of one token win at most, never two families', async () => {
    const user = await api.user('racer');
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => api.post('/auth/refresh', { refresh_token: user.refreshToken })),
    );
    count('parallel refresh', replies.length);
    const winners = replies.filter((r) => r.status === 200);
    expect(winners.length).toBeLessThanOrEqual(1);
    expect(replies.every((r) => r.status === 200 || r.status === 401)).toBe(true);
    // Whatever won was revoked with the family by the losers' reuse: nobody holds a working pair.
    for (const winner of winners) {
      expect((await api.post('/auth/refresh', { refresh_token: winner.body.refresh_token })).status).toBe(
        401,
      );
    }
  });
});

describe('password guessing', () => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    // Behind a proxy, so each request can come from its own address.
    t = await startServer('sqlite', { TRUST_PROXY: true });
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  const login = (username: string, password: string, address: string) =>
    api.request('POST', '/auth/login', {
      body: { username, password },
      headers: { 'x-forwarded-for': address },
    });

  it('slows guesses at one account from many addresses, yet lets the owner in from a known address', async () => {
    const owner = await api.user('owner');
    const home = '198.51.100.10';
    expect((await login(owner.username, owner.password, home)).status).toBe(200);

    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      statuses.push((await login(owner.username, `guess-${i}`, `203.0.113.${i + 1}`)).status);
    }
    count('distributed guesses', statuses.length);
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    // Past the per-account budget, new addresses wait, even with the right password.
    expect(statuses.slice(31)).toEqual(Array(9).fill(429));
    const stranger = await login(owner.username, owner.password, '203.0.113.200');
    expect(stranger.status).toBe(429);
    expect(stranger.headers.get('retry-after') ?? stranger.body.detail).toBeTruthy();
    // The owner, from where they logged in before, is not locked out.
    expect((await login(owner.username, owner.password, home)).status).toBe(200);
    // Another account is untouched.
    const neighbour = await api.user('neighbour');
    const n = await login(neighbour.username, neighbour.password, '203.0.113.201');
    expect(n.status, JSON.stringify(n.body)).toBe(200);
  });

  it('answers an unknown user and a wrong password alike, both after the argon2 work', async () => {
    const known = await api.user('timed');
    const stored = await t.server.database.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', known.id)
      .executeTakeFirstOrThrow();
    // What one argon2id verification costs here at least (the minimum: other load only adds).
    const hashRuns: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await verify(stored.password_hash, 'not the password');
      hashRuns.push(performance.now() - started);
    }
    const argon2Ms = Math.min(...hashRuns);

    const times = { unknown: [] as number[], wrong: [] as number[], invalid: [] as number[] };
    const bodies = new Set<string>();
    for (let i = 0; i < 10; i++) {
      // Each attempt from its own address and (for the unknown) its own name: no throttle in the way.
      const address = `192.0.2.${i + 1}`;
      for (const [kind, username, password] of [
        ['unknown', `nobody_${i}`, 'some password'],
        ['wrong', known.username, `wrong password ${i}`],
      ] as const) {
        const started = performance.now();
        const reply = await login(username, password, address);
        times[kind].push(performance.now() - started);
        expect(reply.status, kind).toBe(401);
        bodies.add(JSON.stringify(reply.body));
        count('login timing');
      }
      const started = performance.now();
      await api.request('POST', '/auth/login', {
        body: { username: 'x' },
        headers: { 'x-forwarded-for': address },
      });
      times.invalid.push(performance.now() - started);
    }
    expect([...bodies]).toEqual([JSON.stringify({ detail: 'Incorrect username or password' })]);
    const unknown = median(times.unknown);
    const wrong = median(times.wrong);
    // A security property, not a speed target: generous bounds, medians of ten.
    expect(unknown / wrong).toBeGreaterThan(0.5);
    expect(unknown / wrong).toBeLessThan(2);
    // Both paid for a hash (a refused body, which pays none, is the floor).
    for (const ms of [unknown, wrong]) expect(ms - median(times.invalid)).toBeGreaterThan(argon2Ms * 0.5);
  });
});
