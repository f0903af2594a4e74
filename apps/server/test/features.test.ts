import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { sleep, trpcClient } from './helpers/sockets.ts';
import { rejection } from './helpers/trpc-calls.ts';

type Client = ReturnType<typeof trpcClient>;

describe.each(DIALECTS)('chat features (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let mallory: TestUser;
  const clients: Client[] = [];
  const as = (user: TestUser) => {
    const c = trpcClient(t.url, user.token);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    t = await startServer(dialect, { PRESENCE_GRACE_MS: 300 });
    api = new Rest(t.url);
    [alice, bob, carol, mallory] = await Promise.all([
      api.user('alice'),
      api.user('bob'),
      api.user('carol'),
      api.user('mallory'),
    ]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  describe('edit and delete', () => {
    it('lets the sender edit and delete, live for everyone and in REST history', async () => {
      const room = await api.conversation(alice.token, [bob.id]);
      const s = as(bob).stream();
      await s.started.count(1);
      const sent = (await api.send(alice.token, alice.id, room, 'helo')).body;
      const edited = await as(alice).client.messages.edit.mutate({ id: sent.id, content: 'hello' });
      expect(edited).toMatchObject({
        id: sent.id,
        content: 'hello',
        edited_at: expect.any(String),
        deleted_at: null,
      });
      const events = await s.events.until((items) => items.some((e) => e.data.type === 'message_updated'));
      expect(events.find((e) => e.data.type === 'message_updated')!.data.message).toMatchObject({
        content: 'hello',
      });

      const history = await api.get(`/conversations/${room}/messages`, bob.token);
      expect(history.body.messages.at(-1)).toMatchObject({ content: 'hello', edited_at: expect.any(String) });

      const deleted = await as(alice).client.messages.delete.mutate({ id: sent.id });
      expect(deleted).toMatchObject({ content: '', deleted_at: expect.any(String) });
      const after = await api.get(`/conversations/${room}/messages`, bob.token);
      expect(after.body.messages.at(-1)).toMatchObject({
        id: sent.id,
        content: '',
        deleted_at: expect.any(String),
      });
      expect(
        await rejection(as(alice).client.messages.edit.mutate({ id: sent.id, content: 'back' })),
      ).toMatchObject({
        code: 'CONFLICT',
      });
    });

    it('refuses others: 403 for a fellow member, 404 for an outsider', async () => {
      const room = await api.conversation(alice.token, [bob.id, carol.id], 'edits');
      const sent = (await api.send(alice.token, alice.id, room, 'mine')).body;
      expect(
        await rejection(as(bob).client.messages.edit.mutate({ id: sent.id, content: 'yours' })),
      ).toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(await rejection(as(bob).client.messages.delete.mutate({ id: sent.id }))).toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(
        await rejection(as(mallory).client.messages.edit.mutate({ id: sent.id, content: 'x' })),
      ).toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(await rejection(as(mallory).client.messages.delete.mutate({ id: randomUUID() }))).toMatchObject({
        code: 'NOT_FOUND',
      });
      const history = await api.get(`/conversations/${room}/messages`, alice.token);
      expect(history.body.messages.at(-1)).toMatchObject({
        content: 'mine',
        edited_at: null,
        deleted_at: null,
      });
    });

    it('replays edits a reconnecting client missed', async () => {
      const room = await api.conversation(alice.token, [carol.id]);
      const first = as(carol);
      const s = first.stream();
      await s.started.count(1);
      const sent = (await api.send(alice.token, alice.id, room, 'draft')).body;
      await s.events.until((items) => items.some((e) => e.data.message?.id === sent.id));
      const lastId = s.events.items.at(-1)!.id;
      first.close();
      await as(alice).client.messages.edit.mutate({ id: sent.id, content: 'final' });
      const resumed = as(carol).stream(lastId);
      const [update] = await resumed.events.count(1);
      expect(update!.data).toMatchObject({
        type: 'message_updated',
        message: { id: sent.id, content: 'final' },
      });
    });
  });

  describe('read state', () => {
    it('moves forward only, updates unread counts and tells the members live', async () => {
      const [alice, bob] = await Promise.all([api.user('reader_a'), api.user('reader_b')]);
      const room = await api.conversation(alice.token, [bob.id]);
      for (let i = 0; i < 3; i++) await api.send(alice.token, alice.id, room, `m${i}`);
      const list = async (user: TestUser) =>
        (await as(user).client.conversations.list.query()).find((c) => c.id === room)!;
      expect((await list(bob)).unread_count).toBe(3);
      // What alice sent herself is not unread for her.
      expect((await list(alice)).unread_count).toBe(0);
      const aliceStream = as(alice).stream();
      await aliceStream.started.count(1);
      const moved = await as(bob).client.conversations.markRead.mutate({ conversation_id: room, seq: 2 });
      expect(moved).toEqual({ last_read_seq: 2 });
      expect((await list(bob)).unread_count).toBe(1);
      await aliceStream.events.until((items) => items.some((e) => e.data.type === 'read'));
      expect(aliceStream.events.items.find((e) => e.data.type === 'read')!.data).toEqual({
        type: 'read',
        conversation_id: room,
        user_id: bob.id,
        last_read_seq: 2,
      });
      expect((await list(alice)).read_seqs[bob.id]).toBe(2);
      // Backwards is ignored; past the end is clamped to the last message.
      expect(await as(bob).client.conversations.markRead.mutate({ conversation_id: room, seq: 1 })).toEqual({
        last_read_seq: 2,
      });
      expect(await as(bob).client.conversations.markRead.mutate({ conversation_id: room, seq: 999 })).toEqual(
        {
          last_read_seq: 3,
        },
      );
      expect((await list(bob)).unread_count).toBe(0);
    });

    it('refuses read state of conversations the caller is not in', async () => {
      const room = await api.conversation(alice.token, [bob.id]);
      expect(
        await rejection(as(mallory).client.conversations.markRead.mutate({ conversation_id: room, seq: 1 })),
      ).toMatchObject({ code: 'FORBIDDEN' });
    });
  });

  describe('membership', () => {
    it('adds, renames and leaves with a system line for each, live', async () => {
      const group = await as(alice).client.conversations.create.mutate({
        title: 'crew',
        member_ids: [bob.id, carol.id],
      });
      const dave = await api.user('dave');
      const daveStream = as(dave).stream();
      await daveStream.started.count(1);
      const added = await as(bob).client.conversations.addMembers.mutate({
        conversation_id: group.id,
        user_ids: [dave.id],
      });
      expect(added.members).toContain(dave.id);
      await daveStream.events.until((items) => items.some((e) => e.data.type === 'conversation'));

      await as(carol).client.conversations.rename.mutate({ conversation_id: group.id, title: 'the crew' });
      await as(carol).client.conversations.leave.mutate({ conversation_id: group.id });
      const history = await api.get(`/conversations/${group.id}/messages`, alice.token);
      const system = history.body.messages.filter((m: { kind: string }) => m.kind === 'system');
      expect(system.map((m: { system: { action: string } }) => m.system.action)).toEqual([
        'added',
        'renamed',
        'left',
      ]);
      expect(system[0].system.user_ids).toEqual([dave.id]);
      expect(system[1].system.title).toBe('the crew');
      expect(system[2].content).toMatch(/left/);

      // Carol is gone: no more reading, sending or live delivery.
      const carolStream = as(carol).stream();
      await carolStream.started.count(1);
      await api.send(alice.token, alice.id, group.id, 'after carol left');
      expect((await api.get(`/conversations/${group.id}/messages`, carol.token)).status).toBe(403);
      expect((await api.send(carol.token, carol.id, group.id, 'let me back')).status).toBe(403);
      await sleep(200);
      expect(
        carolStream.events.items.filter((e) => e.data.message?.content === 'after carol left'),
      ).toHaveLength(0);
    });

    it('never lets a 1-on-1 gain members, and refuses outsiders', async () => {
      const direct = await api.conversation(alice.token, [bob.id]);
      expect(
        await rejection(
          as(alice).client.conversations.addMembers.mutate({ conversation_id: direct, user_ids: [carol.id] }),
        ),
      ).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/1-on-1/) });
      const group = await api.conversation(alice.token, [bob.id, carol.id], 'closed');
      expect(
        await rejection(
          as(mallory).client.conversations.addMembers.mutate({
            conversation_id: group,
            user_ids: [mallory.id],
          }),
        ),
      ).toMatchObject({ code: 'FORBIDDEN' });
      expect(
        await rejection(
          as(mallory).client.conversations.rename.mutate({ conversation_id: group, title: 'mine' }),
        ),
      ).toMatchObject({ code: 'FORBIDDEN' });
      expect(
        await rejection(
          as(alice).client.conversations.addMembers.mutate({
            conversation_id: group,
            user_ids: [randomUUID()],
          }),
        ),
      ).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/Unknown member id/) });
    });
  });

  describe('search', () => {
    it('finds words across my conversations with highlights, and never in others', async () => {
      const mine = await api.conversation(alice.token, [bob.id], 'search a');
      const secret = await api.conversation(mallory.token, [carol.id], 'search b');
      const word = `zebra${randomUUID().slice(0, 6)}`;
      await api.send(alice.token, alice.id, mine, `the ${word} crossed the road`);
      await api.send(bob.token, bob.id, mine, `another ${word} sighting today`);
      await api.send(mallory.token, mallory.id, secret, `secret ${word} plans`);
      const found = await as(alice).client.messages.search.query({ query: word });
      expect(found.results).toHaveLength(2);
      expect(found.results[0]!.message.content).toContain('sighting');
      expect(found.results[0]!.snippet).toContain(`\uE000${word}\uE001`);
      // Prefix of the last word matches too.
      expect(
        (await as(alice).client.messages.search.query({ query: word.slice(0, 7) })).results.length,
      ).toBeGreaterThanOrEqual(2);
      // Not into a conversation I am not in: nothing from it, and asking for it directly is refused.
      expect((await as(carol).client.messages.search.query({ query: word })).results).toHaveLength(1);
      expect(
        await rejection(as(alice).client.messages.search.query({ query: word, conversation_id: secret })),
      ).toMatchObject({ code: 'FORBIDDEN' });
      // Query syntax is just text.
      expect(
        (await as(alice).client.messages.search.query({ query: '" OR * NEAR( ) -- ;' })).results,
      ).toEqual([]);
    });

    it('pages through results and skips deleted messages', async () => {
      const room = await api.conversation(alice.token, [bob.id], 'pages');
      const word = `kiwi${randomUUID().slice(0, 6)}`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await api.send(alice.token, alice.id, room, `${word} number ${i}`)).body.id);
      await as(alice).client.messages.delete.mutate({ id: ids[4]! });
      const seen: string[] = [];
      let cursor: number | null = null;
      for (let page = 0; page < 5; page++) {
        const found = await as(alice).client.messages.search.query({ query: word, limit: 3, cursor });
        seen.push(...found.results.map((r) => r.message.id));
        cursor = found.next_cursor;
        if (cursor === null) break;
      }
      expect(seen).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    });
  });

  describe('typing', () => {
    it('reaches the other members, never the typist, is never stored, and is throttled', async () => {
      const [alice, bob] = await Promise.all([api.user('typist'), api.user('watcher')]);
      const room = await api.conversation(alice.token, [bob.id], 'typing');
      const bobs = as(bob).stream();
      const alices = as(alice).stream();
      await Promise.all([bobs.started.count(1), alices.started.count(1)]);
      await as(alice).client.conversations.typing.mutate({ conversation_id: room });
      await as(alice).client.conversations.typing.mutate({ conversation_id: room });
      const [typing] = await bobs.events.count(1);
      expect(typing!.data).toEqual({
        type: 'typing',
        conversation_id: room,
        user_id: alice.id,
        expires_in_ms: expect.any(Number),
      });
      await sleep(200);
      expect(bobs.events.items).toHaveLength(1);
      expect(alices.events.items).toHaveLength(0);
      const history = await api.get(`/conversations/${room}/messages`, bob.token);
      expect(history.body.messages).toHaveLength(0);
      expect(
        await rejection(as(mallory).client.conversations.typing.mutate({ conversation_id: room })),
      ).toMatchObject({ code: 'FORBIDDEN' });
    });
  });

  describe('presence', () => {
    it('is online while any device is connected and offline a grace period after the last leaves', async () => {
      const erin = await api.user('erin');
      await api.conversation(erin.token, [alice.id]);
      const watcher = as(alice).stream(undefined, { presence: true });
      // Someone who shares no conversation with erin hears nothing of her.
      const stranger = as(mallory).stream(undefined, { presence: true });
      await watcher.started.count(1);
      await stranger.started.count(1);
      const isOnline = async () =>
        (await as(alice).client.users.list.query()).users.find((u) => u.id === erin.id)!.online;
      expect(await isOnline()).toBe(false);
      const phone = as(erin);
      const laptop = as(erin);
      phone.stream();
      const l = laptop.stream();
      await l.started.count(1);
      await watcher.events.until((items) =>
        items.some((e) => e.data.type === 'presence' && (e.data as { user_id?: string }).user_id === erin.id),
      );
      expect(await isOnline()).toBe(true);
      phone.close();
      await sleep(500);
      expect(await isOnline()).toBe(true);
      laptop.close();
      await expect.poll(isOnline, { timeout: 3000 }).toBe(false);
      // The list and the announcement are two paths: wait for the announcement too.
      const erinsChanges = (items: typeof watcher.events.items) =>
        items
          .filter((e) => e.data.type === 'presence' && (e.data as { user_id?: string }).user_id === erin.id)
          .map((e) => (e.data as { online?: boolean }).online);
      await watcher.events.until((items) => erinsChanges(items).includes(false));
      expect(erinsChanges(watcher.events.items)).toEqual([true, false]);
      expect(
        stranger.events.items.filter(
          (e) => e.data.type === 'presence' && (e.data as { user_id?: string }).user_id === erin.id,
        ),
      ).toEqual([]);
    });
  });
});
