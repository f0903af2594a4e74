import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/process.ts';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { clientPool, rejection } from './helpers/trpc-calls.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe.each(DIALECTS)('operators (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  const pool = clientPool(() => t.url);
  const cli = (...args: string[]) => runCli(args, { DATABASE_URL: t.database.url, REPLAY_LIMIT: '2' });
  beforeAll(async () => {
    // Without Redis a CLI change reaches this server's sockets at its session check.
    t = await startServer(dialect, { ALLOW_SIGNUP: false, SOCKET_SESSION_CHECK_MS: 200 });
    api = new Rest(t.url);
  });
  afterAll(async () => {
    pool.closeAll();
    await t.close();
  });

  /** A user made by the operator (sign-up is closed), logged in. */
  async function user(name: string): Promise<TestUser> {
    const username = `${name}_${Math.random().toString(36).slice(2, 8)}`;
    const password = 'correct horse battery';
    const made = await runCli(
      ['create-user', '--username', username, '--password-stdin'],
      { DATABASE_URL: t.database.url, ALLOW_SIGNUP: 'false' },
      `${password}\n`,
    );
    expect(made.code, made.stderr).toBe(0);
    const login = await api.post('/auth/login', { username, password });
    expect(login.status).toBe(200);
    const me = await api.get('/auth/me', login.body.access_token);
    return {
      id: me.body.id,
      username,
      password,
      token: login.body.access_token,
      refreshToken: login.body.refresh_token,
    };
  }

  it('closes sign-up over REST and tRPC with ALLOW_SIGNUP=false; create-user still works', async () => {
    const rest = await api.post('/auth/signup', { username: 'newcomer', password: 'long enough pass' });
    expect(rest.status).toBe(403);
    expect(rest.body).toEqual({ detail: 'Sign-up is closed on this server; ask an operator' });
    const alice = await user('alice');
    expect(
      await rejection(
        pool.as(alice).client.auth.signup.mutate({ username: 'newcomer', password: 'long enough pass' }),
      ),
    ).toMatchObject({ code: 'FORBIDDEN', message: /Sign-up is closed/ });
  });

  it('disable-user: tokens refused at once, sockets closed, login refused; enable-user lets them back', async () => {
    const bob = await user('bob');
    const socket = pool.as(bob);
    await socket.stream().started.count(1);
    const disabled = await cli('disable-user', bob.username.toUpperCase());
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toBe(`Disabled ${bob.username}\n`);
    // The admin action is logged: who, what, target; never a secret.
    const logged = JSON.parse(disabled.stderr.trim().split('\n').at(-1)!);
    expect(logged).toMatchObject({
      event: 'admin action',
      actor: expect.stringMatching(/^cli:/),
      action: 'disable-user',
      target: { userId: bob.id, username: bob.username },
      time: expect.any(String),
    });
    expect(disabled.stderr).not.toContain(bob.password);

    expect((await api.get('/auth/me', bob.token)).status).toBe(401);
    expect((await socket.closes.count(1))[0]).toEqual({ code: 4403, reason: 'session revoked' });
    const login = await api.post('/auth/login', { username: bob.username, password: bob.password });
    expect(login).toMatchObject({ status: 403, body: { detail: 'This account is disabled' } });
    expect((await api.post('/auth/refresh', { refresh_token: bob.refreshToken })).status).toBe(401);

    expect((await cli('enable-user', bob.username)).code).toBe(0);
    expect((await api.post('/auth/login', { username: bob.username, password: bob.password })).status).toBe(
      200,
    );
    // The old login stays revoked.
    expect((await api.get('/auth/me', bob.token)).status).toBe(401);
    expect((await cli('disable-user', 'nobody_here')).code).toBe(1);
  });

  it('revoke-sessions logs a user out everywhere; they may log in again', async () => {
    const carol = await user('carol');
    const second = await api.post('/auth/login', { username: carol.username, password: carol.password });
    const revoked = await cli('revoke-sessions', carol.username);
    expect(revoked.stdout).toBe(`Revoked 2 sessions of ${carol.username}\n`);
    expect((await api.get('/auth/me', carol.token)).status).toBe(401);
    expect((await api.get('/auth/me', second.body.access_token)).status).toBe(401);
    expect(
      (await api.post('/auth/login', { username: carol.username, password: carol.password })).status,
    ).toBe(200);
  });

  it('delete-user keeps the messages, leaves the groups (handing ownership on) and frees the name', async () => {
    const [owner, member, other] = [await user('owner'), await user('member'), await user('other')];
    const group = await pool
      .as(owner)
      .client.conversations.create.mutate({ title: 'g', member_ids: [member.id, other.id] });
    await api.send(owner.token, owner.id, group.id, 'before I go');
    const deleted = await cli('delete-user', owner.username);
    expect(deleted.code, deleted.stderr).toBe(0);
    const seen = await pool.as(member).client.conversations.get.query({ conversation_id: group.id });
    expect(seen.members).not.toContain(owner.id);
    expect(Object.values(seen.roles)).toEqual(['owner']);
    const history = await api.get(`/conversations/${group.id}/messages`, member.token);
    expect(history.body.messages.map((m: { content: string }) => m.content)).toContain('before I go');
    expect(history.body.messages.at(-1).system).toMatchObject({ action: 'left', user_ids: [owner.id] });
    expect(
      (await api.post('/auth/login', { username: owner.username, password: owner.password })).status,
    ).toBe(401);
    const people = await pool.as(member).client.users.list.query();
    expect(people.users.map((p) => p.id)).not.toContain(owner.id);
    expect((await cli('delete-user', owner.username)).code).toBe(1);
  });

  it('export-conversation writes the conversation, members with roles and every message as JSON', async () => {
    const [dan, eve, fay] = [await user('dan'), await user('eve'), await user('fay')];
    const group = await pool.as(dan).client.conversations.create.mutate({
      title: 'exported',
      member_ids: [eve.id, fay.id],
    });
    await api.send(dan.token, dan.id, group.id, 'one');
    await api.send(eve.token, eve.id, group.id, 'two');
    const exported = await cli('export-conversation', group.id);
    expect(exported.code, exported.stderr).toBe(0);
    const json = JSON.parse(exported.stdout);
    expect(json.conversation).toMatchObject({
      id: group.id,
      title: 'exported',
      roles: { [dan.id]: 'owner' },
    });
    expect(json.members).toHaveLength(3);
    // They joined together: the order among them is by id.
    expect(json.members.find((m: { id: string }) => m.id === dan.id)).toMatchObject({
      username: dan.username,
      role: 'owner',
      joined_at: expect.any(String),
    });
    expect(json.messages.map((m: { content: string }) => m.content)).toEqual(['one', 'two']);
    expect((await cli('export-conversation', '00000000-0000-4000-8000-000000000000')).code).toBe(1);
  });

  it('prune deletes expired and revoked logins and events beyond the replay window; old resumes resync', async () => {
    const gus = await user('gus');
    const hal = await user('hal');
    await api.post('/auth/logout', { refresh_token: gus.refreshToken });
    const group = await pool.as(hal).client.conversations.create.mutate({
      title: 'a',
      member_ids: [gus.id, (await user('ian')).id],
    });
    for (const title of ['b', 'c', 'd', 'e'])
      await pool.as(hal).client.conversations.rename.mutate({ conversation_id: group.id, title });
    const pruned = await cli('prune');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/^Pruned [1-9]\d* sessions and [1-9]\d* events\n$/);
    // A resume from before the pruned events is told to resync, not handed a log with holes.
    const resumed = pool.as(hal).stream('1');
    const [first] = await resumed.events.count(1);
    expect(first!.data).toEqual({ type: 'resync' });
  });
});

