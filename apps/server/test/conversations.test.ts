import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';

describe.each(DIALECTS)('users and conversations over REST (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  beforeAll(async () => {
    t = await startServer(dialect);
    api = new Rest(t.url);
    alice = await api.user('alice', 'Alice Liddell');
    bob = await api.user('bob');
    carol = await api.user('carol');
  });
  afterAll(() => t.close());

  it('lists everyone but the caller, by username', async () => {
    const reply = await api.get('/users', alice.token);
    expect(reply.status).toBe(200);
    const names = reply.body.users.map((u: { username: string }) => u.username);
    expect(names).not.toContain(alice.username);
    expect(names).toEqual(expect.arrayContaining([bob.username, carol.username]));
    expect(names).toEqual(
      [...names].sort((a: string, b: string) => a.toLowerCase().localeCompare(b.toLowerCase())),
    );
    expect(reply.body.users[0]).toEqual({
      id: expect.any(String),
      username: expect.any(String),
      full_name: null,
      online: false,
    });
    expect((await api.get('/users')).status).toBe(401);
  });

  it('creates a group with the caller as a member and duplicates dropped', async () => {
    const reply = await api.post(
      '/conversations',
      { title: 'Team', member_ids: [bob.id, carol.id, bob.id, alice.id] },
      alice.token,
    );
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ id: expect.any(String), title: 'Team', kind: 'group' });
    expect([...reply.body.members].sort()).toEqual([alice.id, bob.id, carol.id].sort());
    const again = await api.post(
      '/conversations',
      { title: 'Team', member_ids: [bob.id, carol.id] },
      alice.token,
    );
    expect(again.body.id).not.toBe(reply.body.id);
  });

  it('returns the existing 1-on-1 to either side, with its original title', async () => {
    const first = await api.post('/conversations', { title: 'alice+bob', member_ids: [bob.id] }, alice.token);
    expect(first.status).toBe(201);
    expect(first.body.kind).toBe('direct');
    const second = await api.post(
      '/conversations',
      { title: 'other title', member_ids: [alice.id, alice.id] },
      bob.token,
    );
    expect(second.status).toBe(201);
    expect(second.body.id).toBe(first.body.id);
    expect(second.body.title).toBe('alice+bob');
  });

  it('ends 20 simultaneous 1-on-1 requests from both sides in one conversation', async () => {
    const dan = await api.user('dan');
    const erin = await api.user('erin');
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? api.post('/conversations', { title: `dm ${i}`, member_ids: [erin.id] }, dan.token)
          : api.post('/conversations', { title: `dm ${i}`, member_ids: [dan.id] }, erin.token),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    const rows = await t.server.database.db
      .selectFrom('conversation_members')
      .select('conversation_id')
      .where('user_id', '=', dan.id)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('answers 400 naming an unknown member id', async () => {
    const ghost = randomUUID();
    const reply = await api.post('/conversations', { title: 'x', member_ids: [bob.id, ghost] }, alice.token);
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toContain(ghost);
  });

  it('answers a member id that is not a UUID as an unknown one: 400 naming it', async () => {
    const reply = await api.post(
      '/conversations',
      { title: 'x', member_ids: [bob.id, 'not-a-uuid'] },
      alice.token,
    );
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ detail: 'Unknown member id: not-a-uuid' });
  });

  it.each([
    [{ title: 'x'.repeat(201), member_ids: [] }, ['body', 'title']],
    [{ member_ids: [] }, ['body', 'title']],
    [{ title: 'x', member_ids: 'abc' }, ['body', 'member_ids']],
  ])('answers 422 for %j', async (body, loc) => {
    const reply = await api.post('/conversations', body, alice.token);
    expect(reply.status).toBe(422);
    expect(reply.body.detail[0].loc).toEqual(loc);
  });

  it("lists the caller's conversations with members, most recent activity first", async () => {
    const frank = await api.user('frank');
    const older = await api.conversation(frank.token, [alice.id], 'older');
    const newer = await api.conversation(frank.token, [bob.id], 'newer');
    await api.send(frank.token, frank.id, older, 'bump');
    const reply = await api.get('/conversations', frank.token);
    expect(reply.status).toBe(200);
    expect(reply.body.conversations.map((c: { id: string }) => c.id)).toEqual([older, newer]);
    const first = reply.body.conversations[0];
    expect(first).toMatchObject({ title: 'older', last_message: { content: 'bump' } });
    expect([...first.members].sort()).toEqual([alice.id, frank.id].sort());
    expect(
      (await api.get('/conversations', carol.token)).body.conversations.map((c: { id: string }) => c.id),
    ).not.toContain(older);
  });
});
