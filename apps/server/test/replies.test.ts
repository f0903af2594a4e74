import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { useChatFixture } from './helpers/chat-fixture.ts';
import { png, upload } from './helpers/files.ts';
import type { TestUser } from './helpers/rest.ts';
import { clientPerUser, rejection } from './helpers/trpc-calls.ts';

describe.each(DIALECTS)('replies (%s)', (dialect) => {
  const f = useChatFixture(dialect);
  const users = clientPerUser(() => f.t.url);
  const as = users.as;
  afterAll(() => users.close());
  const send = (user: TestUser, conversation_id: string, content: string, reply_to?: string | null) =>
    as(user).client.messages.send.mutate({ message_id: randomUUID(), conversation_id, content, reply_to });

  it('quotes the answered message in the answer, live and in history', async () => {
    const bobs = as(f.bob).stream();
    await bobs.started.count(1);
    const original = await send(f.alice, f.chat, 'Lunch at noon?\nOr later');
    expect(original.reply_to).toBeNull();
    const reply = await send(f.bob, f.chat, 'Noon works', original.id);
    expect(reply.reply_to).toEqual({
      id: original.id,
      sender_id: f.alice.id,
      excerpt: 'Lunch at noon? Or later',
      deleted: false,
    });
    const live = await bobs.events.until((items) => items.some((e) => e.data.message?.id === reply.id));
    expect(live.find((e) => e.data.message?.id === reply.id)!.data.message).toEqual(reply);

    const history = await as(f.alice).client.messages.list.query({ conversation_id: f.chat });
    expect(history.messages.find((m) => m.id === reply.id)).toEqual(reply);
    const stored = await f.t.server.database.db
      .selectFrom('messages')
      .select(['reply_to', 'reply_sender_id', 'reply_excerpt'])
      .where('id', '=', reply.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({
      reply_to: original.id,
      reply_sender_id: f.alice.id,
      reply_excerpt: 'Lunch at noon? Or later',
    });
  });

  it('cuts a long original short, and follows its edits and deletion', async () => {
    const original = await send(f.alice, f.chat, 'x'.repeat(500));
    const reply = await send(f.bob, f.chat, 'what?', original.id);
    expect(reply.reply_to!.excerpt).toBe(`${'x'.repeat(120)}…`);

    await as(f.alice).client.messages.edit.mutate({ id: original.id, content: 'short now' });
    let page = await as(f.bob).client.messages.list.query({ conversation_id: f.chat });
    expect(page.messages.find((m) => m.id === reply.id)!.reply_to).toMatchObject({
      excerpt: 'short now',
      deleted: false,
    });

    await as(f.alice).client.messages.delete.mutate({ id: original.id });
    page = await as(f.bob).client.messages.list.query({ conversation_id: f.chat });
    expect(page.messages.find((m) => m.id === reply.id)!.reply_to).toEqual({
      id: original.id,
      sender_id: f.alice.id,
      excerpt: null,
      deleted: true,
    });
    // A reply to a deleted message is still a reply, to something deleted.
    const late = await send(f.bob, f.chat, 'too late', original.id);
    expect(late.reply_to).toMatchObject({ id: original.id, deleted: true, excerpt: null });
  });

  it('a reply carries files too, and a reply to files alone quotes their names', async () => {
    const files = await upload(f.t, f.alice.token, f.chat, png(2, 2), { name: 'map.png' });
    expect(files.status).toBe(201);
    const original = await as(f.alice).client.messages.send.mutate({
      message_id: randomUUID(),
      conversation_id: f.chat,
      content: '',
      attachment_ids: [files.body.id],
    });
    const answer = await upload(f.t, f.bob.token, f.chat, png(1, 1), { name: 'route.png' });
    const reply = await as(f.bob).client.messages.send.mutate({
      message_id: randomUUID(),
      conversation_id: f.chat,
      content: `here @${f.alice.username}`,
      reply_to: original.id,
      attachment_ids: [answer.body.id],
    });
    expect(reply.reply_to).toEqual({
      id: original.id,
      sender_id: f.alice.id,
      excerpt: 'map.png',
      deleted: false,
    });
    expect(reply.mentions).toEqual([f.alice.id]);
    expect(reply.attachments.map((file) => file.name)).toEqual(['route.png']);
    const history = await as(f.alice).client.messages.list.query({ conversation_id: f.chat });
    expect(history.messages.find((m) => m.id === reply.id)).toEqual(reply);
  });

  it("refuses another conversation's message and an unknown id alike, naming reply_to", async () => {
    const elsewhere = await f.api.conversation(f.alice.token, [f.mallory.id], 'elsewhere');
    const other = await send(f.alice, elsewhere, 'in another conversation');
    const foreign = await rejection(send(f.bob, f.chat, 'hi', other.id));
    const unknown = await rejection(send(f.bob, f.chat, 'hi', randomUUID()));
    expect(foreign).toEqual({ code: 'BAD_REQUEST', message: 'No such message in this conversation' });
    expect(unknown).toEqual(foreign);
    // A system line is no message to answer either.
    const [line] = (await as(f.alice).client.messages.list.query({ conversation_id: elsewhere })).messages;
    if (line?.kind === 'system')
      expect(await rejection(send(f.alice, elsewhere, 'hi', line.id))).toEqual(foreign);
  });

  it('a non-member cannot reply, even with a real message id: the non-member answer, nothing stored', async () => {
    const original = await send(f.alice, f.chat, 'members only');
    const refused = await rejection(send(f.mallory, f.chat, 'sneaky', original.id));
    expect(refused).toEqual({ code: 'FORBIDDEN', message: 'Not a member of this conversation' });
    const mine = await f.t.server.database.db
      .selectFrom('messages')
      .select('id')
      .where('sender_id', '=', f.mallory.id)
      .execute();
    expect(mine).toEqual([]);
  });

  it('REST POST /messages takes reply_to; a malformed one is answered as an unknown one', async () => {
    const original = await send(f.alice, f.chat, 'over REST');
    const body = { message_id: randomUUID(), sender_id: f.bob.id, conversation_id: f.chat, content: 'ok' };
    const replied = await f.api.post('/messages', { ...body, reply_to: original.id }, f.bob.token);
    expect(replied.status).toBe(201);
    expect(replied.body.reply_to).toMatchObject({ id: original.id, sender_id: f.alice.id });
    const unknown = await f.api.post(
      '/messages',
      { ...body, message_id: randomUUID(), reply_to: randomUUID() },
      f.bob.token,
    );
    const malformed = await f.api.post(
      '/messages',
      { ...body, message_id: randomUUID(), reply_to: 'nope' },
      f.bob.token,
    );
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail[0].loc).toEqual(['body', 'reply_to']);
    expect(malformed.status).toBe(unknown.status);
    expect(malformed.body).toEqual(unknown.body);
    // Old clients: no reply_to, the same Message as ever plus the new fields.
    const plain = await f.api.send(f.bob.token, f.bob.id, f.chat, 'plain');
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ reply_to: null, mentions: [], reactions: [] });
  });
});
