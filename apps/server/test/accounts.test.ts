import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { legacySocket, trpcClient } from './helpers/sockets.ts';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe.each(DIALECTS)('accounts (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  const closers: Array<() => void> = [];
  beforeAll(async () => {
    t = await startServer(dialect);
    api = new Rest(t.url);
  });
  afterAll(async () => {
    for (const close of closers) close();
    await t.close();
  });

  /** Another login of the same user, from another client. */
  async function secondLogin(user: TestUser, userAgent = CHROME_MAC) {
    const reply = await api.request('POST', '/auth/login', {
      body: { username: user.username, password: user.password },
      headers: { 'user-agent': userAgent },
    });
    expect(reply.status).toBe(200);
    return { token: reply.body.access_token as string, refreshToken: reply.body.refresh_token as string };
  }

  const passwordHash = async (id: string) =>
    (
      await t.server.database.db
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', id)
        .executeTakeFirst()
    )?.password_hash;

  function watch(token: string) {
    const c = trpcClient(t.url, token);
    closers.push(() => c.close());
    return c;
  }

  describe('change password', () => {
    it('refuses a wrong current password and changes nothing', async () => {
      const alice = await api.user('alice');
      const other = await secondLogin(alice);
      const before = await passwordHash(alice.id);
      const reply = await api.post(
        '/auth/password',
        { current_password: 'not my password', new_password: 'a brand new password' },
        alice.token,
      );
      expect(reply.status).toBe(422);
      expect(reply.body.detail).toEqual([
        expect.objectContaining({ loc: ['body', 'current_password'], msg: 'Password is incorrect' }),
      ]);
      expect(await passwordHash(alice.id)).toBe(before);
      expect((await api.get('/auth/me', other.token)).status).toBe(200);
      expect((await api.post('/auth/refresh', { refresh_token: other.refreshToken })).status).toBe(200);
    });

    it('checks the new password like a signup', async () => {
      const alice = await api.user('alice');
      const reply = await api.post(
        '/auth/password',
        { current_password: alice.password, new_password: 'short' },
        alice.token,
      );
      expect(reply.status).toBe(422);
      expect(reply.body.detail[0].loc).toEqual(['body', 'new_password']);
    });

    it('signs out every other login at once, sockets included; this one stays', async () => {
      const alice = await api.user('alice');
      const other = await secondLogin(alice);
      const otherSocket = watch(other.token);
      const stream = otherSocket.stream();
      await stream.started.count(1);
      const legacy = await legacySocket(t.url, `?token=${other.token}`);
      await legacy.authenticated();
      const mine = watch(alice.token);
      const myStream = mine.stream();
      await myStream.started.count(1);

      const reply = await api.post(
        '/auth/password',
        { current_password: alice.password, new_password: 'a brand new password' },
        alice.token,
      );
      expect(reply.status).toBe(204);
      expect((await otherSocket.closes.count(1))[0]).toMatchObject({ code: 4403, reason: 'session revoked' });
      expect((await legacy.closed.count(1))[0]).toEqual({ code: 4403, reason: 'session revoked' });
      expect((await api.get('/auth/me', other.token)).status).toBe(401);
      expect((await api.post('/auth/refresh', { refresh_token: other.refreshToken })).status).toBe(401);

      expect((await api.get('/auth/me', alice.token)).status).toBe(200);
      expect((await api.post('/auth/refresh', { refresh_token: alice.refreshToken })).status).toBe(200);
      expect(mine.closes.items).toEqual([]);
      expect(
        (await api.post('/auth/login', { username: alice.username, password: alice.password })).status,
      ).toBe(401);
      const login = await api.post('/auth/login', {
        username: alice.username,
        password: 'a brand new password',
      });
      expect(login.status).toBe(200);
    });

    it('works over tRPC with field errors for forms', async () => {
      const alice = await api.user('alice');
      const { client } = watch(alice.token);
      await expect(
        client.account.changePassword.mutate({ current_password: 'nope', new_password: 'long enough now' }),
      ).rejects.toMatchObject({
        data: {
          code: 'BAD_REQUEST',
          zodError: { fieldErrors: { current_password: ['Password is incorrect'] } },
        },
      });
      await client.account.changePassword.mutate({
        current_password: alice.password,
        new_password: 'long enough now',
      });
      expect((await api.get('/auth/me', alice.token)).status).toBe(200);
    });
  });

  describe('sessions', () => {
    it('lists the logins with their client, the current one marked', async () => {
      const alice = await api.user('alice');
      await secondLogin(alice, FIREFOX);
      const reply = await api.get('/auth/sessions', alice.token);
      expect(reply.status).toBe(200);
      expect(reply.body.sessions).toHaveLength(2);
      const current = reply.body.sessions.find((s: { current: boolean }) => s.current);
      const other = reply.body.sessions.find((s: { current: boolean }) => !s.current);
      expect(current).toMatchObject({ ip_address: '127.0.0.1', client: 'Node.js' });
      expect(other).toMatchObject({
        id: expect.any(String),
        created_at: expect.stringMatching(/Z$/),
        last_used_at: expect.stringMatching(/Z$/),
        ip_address: '127.0.0.1',
        user_agent: FIREFOX,
        client: 'Firefox on Linux',
        current: false,
      });
    });

    it('signs out one of mine, its socket at once', async () => {
      const alice = await api.user('alice');
      const other = await secondLogin(alice);
      const otherSocket = watch(other.token);
      await otherSocket.stream().started.count(1);
      const { sessions } = (await api.get('/auth/sessions', alice.token)).body;
      const target = sessions.find((s: { current: boolean }) => !s.current).id;
      expect((await api.request('DELETE', `/auth/sessions/${target}`, { token: alice.token })).status).toBe(
        204,
      );
      expect((await otherSocket.closes.count(1))[0]?.code).toBe(4403);
      expect((await api.post('/auth/refresh', { refresh_token: other.refreshToken })).status).toBe(401);
      expect((await api.get('/auth/me', alice.token)).status).toBe(200);
      expect((await api.get('/auth/sessions', alice.token)).body.sessions).toHaveLength(1);
    });

    it("answers someone else's session exactly as an unknown one, and leaves it alone", async () => {
      const alice = await api.user('alice');
      const mallory = await api.user('mallory');
      const [aliceSession] = (await api.get('/auth/sessions', alice.token)).body.sessions;
      const theirs = await api.request('DELETE', `/auth/sessions/${aliceSession.id}`, {
        token: mallory.token,
      });
      const unknown = await api.request('DELETE', `/auth/sessions/${randomUUID()}`, { token: mallory.token });
      const junk = await api.request('DELETE', '/auth/sessions/not-an-id', { token: mallory.token });
      for (const reply of [theirs, unknown, junk]) {
        expect(reply.status).toBe(404);
        expect(reply.body).toEqual({ detail: 'Session not found' });
      }
      const { client } = watch(mallory.token);
      await expect(
        client.account.revokeSession.mutate({ session_id: aliceSession.id }),
      ).rejects.toMatchObject({
        data: { code: 'NOT_FOUND' },
      });
      expect((await api.get('/auth/me', alice.token)).status).toBe(200);
      expect((await api.post('/auth/refresh', { refresh_token: alice.refreshToken })).status).toBe(200);
    });
  });

  describe('display name', () => {
    it('changes it, and contacts see it live; strangers hear nothing', async () => {
      const alice = await api.user('alice', 'Alice');
      const bob = await api.user('bob');
      const mallory = await api.user('mallory');
      await api.conversation(alice.token, [bob.id]);
      const bobs = watch(bob.token).stream();
      const mallorys = watch(mallory.token).stream();
      await Promise.all([bobs.started.count(1), mallorys.started.count(1)]);

      const reply = await api.request('PATCH', '/auth/me', {
        body: { full_name: '  Alice Renamed ' },
        token: alice.token,
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ id: alice.id, username: alice.username, full_name: 'Alice Renamed' });
      const events = await bobs.events.until((items) => items.some((e) => e.data.type === 'user'));
      expect(events.find((e) => e.data.type === 'user')?.data).toEqual({
        type: 'user',
        user: { id: alice.id, username: alice.username, full_name: 'Alice Renamed' },
      });
      expect((await api.get('/auth/me', alice.token)).body.full_name).toBe('Alice Renamed');
      expect(mallorys.events.items.some((e) => e.data.type === 'user')).toBe(false);
    });

    it('refuses a name over 100 characters, and clears it when empty', async () => {
      const alice = await api.user('alice', 'Alice');
      const long = await api.request('PATCH', '/auth/me', {
        body: { full_name: 'n'.repeat(101) },
        token: alice.token,
      });
      expect(long.status).toBe(422);
      expect(long.body.detail[0].loc).toEqual(['body', 'full_name']);
      const cleared = await api.request('PATCH', '/auth/me', { body: { full_name: '' }, token: alice.token });
      expect(cleared.body.full_name).toBeNull();
    });
  });

  describe('delete account', () => {
    it('needs the password: a wrong one changes nothing', async () => {
      const alice = await api.user('alice');
      const reply = await api.request('DELETE', '/auth/me', {
        body: { password: 'wrong' },
        token: alice.token,
      });
      expect(reply.status).toBe(422);
      expect(reply.body.detail[0].loc).toEqual(['body', 'password']);
      expect((await api.get('/auth/me', alice.token)).body.username).toBe(alice.username);
    });

    it('ends every login at once; messages stay, from "Deleted user"; the username is free again', async () => {
      const alice = await api.user('alice', 'Alice');
      const bob = await api.user('bob');
      const chat = await api.conversation(alice.token, [bob.id]);
      expect((await api.send(alice.token, alice.id, chat, 'hello from alice')).status).toBe(201);
      const other = await secondLogin(alice);
      const sockets = [watch(alice.token), watch(other.token)];
      for (const s of sockets) await s.stream().started.count(1);

      const reply = await api.request('DELETE', '/auth/me', {
        body: { password: alice.password },
        token: alice.token,
      });
      expect(reply.status).toBe(204);
      for (const s of sockets) expect((await s.closes.count(1))[0]?.code).toBe(4403);
      for (const token of [alice.token, other.token])
        expect((await api.get('/auth/me', token)).status).toBe(401);
      expect((await api.post('/auth/refresh', { refresh_token: alice.refreshToken })).status).toBe(401);
      expect(
        (await api.post('/auth/login', { username: alice.username, password: alice.password })).status,
      ).toBe(401);

      const history = await api.get(`/conversations/${chat}/messages`, bob.token);
      expect(history.body.messages).toEqual([
        expect.objectContaining({ sender_id: alice.id, content: 'hello from alice' }),
      ]);
      const { client } = watch(bob.token);
      expect(await client.users.get.query({ ids: [alice.id] })).toEqual([
        { id: alice.id, username: 'Deleted user', full_name: null, deleted: true, online: false },
      ]);
      const everyone = (await api.get('/users', bob.token)).body.users as Array<{ id: string }>;
      expect(everyone.some((u) => u.id === alice.id)).toBe(false);

      // The name can be taken again; the old messages stay the deleted account's.
      const again = await api.post('/auth/signup', {
        username: alice.username,
        password: 'another password',
      });
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(alice.id);
      expect((await client.users.get.query({ ids: [alice.id] }))[0]?.username).toBe('Deleted user');
      // A deleted account can be added to nothing.
      const group = await api.post('/conversations', { title: 'g', member_ids: [alice.id] }, bob.token);
      expect(group.status).toBe(400);
    });
  });

  describe('people at scale', () => {
    let viewer: TestUser;
    const tag = randomUUID().slice(0, 6);
    beforeAll(async () => {
      viewer = await api.user('viewer');
      for (let i = 0; i < 7; i++) {
        await api.post('/auth/signup', {
          username: `pp${tag}_${i}`,
          password: 'correct horse battery',
          full_name: i === 3 ? 'Zed 100%_Sure' : `Person ${i}`,
        });
      }
    });

    it('pages through everyone with a cursor, no one twice, no one missed', async () => {
      const { client } = watch(viewer.token);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof client.users.list.query>> = await client.users.list.query({
          query: `pp${tag}`,
          limit: 3,
          cursor,
        });
        expect(page.users.length).toBeLessThanOrEqual(3);
        seen.push(...page.users.map((u) => u.username));
        for (const u of page.users) expect(u.online).toBe(false);
        cursor = page.next_cursor;
      } while (cursor);
      expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `pp${tag}_${i}`));
    });

    it('searches usernames and full names in any case, wildcards taken literally', async () => {
      const { client } = watch(viewer.token);
      const names = async (query: string) =>
        (await client.users.list.query({ query, limit: 100 })).users.map((u) => u.username);
      expect(await names(`PP${tag.toUpperCase()}_4`)).toEqual([`pp${tag}_4`]);
      expect(await names('zed 100%_s')).toEqual([`pp${tag}_3`]);
      expect(await names('100%x')).toEqual([]);
      expect(await names('_%')).toEqual([]);
    });

    it('keeps GET /users whole without parameters, and pages with them', async () => {
      const all = await api.get('/users', viewer.token);
      expect(all.body.next_cursor).toBeUndefined();
      expect(all.body.users.length).toBeGreaterThanOrEqual(7);
      expect(all.body.users.some((u: { id: string }) => u.id === viewer.id)).toBe(false);
      const page = await api.get(`/users?q=pp${tag}&limit=2`, viewer.token);
      expect(page.status).toBe(200);
      expect(page.body.users.map((u: { username: string }) => u.username)).toEqual([
        `pp${tag}_0`,
        `pp${tag}_1`,
      ]);
      const next = await api.get(`/users?q=pp${tag}&limit=2&cursor=${page.body.next_cursor}`, viewer.token);
      expect(next.body.users[0].username).toBe(`pp${tag}_2`);
      const tooMany = await api.get('/users?limit=101', viewer.token);
      expect(tooMany.status).toBe(422);
      expect(tooMany.body.detail[0].loc).toEqual(['query', 'limit']);
    });
  });
});
