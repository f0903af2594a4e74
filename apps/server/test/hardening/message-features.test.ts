import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { useChatFixture } from '../helpers/chat-fixture.ts';
import { sleep } from '../helpers/sockets.ts';
import { clientPerUser, rejection } from '../helpers/trpc-calls.ts';
import { expectConsistent } from './helpers.ts';

/** Not one emoji: text, several emoji, ZWJ chains that are no RGI sequence, controls, oversized input. */
const NOT_AN_EMOJI = [
  '',
  ' ',
  'a',
  'ok',
  '1',
  '#',
  '👍👍',
  '👍 ',
  '👍\u200D👍',
  '👨\u200D👩\u200D👧\u200D👦\u200D👨\u200D👩',
  '\u200D',
  '\uFE0F',
  '👍\uFE0F\uFE0F',
  '\u0000',
  '<script>',
  '\uD83D',
  '👍'.repeat(40),
  'x'.repeat(10_000),
];

describe.each(DIALECTS)('replies, reactions and mentions under hostile input (%s)', (dialect) => {
  const f = useChatFixture(dialect);
  const users = clientPerUser(() => f.t.url);
  const as = users.as;
  afterAll(() => users.close());
  const send = (content: string, extra: { reply_to?: string; conversation_id?: string } = {}) =>
    as(f.alice).client.messages.send.mutate({
      message_id: randomUUID(),
      conversation_id: f.chat,
      content,
      ...extra,
    });

  it('refuses everything that is not one emoji, storing nothing', async () => {
    const message = await send('target');
    for (const emoji of NOT_AN_EMOJI) {
      const refused = await rejection(
        as(f.bob).client.messages.react.mutate({ id: message.id, emoji, on: true }),
      );
      expect(refused.code, JSON.stringify(emoji)).toBe('BAD_REQUEST');
    }
    // Real emoji of every shape pass: skin tones, flags, keycaps, RGI ZWJ families.
    for (const emoji of ['👍🏽', '🇫🇷', '1️⃣', '👨‍👩‍👧', '🏴‍☠️', '❤️']) {
      await as(f.bob).client.messages.react.mutate({ id: message.id, emoji, on: true });
    }
    const row = await f.t.server.database.db
      .selectFrom('messages')
      .select('reactions')
      .where('id', '=', message.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(row.reactions!).map((r: { emoji: string }) => r.emoji)).toEqual([
      '👍🏽',
      '🇫🇷',
      '1️⃣',
      '👨‍👩‍👧',
      '🏴‍☠️',
      '❤️',
    ]);
  });

  it("never quotes another conversation's message, whoever asks and however", async () => {
    const secret = await f.api.conversation(f.bob.token, [f.mallory.id], 'secret');
    const hidden = await as(f.bob).client.messages.send.mutate({
      message_id: randomUUID(),
      conversation_id: secret,
      content: 'the secret text',
    });
    // Alice is not in it: a reply from her conversation to it, and one posted into it.
    const across = await rejection(send('quoting', { reply_to: hidden.id }));
    expect(across).toEqual({ code: 'BAD_REQUEST', message: 'No such message in this conversation' });
    const into = await rejection(send('quoting', { reply_to: hidden.id, conversation_id: secret }));
    expect(into.code).toBe('FORBIDDEN');
    const rest = await f.api.post(
      '/messages',
      {
        message_id: randomUUID(),
        sender_id: f.alice.id,
        conversation_id: f.chat,
        content: 'x',
        reply_to: hidden.id,
      },
      f.alice.token,
    );
    expect(rest.status).toBe(422);
    expect(JSON.stringify(rest.body)).not.toContain('secret');
    // Nor may she react to it or learn it exists.
    const react = await rejection(
      as(f.alice).client.messages.react.mutate({ id: hidden.id, emoji: '👍', on: true }),
    );
    expect(react).toEqual({ code: 'NOT_FOUND', message: 'Message not found' });
  });

  it('mentions only members: non-members, unknown names and lookalikes stay text', async () => {
    const outsider = await f.api.user('outsider');
    const sent = await send(
      `@${outsider.username} @${f.mallory.username} @${'a'.repeat(40)} @a @${f.bob.username}x ＠${f.bob.username}`,
    );
    expect(sent.mentions).toEqual([]);
  });

  it('takes a thousand @ in a message in its stride', async () => {
    const storm = [
      '@'.repeat(1000),
      `${'@'.repeat(999)}${f.bob.username}`,
      Array.from({ length: 1000 }, (_, i) => `@u${i}_${'x'.repeat(i % 30)}`)
        .join('')
        .slice(0, 4000),
      Array.from({ length: 800 }, () => `@${f.bob.username.slice(0, 4)}`)
        .join(' ')
        .slice(0, 4000),
      `${Array.from({ length: 300 }, (_, i) => `@name${i}`).join(' ')} @${f.bob.username}`.slice(0, 4000),
    ];
    const started = performance.now();
    const results = await Promise.all(storm.map((content) => send(content)));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(results[0]!.mentions).toEqual([]);
    // A name glued to other @s is inside a run of them, not a mention.
    expect(results[1]!.mentions).toEqual([]);
    // Past the first 50 names, the rest are not looked up.
    expect(results[4]!.mentions).toEqual([]);
    // Plain messages still go through alongside.
    const plain = await send(`after the storm @${f.bob.username}`);
    expect(plain.mentions).toEqual([f.bob.id]);
    await sleep(10);
    await expectConsistent(f.t.server.database.db);
  });
});
