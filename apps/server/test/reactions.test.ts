import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { useChatFixture } from './helpers/chat-fixture.ts';
import type { TestUser } from './helpers/rest.ts';
import { sleep } from './helpers/sockets.ts';
import { clientPerUser, rejection } from './helpers/trpc-calls.ts';

describe.each(DIALECTS)('reactions (%s)', (dialect) => {
  const f = useChatFixture(dialect);
  const users = clientPerUser(() => f.t.url);
  const as = users.as;
  afterAll(() => users.close());
  const send = async (user: TestUser, content: string) =>
    as(user).client.messages.send.mutate({ message_id: randomUUID(), conversation_id: f.chat, content });
  const react = (user: TestUser, id: string, emoji: string, on = true) =>
    as(user).client.messages.react.mutate({ id, emoji, on });
  const inHistory = async (id: string) =>
    (await as(f.alice).client.messages.list.query({ conversation_id: f.chat })).messages.find(
      (m) => m.id === id,
    )!;

  it('counts who reacted with what, live to every member and in history', async () => {
    const alices = as(f.alice).stream();
    const bobs = as(f.bob).stream();
    await Promise.all([alices.started.count(1), bobs.started.count(1)]);
    const message = await send(f.alice, 'react to me');

    const first = await react(f.bob, message.id, '👍');
    expect(first).toEqual({
      conversation_id: f.chat,
      message_id: message.id,
      reactions: [{ emoji: '👍', count: 1, user_ids: [f.bob.id] }],
    });
    await react(f.alice, message.id, '👍');
    const last = await react(f.alice, message.id, '🎉');
    expect(last.reactions).toEqual([
      { emoji: '👍', count: 2, user_ids: [f.bob.id, f.alice.id] },
      { emoji: '🎉', count: 1, user_ids: [f.alice.id] },
    ]);
    for (const stream of [alices, bobs]) {
      const events = await stream.events.until(
        (items) => items.filter((e) => e.data.type === 'reaction').length === 3,
      );
      expect(events.filter((e) => e.data.type === 'reaction').at(-1)!.data).toEqual({
        type: 'reaction',
        ...last,
      });
    }
    expect((await inHistory(message.id)).reactions).toEqual(last.reactions);
  });

  it('takes a reaction back; repeating either is a no-op that tells nobody', async () => {
    const message = await send(f.bob, 'toggle');
    const bobs = as(f.bob).stream();
    await bobs.started.count(1);
    await react(f.alice, message.id, '❤️');
    await react(f.alice, message.id, '❤️');
    // The same heart without its emoji selector is the same reaction.
    expect((await react(f.alice, message.id, '❤')).reactions).toEqual([
      { emoji: '❤️', count: 1, user_ids: [f.alice.id] },
    ]);
    expect((await react(f.alice, message.id, '❤️', false)).reactions).toEqual([]);
    await react(f.alice, message.id, '❤️', false);
    await sleep(100);
    expect(bobs.events.items.filter((e) => e.data.type === 'reaction')).toHaveLength(2);
    expect((await inHistory(message.id)).reactions).toEqual([]);
  });

  it('replays reactions missed while away', async () => {
    const message = await send(f.alice, 'while you were out');
    const before = as(f.bob).stream();
    await before.started.count(1);
    await send(f.alice, 'a marker');
    const [marker] = await before.events.count(1);
    before.unsubscribe();
    await react(f.alice, message.id, '🔥');
    const resumed = as(f.bob).stream(marker!.id);
    const replayed = await resumed.events.until((items) => items.some((e) => e.data.type === 'reaction'));
    expect(replayed.find((e) => e.data.type === 'reaction')!.data).toMatchObject({
      message_id: message.id,
      reactions: [{ emoji: '🔥', count: 1, user_ids: [f.alice.id] }],
    });
  });

  it('bounds distinct emoji per message and reactions per user', async () => {
    const carol = await f.api.user('carol');
    const group = await f.api.conversation(f.alice.token, [f.bob.id, carol.id], 'limits');
    const message = await as(f.alice).client.messages.send.mutate({
      message_id: randomUUID(),
      conversation_id: group,
      content: 'limits',
    });
    const emoji = [...'😀😃😄😁😆😅😂🤣😊😇🙂🙃😉😌😍🥰😘😗😙😚😋'];
    for (const e of emoji.slice(0, 10)) await react(f.alice, message.id, e);
    expect(await rejection(react(f.alice, message.id, emoji[10]!))).toEqual({
      code: 'BAD_REQUEST',
      message: 'At most 10 reactions of yours on one message',
    });
    for (const e of emoji.slice(10, 20)) await react(f.bob, message.id, e);
    expect(await rejection(react(carol, message.id, emoji[20]!))).toEqual({
      code: 'BAD_REQUEST',
      message: 'At most 20 different reactions on one message',
    });
    // Joining an emoji already there never counts against the message's bound.
    const joined = await react(carol, message.id, emoji[0]!);
    expect(joined.reactions).toHaveLength(20);
    expect(joined.reactions[0]).toEqual({ emoji: emoji[0], count: 2, user_ids: [f.alice.id, carol.id] });
  });

  it('loses no reaction to another made at the same moment', async () => {
    const message = await send(f.alice, 'everyone at once');
    const emoji = [...'🍎🍐🍊🍋🍌🍉🍇🍓🫐🍒'];
    await Promise.all(emoji.map((e, i) => react(i % 2 ? f.alice : f.bob, message.id, e)));
    const reactions = (await inHistory(message.id)).reactions;
    expect(reactions.map((r) => r.emoji).sort()).toEqual([...emoji].sort());
    expect(reactions.every((r) => r.count === 1)).toBe(true);
  });

  it('drops reactions when the message is deleted, and refuses new ones', async () => {
    const message = await send(f.alice, 'soon gone');
    await react(f.bob, message.id, '👍');
    const deleted = await as(f.alice).client.messages.delete.mutate({ id: message.id });
    expect(deleted.reactions).toEqual([]);
    expect(await rejection(react(f.bob, message.id, '👍'))).toEqual({
      code: 'CONFLICT',
      message: 'Message was deleted',
    });
  });

  it('a non-member gets the unknown-id answer, even with a real message id; nothing is stored or told', async () => {
    const message = await send(f.alice, 'private');
    const bobs = as(f.bob).stream();
    await bobs.started.count(1);
    const guessed = await rejection(react(f.mallory, message.id, '👍'));
    const unknown = await rejection(react(f.mallory, randomUUID(), '👍'));
    expect(guessed).toEqual({ code: 'NOT_FOUND', message: 'Message not found' });
    expect(unknown).toEqual(guessed);
    await sleep(100);
    expect(bobs.events.items.filter((e) => e.data.type === 'reaction')).toEqual([]);
    expect((await inHistory(message.id)).reactions).toEqual([]);
  });
});
