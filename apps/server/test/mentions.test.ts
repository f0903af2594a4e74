import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { useChatFixture } from './helpers/chat-fixture.ts';
import type { TestUser } from './helpers/rest.ts';
import { clientPerUser } from './helpers/trpc-calls.ts';

describe.each(DIALECTS)('mentions (%s)', (dialect) => {
  const f = useChatFixture(dialect);
  const users = clientPerUser(() => f.t.url);
  const as = users.as;
  afterAll(() => users.close());
  const send = (user: TestUser, content: string, conversation_id = f.chat) =>
    as(user).client.messages.send.mutate({ message_id: randomUUID(), conversation_id, content });
  const unreadMentions = async (user: TestUser, room = f.chat) =>
    (await as(user).client.conversations.list.query()).find((c) => c.id === room)!.unread_mentions;
  const storedMentions = async (id: string) =>
    (
      await f.t.server.database.db
        .selectFrom('messages')
        .select('mentions')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).mentions;

  it('resolves @username to members, any letter case; others stay plain text', async () => {
    const bobs = as(f.bob).stream();
    await bobs.started.count(1);
    const text = `hey @${f.bob.username.toUpperCase()}, ask @${f.mallory.username} and @nobody_at_all`;
    const sent = await send(f.alice, text);
    expect(sent.mentions).toEqual([f.bob.id]);
    expect(sent.content).toBe(text);
    const live = await bobs.events.until((items) => items.some((e) => e.data.message?.id === sent.id));
    expect(live.find((e) => e.data.message?.id === sent.id)!.data.message).toMatchObject({
      mentions: [f.bob.id],
    });
    const page = await as(f.bob).client.messages.list.query({ conversation_id: f.chat });
    expect(page.messages.find((m) => m.id === sent.id)!.mentions).toEqual([f.bob.id]);
  });

  it('tells a mention from an address and from the end of a sentence', async () => {
    expect((await send(f.alice, `mail x@${f.bob.username} please`)).mentions).toEqual([]);
    expect((await send(f.alice, `thanks @${f.bob.username}.`)).mentions).toEqual([f.bob.id]);
    expect((await send(f.alice, `@${f.bob.username} @${f.bob.username}`)).mentions).toEqual([f.bob.id]);
    const plain = await send(f.alice, 'no at sign here');
    expect(plain.mentions).toEqual([]);
    expect(await storedMentions(plain.id)).toBeNull();
  });

  it('counts unread mentions per conversation for the one mentioned, cleared when read', async () => {
    const carol = await f.api.user('carol');
    const room = await f.api.conversation(f.alice.token, [carol.id, f.bob.id], 'counting');
    expect(await unreadMentions(carol, room)).toBe(0);
    await send(f.alice, `@${carol.username} one`, room);
    await send(f.alice, 'not you', room);
    const last = await send(f.bob, `@${carol.username} two`, room);
    expect(await unreadMentions(carol, room)).toBe(2);
    // Only the one mentioned: alice and bob were not.
    expect(await unreadMentions(f.bob, room)).toBe(0);
    await as(carol).client.conversations.markRead.mutate({ conversation_id: room, seq: last.seq - 1 });
    expect(await unreadMentions(carol, room)).toBe(1);
    await as(carol).client.conversations.markRead.mutate({ conversation_id: room, seq: last.seq });
    expect(await unreadMentions(carol, room)).toBe(0);
  });

  it('an edit resolves mentions again; a delete drops them', async () => {
    const sent = await send(f.alice, 'hello everyone');
    expect(sent.mentions).toEqual([]);
    const before = await unreadMentions(f.bob);
    const edited = await as(f.alice).client.messages.edit.mutate({
      id: sent.id,
      content: `hello @${f.bob.username}`,
    });
    expect(edited.mentions).toEqual([f.bob.id]);
    expect(await unreadMentions(f.bob)).toBe(before + 1);
    const deleted = await as(f.alice).client.messages.delete.mutate({ id: sent.id });
    expect(deleted.mentions).toEqual([]);
    expect(await storedMentions(sent.id)).toBeNull();
    expect(await unreadMentions(f.bob)).toBe(before);
  });

  it('a member who left is mentioned no more', async () => {
    const carol = await f.api.user('carol');
    const room = await f.api.conversation(f.alice.token, [carol.id, f.bob.id], 'leaving');
    expect((await send(f.alice, `@${carol.username}`, room)).mentions).toEqual([carol.id]);
    await as(carol).client.conversations.leave.mutate({ conversation_id: room });
    expect((await send(f.alice, `@${carol.username}`, room)).mentions).toEqual([]);
  });

  it("a deleted account's freed username mentions whoever has it now", async () => {
    const carol = await f.api.user('carol');
    const room = await f.api.conversation(f.alice.token, [carol.id, f.bob.id], 'renamed');
    expect((await send(f.alice, `@${carol.username}`, room)).mentions).toEqual([carol.id]);
    await as(carol).client.account.delete.mutate({ password: carol.password });
    const signup = await f.api.post('/auth/signup', { username: carol.username, password: carol.password });
    expect(signup.status).toBe(201);
    const newcomer = signup.body.id as string;
    await as(f.alice).client.conversations.addMembers.mutate({ conversation_id: room, user_ids: [newcomer] });
    expect((await send(f.alice, `@${carol.username}`, room)).mentions).toEqual([newcomer]);
  });
});
