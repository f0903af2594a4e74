import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { sleep, trpcClient } from './helpers/sockets.ts';
import { rejection } from './helpers/trpc-calls.ts';

type Client = ReturnType<typeof trpcClient>;

describe.each(DIALECTS)('muting a conversation (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  const clients: Client[] = [];
  const as = (user: TestUser) => {
    const c = trpcClient(t.url, user.token);
    clients.push(c);
    return c;
  };
  const listed = async (user: TestUser, room: string) =>
    (await as(user).client.conversations.list.query()).find((c) => c.id === room)!;
  const stored = async (room: string, user: TestUser) =>
    (
      await t.server.database.db
        .selectFrom('conversation_members')
        .select('muted_at')
        .where('conversation_id', '=', room)
        .where('user_id', '=', user.id)
        .executeTakeFirstOrThrow()
    ).muted_at;

  beforeAll(async () => {
    t = await startServer(dialect);
    api = new Rest(t.url);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  it("mutes and unmutes for the caller only: the list carries the caller's own flag", async () => {
    const [alice, bob] = await Promise.all([api.user('mute_a'), api.user('mute_b')]);
    const room = await api.conversation(alice.token, [bob.id]);
    expect((await listed(alice, room)).muted).toBe(false);

    const muted = await as(alice).client.conversations.setMuted.mutate({
      conversation_id: room,
      muted: true,
    });
    expect(muted).toEqual({ conversation_id: room, muted: true });
    expect(await stored(room, alice)).toEqual(expect.any(String));
    expect((await listed(alice, room)).muted).toBe(true);
    // Bob's list says whether bob muted it, and he did not.
    expect((await listed(bob, room)).muted).toBe(false);
    expect(await stored(room, bob)).toBeNull();

    // Muting twice changes nothing; unmuting does.
    await as(alice).client.conversations.setMuted.mutate({ conversation_id: room, muted: true });
    expect((await listed(alice, room)).muted).toBe(true);
    const unmuted = await as(alice).client.conversations.setMuted.mutate({
      conversation_id: room,
      muted: false,
    });
    expect(unmuted).toEqual({ conversation_id: room, muted: false });
    expect((await listed(alice, room)).muted).toBe(false);
    expect(await stored(room, alice)).toBeNull();
  });

  it('carries the flag in REST GET /conversations, for the caller alone', async () => {
    const [alice, bob] = await Promise.all([api.user('rest_mute_a'), api.user('rest_mute_b')]);
    const room = await api.conversation(alice.token, [bob.id]);
    await as(bob).client.conversations.setMuted.mutate({ conversation_id: room, muted: true });
    const mine = await api.get('/conversations', bob.token);
    const theirs = await api.get('/conversations', alice.token);
    expect(mine.status).toBe(200);
    expect(mine.body.conversations.find((c: { id: string }) => c.id === room)).toMatchObject({
      id: room,
      members: expect.arrayContaining([alice.id, bob.id]),
      muted: true,
    });
    expect(theirs.body.conversations.find((c: { id: string }) => c.id === room).muted).toBe(false);
  });

  it("tells the caller's other devices live, and never the other members", async () => {
    const [alice, bob] = await Promise.all([api.user('devices_a'), api.user('devices_b')]);
    const room = await api.conversation(alice.token, [bob.id], 'devices');
    const phone = as(alice).stream();
    const laptop = as(alice);
    const bobs = as(bob).stream();
    await Promise.all([phone.started.count(1), bobs.started.count(1)]);

    await laptop.client.conversations.setMuted.mutate({ conversation_id: room, muted: true });
    const [event] = await phone.events.count(1);
    expect(event!.data).toEqual({ type: 'mute', conversation_id: room, muted: true });
    // A repeat changes nothing, so it tells nothing.
    await laptop.client.conversations.setMuted.mutate({ conversation_id: room, muted: true });
    await laptop.client.conversations.setMuted.mutate({ conversation_id: room, muted: false });
    await phone.events.count(2);
    expect(phone.events.items.map((e) => e.data)).toEqual([
      { type: 'mute', conversation_id: room, muted: true },
      { type: 'mute', conversation_id: room, muted: false },
    ]);

    // Bob hears of alice's messages in the room, but nothing of her mute.
    await api.send(alice.token, alice.id, room, 'after the mutes');
    await bobs.events.until((items) => items.some((e) => e.data.type === 'message'));
    await sleep(100);
    expect(bobs.events.items.map((e) => e.data.type)).toEqual(['message']);
  });

  it('refuses an outsider as every procedure does: 403 for a conversation, 404 for an unknown id', async () => {
    const [alice, bob, mallory] = await Promise.all([
      api.user('outsider_a'),
      api.user('outsider_b'),
      api.user('outsider_m'),
    ]);
    const room = await api.conversation(alice.token, [bob.id]);
    const watch = as(alice).stream();
    await watch.started.count(1);

    const outsider = await rejection(
      as(mallory).client.conversations.setMuted.mutate({ conversation_id: room, muted: true }),
    );
    const markRead = await rejection(
      as(mallory).client.conversations.markRead.mutate({ conversation_id: room, seq: 1 }),
    );
    expect(outsider).toEqual({ code: 'FORBIDDEN', message: markRead.message });

    const unknown = await rejection(
      as(alice).client.conversations.setMuted.mutate({ conversation_id: randomUUID(), muted: true }),
    );
    const unknownGet = await rejection(
      as(alice).client.conversations.get.query({ conversation_id: randomUUID() }),
    );
    expect(unknown).toEqual({ code: 'NOT_FOUND', message: unknownGet.message });

    for (const input of [
      { conversation_id: 'not-a-uuid', muted: true },
      { conversation_id: room, muted: 'yes' },
      { conversation_id: room, muted: 1 },
      { conversation_id: room },
    ]) {
      expect(await rejection(as(alice).client.conversations.setMuted.mutate(input as never))).toMatchObject({
        code: 'BAD_REQUEST',
      });
    }
    expect((await listed(alice, room)).muted).toBe(false);
    expect((await listed(bob, room)).muted).toBe(false);
    await sleep(100);
    expect(watch.events.items).toEqual([]);
  });

  it('goes with the membership: leaving and being added again starts unmuted', async () => {
    const [alice, bob, carol] = await Promise.all([
      api.user('again_a'),
      api.user('again_b'),
      api.user('again_c'),
    ]);
    const group = await api.conversation(alice.token, [bob.id, carol.id], 'group');
    await as(carol).client.conversations.setMuted.mutate({ conversation_id: group, muted: true });
    await as(carol).client.conversations.leave.mutate({ conversation_id: group });
    expect(
      await rejection(
        as(carol).client.conversations.setMuted.mutate({ conversation_id: group, muted: false }),
      ),
    ).toMatchObject({ code: 'FORBIDDEN' });
    await as(alice).client.conversations.addMembers.mutate({ conversation_id: group, user_ids: [carol.id] });
    expect((await listed(carol, group)).muted).toBe(false);
  });
});
