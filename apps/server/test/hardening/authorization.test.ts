import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from '../helpers/rest.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { legacySocket, sleep, trpcClient } from '../helpers/sockets.ts';
import { report, rowCounts } from './helpers.ts';

type Client = ReturnType<typeof trpcClient>['client'];
type Outcome = { status: number; message: string };

const SECRET_TITLE = 'Top secret plans';
const SECRET_TEXT = 'launch codes are 0000';

/** Runs a tRPC call and reduces its failure to an HTTP status and message; success is status 200. */
async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return { status: 200, message: '' };
  } catch (error) {
    const e = error as { message: string; data?: { httpStatus?: number } };
    return { status: e.data?.httpStatus ?? 0, message: e.message };
  }
}

const tally: Record<string, number> = {};
afterAll(() => report('attacks-authorization', tally));

describe.each(DIALECTS)('a non-member, on every procedure and socket message (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let mallory: TestUser;
  let group: string;
  let direct: string;
  let messages: { alices: string; bobs: string; direct: string };
  const closers: Array<() => void> = [];
  beforeAll(async () => {
    t = await startServer(dialect);
    api = new Rest(t.url);
    alice = await api.user('alice');
    bob = await api.user('bob');
    carol = await api.user('carol');
    mallory = await api.user('mallory');
    group = await api.conversation(alice.token, [bob.id, carol.id], SECRET_TITLE);
    direct = await api.conversation(alice.token, [bob.id]);
    messages = {
      alices: (await api.send(alice.token, alice.id, group, SECRET_TEXT)).body.id,
      bobs: (await api.send(bob.token, bob.id, group, `${SECRET_TEXT} (bob)`)).body.id,
      direct: (await api.send(alice.token, alice.id, direct, `${SECRET_TEXT} (direct)`)).body.id,
    };
  });
  afterAll(async () => {
    for (const close of closers) close();
    await t.close();
  });

  /** Every way into a conversation, as tRPC calls; message ids are the conversation's own. */
  function attempts(client: Client, conversationId: string, messageIds: string[]) {
    const list: Array<[string, () => Promise<unknown>, 'conversation' | 'message']> = [
      [
        'conversations.get',
        () => client.conversations.get.query({ conversation_id: conversationId }),
        'conversation',
      ],
      [
        'conversations.markRead',
        () => client.conversations.markRead.mutate({ conversation_id: conversationId, seq: 1 }),
        'conversation',
      ],
      [
        'conversations.addMembers',
        () =>
          client.conversations.addMembers.mutate({ conversation_id: conversationId, user_ids: [mallory.id] }),
        'conversation',
      ],
      [
        'conversations.leave',
        () => client.conversations.leave.mutate({ conversation_id: conversationId }),
        'conversation',
      ],
      [
        'conversations.rename',
        () => client.conversations.rename.mutate({ conversation_id: conversationId, title: 'pwned' }),
        'conversation',
      ],
      [
        'conversations.typing',
        () => client.conversations.typing.mutate({ conversation_id: conversationId }),
        'conversation',
      ],
      [
        'messages.list',
        () => client.messages.list.query({ conversation_id: conversationId }),
        'conversation',
      ],
      [
        'messages.send',
        () =>
          client.messages.send.mutate({
            message_id: randomUUID(),
            conversation_id: conversationId,
            content: 'intrusion',
          }),
        'conversation',
      ],
      [
        'messages.search',
        () => client.messages.search.query({ query: 'launch', conversation_id: conversationId }),
        'conversation',
      ],
    ];
    for (const id of messageIds) {
      list.push(['messages.edit', () => client.messages.edit.mutate({ id, content: 'defaced' }), 'message']);
      list.push(['messages.delete', () => client.messages.delete.mutate({ id }), 'message']);
    }
    return list;
  }

  /** A refusal that says no more than "forbidden" or "not found": no title, member, or text of the conversation. */
  function expectOpaque(result: Outcome, what: string, allowed: number[]) {
    expect(allowed, `${what}: ${result.status} ${result.message}`).toContain(result.status);
    for (const secret of [
      SECRET_TITLE,
      'launch codes',
      alice.id,
      bob.id,
      carol.id,
      alice.username,
      bob.username,
    ])
      expect(result.message, what).not.toContain(secret);
  }

  async function snapshot() {
    const db = t.server.database.db;
    return {
      counts: await rowCounts(db),
      conversations: await db
        .selectFrom('conversations')
        .select(['id', 'title', 'last_seq'])
        .orderBy('id')
        .execute(),
      members: await db
        .selectFrom('conversation_members')
        .selectAll()
        .orderBy('conversation_id')
        .orderBy('user_id')
        .execute(),
      messages: await db
        .selectFrom('messages')
        .select(['id', 'content', 'edited_at', 'deleted_at'])
        .orderBy('id')
        .execute(),
    };
  }

  it('can neither read, write, change, join, nor watch a conversation it is not in', async () => {
    const before = await snapshot();
    const intruder = trpcClient(t.url, mallory.token);
    closers.push(intruder.close);
    const intruderOverSocket = trpcClient(t.url, mallory.token, { allOverSocket: true });
    closers.push(intruderOverSocket.close);
    const watching = intruder.stream();
    const legacy = await legacySocket(t.url, `?token=${mallory.token}`);
    closers.push(() => legacy.ws.close());
    const bobWatching = trpcClient(t.url, bob.token);
    closers.push(bobWatching.close);
    const bobStream = bobWatching.stream();
    await Promise.all([watching.started.count(1), bobStream.started.count(1), legacy.authenticated()]);

    const targets: Array<[string, string, string[]]> = [
      ['group', group, [messages.alices, messages.bobs]],
      ['1-on-1', direct, [messages.direct]],
    ];
    for (const client of [intruder.client, intruderOverSocket.client]) {
      for (const [name, id, ids] of targets) {
        for (const [procedure, call, kind] of attempts(client, id, ids)) {
          const result = await outcome(call);
          tally[`tRPC ${procedure}`] = (tally[`tRPC ${procedure}`] ?? 0) + 1;
          // Someone else's message is "not found"; someone else's conversation is 403 (404 when unknown).
          expectOpaque(result, `${procedure} on the ${name}`, kind === 'message' ? [404] : [403]);
        }
      }
      // Unknown ids answer 404 on the same paths: nothing more is told.
      for (const [procedure, call, kind] of attempts(client, randomUUID(), [randomUUID()])) {
        const result = await outcome(call);
        expectOpaque(result, `${procedure} on an unknown id`, kind === 'message' ? [404] : [404]);
      }
    }

    // Lists and searches across "my conversations" never include it.
    const mine = await intruder.client.conversations.list.query();
    expect(mine.map((c) => c.id)).not.toContain(group);
    expect(mine.map((c) => c.id)).not.toContain(direct);
    const found = await intruder.client.messages.search.query({ query: 'launch codes' });
    expect(found.results).toEqual([]);
    tally['tRPC lists and searches'] = (tally['tRPC lists and searches'] ?? 0) + 2;

    // REST: history 403, send 403, list without them.
    for (const id of [group, direct]) {
      expect((await api.get(`/conversations/${id}/messages`, mallory.token)).status).toBe(403);
      const sent = await api.send(mallory.token, mallory.id, id, 'intrusion');
      expect(sent.status).toBe(403);
      expect(JSON.stringify(sent.body)).not.toContain(SECRET_TITLE);
      // Sending as someone else is refused before anything else.
      expect((await api.send(mallory.token, alice.id, id, 'as alice')).status).toBe(403);
      tally.REST = (tally.REST ?? 0) + 3;
    }
    const listed = await api.get('/conversations', mallory.token);
    expect(listed.body.conversations.map((c: { id: string }) => c.id)).toEqual(
      expect.not.arrayContaining([group, direct]),
    );

    // Legacy frames: join and message are refused with an error frame.
    for (const id of [group, direct]) {
      legacy.send({ type: 'join', conversation_id: id });
      legacy.send({ type: 'message', message_id: randomUUID(), conversation_id: id, content: 'intrusion' });
    }
    const frames = await legacy.frames.count(4);
    expect(frames.map((f) => f.type)).toEqual(['error', 'error', 'error', 'error']);
    for (const frame of frames) expect(frame.reason).toBe('Not a member of this conversation');
    tally['legacy /ws'] = (tally['legacy /ws'] ?? 0) + 4;

    // The members keep talking; the watcher outside hears nothing of it.
    await api.send(alice.token, alice.id, group, `${SECRET_TEXT} live`);
    await api.send(alice.token, alice.id, direct, `${SECRET_TEXT} live (direct)`);
    await bobStream.events.until((items) => items.filter((e) => e.data.type === 'message').length >= 2);
    await sleep(300);
    const heard = JSON.stringify([watching.events.items, legacy.frames.items.slice(4)]);
    for (const secret of [group, direct, SECRET_TITLE, 'launch codes']) expect(heard).not.toContain(secret);
    tally['subscriptions watched'] = (tally['subscriptions watched'] ?? 0) + 2;

    // And nothing changed: no member added, no title, text, read position or message touched
    // (alice's own read position moves with her live sends).
    const after = await snapshot();
    const reads = (rows: typeof before.members) =>
      rows.map((m) => ({ ...m, last_read_seq: m.user_id === alice.id ? 'sender' : m.last_read_seq }));
    expect(reads(after.members)).toEqual(reads(before.members));
    expect(after.conversations.find((c) => c.id === group)?.title).toBe(SECRET_TITLE);
    for (const m of before.messages) expect(after.messages.find((x) => x.id === m.id)).toEqual(m);
    expect(after.counts.messages).toBe(before.counts.messages + 2);
  });

  it('treats a member who left like any outsider', async () => {
    const carolClient = trpcClient(t.url, carol.token);
    closers.push(carolClient.close);
    await carolClient.client.conversations.leave.mutate({ conversation_id: group });
    const left = await carolClient.client.conversations.list.query();
    expect(left.map((c) => c.id)).not.toContain(group);
    for (const [procedure, call, kind] of attempts(carolClient.client, group, [messages.alices])) {
      if (procedure === 'conversations.addMembers') continue; // names mallory, not carol
      const result = await outcome(call);
      tally[`tRPC ${procedure} (left)`] = (tally[`tRPC ${procedure} (left)`] ?? 0) + 1;
      expectOpaque(result, `${procedure} after leaving`, kind === 'message' ? [404] : [403]);
    }
    expect((await api.get(`/conversations/${group}/messages`, carol.token)).status).toBe(403);
  });
});