describe('backup of a serving SQLite database', () => {
  it('copies it while messages are being sent; a fresh server on the copy serves the same history', async () => {
    const t = await startServer('sqlite');
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-backup-'));
    const file = join(dir, 'copy.db');
    let restored: TestServer | undefined;
    try {
      const api = new Rest(t.url);
      const alice = await api.user('alice');
      const bob = await api.user('bob');
      const room = await api.conversation(alice.token, [bob.id]);
      for (let i = 0; i < 20; i++) await api.send(alice.token, alice.id, room, `before ${i}`);
      let sending = true;
      const sender = (async () => {
        // Bounded, so both histories fit in one page.
        for (let i = 0; sending && i < 150; i++) await api.send(bob.token, bob.id, room, `during ${i}`);
      })();
      const backup = await runCli(['backup', file], { DATABASE_URL: t.database.url });
      sending = false;
      await sender;
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toMatch(/^Backed up \d+ pages to /);
      expect((await runCli(['backup', file], { DATABASE_URL: t.database.url })).code).toBe(2);
      const original = (await api.get(`/conversations/${room}/messages?limit=200`, alice.token)).body
        .messages;

      restored = await startServer('sqlite', {}, { database: { url: file, drop: async () => {} } });
      const copy = new Rest(restored.url);
      const login = await copy.post('/auth/login', { username: alice.username, password: alice.password });
      expect(login.status).toBe(200);
      const history = (await copy.get(`/conversations/${room}/messages?limit=200`, login.body.access_token))
        .body.messages;
      expect(history.length).toBeGreaterThanOrEqual(20);
      // One moment's state: a prefix of the original history, nothing torn.
      expect(history).toEqual(original.slice(0, history.length));
      expect(history.map((m: { seq: number }) => m.seq)).toEqual(
        history.map((_: unknown, i: number) => i + 1),
      );
    } finally {
      await restored?.close();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains pg_dump for PostgreSQL', async () => {
    const result = await runCli(['backup', '/tmp/never.db'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/pg_dump/);
  });
});

describe('a disabled user on several instances (PostgreSQL and Redis)', () => {
  it('loses their socket on the other instance and their token everywhere, at once', async () => {
    const database = await createTestDatabase('postgres');
    const a = await startServer('postgres', { REDIS_URL }, { database });
    const b = await startServer('postgres', { REDIS_URL }, { database });
    const pool = clientPool(() => b.url);
    try {
      const apiA = new Rest(a.url);
      const zoe = await apiA.user('zoe');
      const onB = pool.as(zoe);
      await onB.stream().started.count(1);
      const result = await runCli(['disable-user', zoe.username], { DATABASE_URL: database.url, REDIS_URL });
      expect(result.code, result.stderr).toBe(0);
      // Well before the servers' own session check (a minute): the bus told instance B.
      expect((await onB.closes.count(1, 3000))[0]).toEqual({ code: 4403, reason: 'session revoked' });
      expect((await apiA.get('/auth/me', zoe.token)).status).toBe(401);
      expect((await new Rest(b.url).get('/auth/me', zoe.token)).status).toBe(401);
    } finally {
      pool.closeAll();
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});

describe.each(DIALECTS)('scheduled pruning (%s)', (dialect) => {
  it('deletes revoked logins every PRUNE_INTERVAL_MS', async () => {
    const t = await startServer(dialect, { PRUNE_INTERVAL_MS: 100 });
    try {
      const api = new Rest(t.url);
      const kim = await api.user('kim');
      const { db } = t.server.deps.database;
      const sessions = () => db.selectFrom('sessions').select('id').where('user_id', '=', kim.id).execute();
      expect(await sessions()).toHaveLength(1);
      await api.post('/auth/logout', { refresh_token: kim.refreshToken });
      await expect.poll(sessions, { timeout: 3000 }).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
