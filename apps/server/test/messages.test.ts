import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { useChatFixture } from './helpers/chat-fixture.ts';
import type { Rest, TestUser } from './helpers/rest.ts';
import type { TestServer } from './helpers/server.ts';
import { legacySocket } from './helpers/sockets.ts';

describe.each(DIALECTS)('messages over REST (%s)', (dialect) => {
  const f = useChatFixture(dialect);
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let chat: string;
  beforeAll(() => {
    ({ t, api, alice, bob, mallory, chat } = f);
  });

  it('stores a message with 201 and returns the contract shape', async () => {
    const messageId = randomUUID();
    const reply = await api.send(alice.token, alice.id, chat, '  hello bob  ', messageId);
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      id: expect.any(String),
      message_id: messageId,
      sender_id: alice.id,
      conversation_id: chat,
      content: 'hello bob',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      seq: expect.any(Number),
      kind: 'user',
      system: null,
      edited_at: null,
      deleted_at: null,
      // Additive fields (replies, mentions, reactions, files): old clients ignore them.
      reply_to: null,
      mentions: [],
      reactions: [],
      attachments: [],
    });
  });

  it('checks sender, then conversation, then membership', async () => {
    expect((await api.send(alice.token, bob.id, chat, 'as bob')).status).toBe(403);
    expect((await api.send(alice.token, bob.id, chat, 'as bob')).body).toEqual({
      detail: 'sender_id must match authenticated user',
    });
    expect((await api.send(alice.token, alice.id, randomUUID(), 'nowhere')).status).toBe(404);
    const outsider = await api.send(mallory.token, mallory.id, chat, 'let me in');
    expect(outsider.status).toBe(403);
    expect((await api.send(mallory.token, alice.id, randomUUID(), 'x')).status).toBe(403);
  });

  it('lets only members read history: 404 unknown, 403 outsider', async () => {
    expect((await api.get(`/conversations/${chat}/messages`, mallory.token)).status).toBe(403);
    expect((await api.get(`/conversations/${randomUUID()}/messages`, alice.token)).status).toBe(404);
    expect((await api.get(`/conversations/${chat}/messages`)).status).toBe(401);
  });

  it('answers a login that is gone with 401 ahead of the page, its errors and its input (REST and tRPC)', async () => {
    // The page is read alongside the login's check (memberReadProcedure): the check must still decide.
    const leaver = await api.user('history_leaver');
    const room = await api.conversation(leaver.token, [alice.id]);
    await api.send(leaver.token, leaver.id, room, 'before logging out');
    const history = `/conversations/${room}/messages`;
    const page = await api.get(history, leaver.token);
    expect(page.status).toBe(200);
    expect(page.body.messages.map((m: { content: string }) => m.content)).toEqual(['before logging out']);

    expect((await api.post('/auth/logout', { refresh_token: leaver.refreshToken })).status).toBe(204);
    for (const path of [
      history,
      `${history}?before=2`,
      `/conversations/${randomUUID()}/messages`,
      `/conversations/${chat}/messages`,
      `${history}?limit=0`,
      `/conversations/not-an-id/messages`,
    ]) {
      const refused = await api.get(path, leaver.token);
      expect(refused.status, path).toBe(401);
      expect(JSON.stringify(refused.body)).not.toContain('before logging out');
    }
    const overTrpc = await fetch(
      `${t.url}/trpc/messages.list?input=${encodeURIComponent(JSON.stringify({ conversation_id: room }))}`,
      { headers: { authorization: `Bearer ${leaver.token}` } },
    );
    expect(overTrpc.status).toBe(401);
    const body = await overTrpc.text();
    expect(body).toContain('UNAUTHORIZED');
    expect(body).not.toContain('before logging out');
    // The member who stays still reads it, over both.
    expect((await api.get(history, alice.token)).body.messages).toHaveLength(1);
    const stays = await fetch(
      `${t.url}/trpc/messages.list?input=${encodeURIComponent(JSON.stringify({ conversation_id: room }))}`,
      { headers: { authorization: `Bearer ${alice.token}` } },
    );
    expect(stays.status).toBe(200);
    expect(
      ((await stays.json()) as { result: { data: { messages: unknown[] } } }).result.data.messages,
    ).toHaveLength(1);
  });

  it('returns the original message for a repeated message_id, stored once', async () => {
    const messageId = randomUUID();
    const first = await api.send(alice.token, alice.id, chat, 'once', messageId);
    const again = await api.send(alice.token, alice.id, chat, 'once', messageId);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    const conflict = await api.send(alice.token, alice.id, chat, 'different', messageId);
    expect(conflict.status).toBe(409);
    // Idempotency is per sender: bob may use the same message_id.
    const bobs = await api.send(bob.token, bob.id, chat, 'once', messageId);
    expect(bobs.status).toBe(201);
    expect(bobs.body.id).not.toBe(first.body.id);
  });

  it('stores one message for 20 simultaneous sends of one message_id', async () => {
    const messageId = randomUUID();
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => api.send(alice.token, alice.id, chat, 'race', messageId)),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    const rows = await t.server.database.db
      .selectFrom('messages')
      .select('id')
      .where('message_id', '=', messageId)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('writes sends that arrive together in shared transactions (group commit)', async () => {
    const metric = async () => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      const count = Number(/^pneumatic_group_commit_batch_size_count (\S+)$/m.exec(text)?.[1] ?? 0);
      const sum = Number(/^pneumatic_group_commit_batch_size_sum (\S+)$/m.exec(text)?.[1] ?? 0);
      return { count, sum };
    };
    const before = await metric();
    const room = await api.conversation(alice.token, [bob.id], 'group commit');
    const socket = await legacySocket(t.url, `?token=${alice.token}`);
    await socket.authenticated();
    for (let i = 0; i < 50; i++) {
      socket.send({ type: 'message', message_id: randomUUID(), conversation_id: room, content: `gc ${i}` });
    }
    await socket.frames.count(50);
    const after = await metric();
    expect(after.sum - before.sum).toBe(50);
    expect(after.count - before.count).toBeLessThan(50);
    const seqs = socket.frames.items.map((f) => f.message.seq);
    // In the order the frames were sent, without a gap.
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => seqs[0] + i));
    expect(socket.frames.items.map((f) => f.message.content)).toEqual(
      Array.from({ length: 50 }, (_, i) => `gc ${i}`),
    );
    socket.ws.close();
  });

  it('keeps seq gap-free under concurrent senders', async () => {
    const room = await api.conversation(alice.token, [bob.id, mallory.id], 'room');
    const senders = [alice, bob, mallory];
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const s = senders[i % 3]!;
        return api.send(s.token, s.id, room, `m${i}`);
      }),
    );
    const rows = await t.server.database.db
      .selectFrom('messages')
      .select('seq')
      .where('conversation_id', '=', room)
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });

  it('walks 250 messages back with before, without a gap or a repeat', async () => {
    const room = await api.conversation(alice.token, [bob.id, mallory.id], 'long');
    for (let i = 0; i < 250; i++) await api.send(alice.token, alice.id, room, `n${i}`);
    const first = await api.get(`/conversations/${room}/messages`, bob.token);
    expect(first.status).toBe(200);
    expect(first.body.messages).toHaveLength(50);
    expect(first.body.messages.at(-1).content).toBe('n249');
    const seen: string[] = [];
    let page = first.body;
    for (;;) {
      seen.unshift(...page.messages.map((m: { content: string }) => m.content));
      const seqs = page.messages.map((m: { seq: number }) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      if (page.next_cursor === null) break;
      const next = await api.get(
        `/conversations/${room}/messages?limit=70&before=${page.messages[0].seq}`,
        bob.token,
      );
      expect(next.status).toBe(200);
      page = next.body;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `n${i}`));
  });

  it('pages at the edges: no messages, exactly a page, one more, a cursor at the first', async () => {
    // A conversation of its own: alice and bob's direct one holds earlier tests' messages.
    const carol = await api.user('carol');
    const room = await api.conversation(alice.token, [carol.id], 'edges');
    const page = async (query: string) => {
      const reply = await api.get(`/conversations/${room}/messages${query}`, carol.token);
      expect(reply.status).toBe(200);
      return {
        seqs: reply.body.messages.map((m: { seq: number }) => m.seq),
        next: reply.body.next_cursor,
      };
    };
    expect(await page('')).toEqual({ seqs: [], next: null });
    expect(await page('?before=5')).toEqual({ seqs: [], next: null });
    for (let i = 0; i < 5; i++) await api.send(alice.token, alice.id, room, `e${i}`);
    expect(await page('?limit=5')).toEqual({ seqs: [1, 2, 3, 4, 5], next: null });
    expect(await page('?limit=4')).toEqual({ seqs: [2, 3, 4, 5], next: 2 });
    expect(await page('?limit=4&before=2')).toEqual({ seqs: [1], next: null });
    expect(await page('?limit=2&before=4')).toEqual({ seqs: [2, 3], next: 2 });
    expect(await page('?before=1')).toEqual({ seqs: [], next: null });
    expect(await page('?before=1000')).toEqual({ seqs: [1, 2, 3, 4, 5], next: null });
    // An outsider still learns nothing of it.
    expect((await api.get(`/conversations/${room}/messages?limit=1`, mallory.token)).status).toBe(403);
  });

  it.each([
    ['?limit=0', ['query', 'limit']],
    ['?limit=201', ['query', 'limit']],
    ['?limit=abc', ['query', 'limit']],
    ['?limit=-5', ['query', 'limit']],
    ['?before=0', ['query', 'before']],
    ['?before=xyz', ['query', 'before']],
  ])('answers 422 for history query %s', async (query, loc) => {
    const reply = await api.get(`/conversations/${chat}/messages${query}`, alice.token);
    expect(reply.status).toBe(422);
    expect(reply.body.detail[0].loc).toEqual(loc);
  });

  it('answers a conversation id that is not a UUID as an unknown one: 404', async () => {
    const reply = await api.get('/conversations/not-a-uuid/messages', alice.token);
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ detail: 'Conversation not found' });
  });

  it.each([
    [{ content: '' }, 'content'],
    [{ content: '   \n  ' }, 'content'],
    [{ content: 'x'.repeat(4001) }, 'content'],
    [{ message_id: '' }, 'message_id'],
    [{ message_id: 'm'.repeat(129) }, 'message_id'],
    [{ content: 42 }, 'content'],
    [{ conversation_id: 42 }, 'conversation_id'],
  ])('answers 422 for a bad message (case %#)', async (patch, field) => {
    const body = {
      message_id: randomUUID(),
      sender_id: alice.id,
      conversation_id: chat,
      content: 'ok',
      ...patch,
    };
    const reply = await api.post('/messages', body, alice.token);
    expect(reply.status).toBe(422);
    expect(reply.body.detail[0].loc).toEqual(['body', field]);
    const stored = await t.server.database.db
      .selectFrom('messages')
      .select('id')
      .where('message_id', '=', String(body.message_id))
      .execute();
    expect(stored).toHaveLength(0);
  });

  it('accepts 4000 characters counted as people count them (emoji count once)', async () => {
    expect((await api.send(alice.token, alice.id, chat, 'x'.repeat(4000))).status).toBe(201);
    expect((await api.send(alice.token, alice.id, chat, '😀'.repeat(4000))).status).toBe(201);
    expect((await api.send(alice.token, alice.id, chat, '😀'.repeat(4001))).status).toBe(422);
  });

  it('answers 422 for a body that is not JSON', async () => {
    const reply = await api.request('POST', '/messages', { raw: '{"broken', token: alice.token });
    expect(reply.status).toBe(422);
  });
});
