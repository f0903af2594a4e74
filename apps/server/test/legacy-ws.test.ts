import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useChatFixture } from './helpers/chat-fixture.ts';
import type { TestUser } from './helpers/rest.ts';
import type { TestServer } from './helpers/server.ts';
import { legacySocket, sleep } from './helpers/sockets.ts';

/** Opens a socket expected to be refused; resolves with its close code and reason. */
async function refused(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  return new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

describe.each(DIALECTS)('legacy /ws protocol (%s)', (dialect) => {
  const f = useChatFixture(dialect);
  let t: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let chat: string;
  beforeAll(() => {
    ({ t, alice, bob, mallory, chat } = f);
  });

  it('closes with 1008 and a reason that names the problem', async () => {
    const base = `${t.wsUrl}/ws`;
    expect(await refused(base)).toEqual({ code: 1008, reason: 'Missing authentication token' });
    expect(await refused(`${base}?token=garbage`)).toEqual({
      code: 1008,
      reason: 'Invalid authentication token',
    });
    expect(await refused(`${base}?token=${alice.refreshToken}`)).toEqual({
      code: 1008,
      reason: 'Invalid token type',
    });
    expect(await refused(base, { authorization: 'Bearer garbage' })).toEqual({
      code: 1008,
      reason: 'Invalid authentication token',
    });
  });

  it('accepts the token in an Authorization header', async () => {
    const s = await legacySocket(t.url, '', { authorization: `Bearer ${alice.token}` });
    s.send({ type: 'join', conversation_id: chat });
    expect((await s.frames.count(1))[0]).toEqual({ type: 'joined', conversation_id: chat });
    s.ws.close();
  });

  it('answers join for members and an error frame otherwise, keeping the socket open', async () => {
    const s = await legacySocket(t.url, `?token=${mallory.token}`);
    s.send({ type: 'join', conversation_id: chat });
    s.send({ type: 'join', conversation_id: randomUUID() });
    s.send({ type: 'join', conversation_id: 'nope' });
    const frames = await s.frames.count(3);
    expect(frames.every((f) => f.type === 'error' && typeof f.reason === 'string')).toBe(true);
    expect(frames.map((f) => f.reason)).toEqual([
      'Not a member of this conversation',
      'Conversation not found',
      // Not a UUID: named nothing, answered as an unknown id.
      'Conversation not found',
    ]);
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    s.ws.close();
  });

  it('stores a message as the authenticated user and echoes it to every member socket', async () => {
    const sender = await legacySocket(t.url, `?token=${alice.token}`);
    const other = await legacySocket(t.url, `?token=${bob.token}`);
    const outsider = await legacySocket(t.url, `?token=${mallory.token}`);
    await Promise.all([sender.authenticated(), other.authenticated(), outsider.authenticated()]);
    const messageId = randomUUID();
    sender.send({
      type: 'message',
      message_id: messageId,
      conversation_id: chat,
      content: 'hi',
      sender_id: mallory.id,
    });
    const [echo] = await sender.frames.count(1);
    expect(echo).toEqual({
      type: 'message',
      message: {
        id: expect.any(String),
        message_id: messageId,
        sender_id: alice.id,
        conversation_id: chat,
        content: 'hi',
        created_at: expect.any(String),
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
      },
    });
    expect((await other.frames.count(1))[0]).toEqual(echo);
    await sleep(200);
    expect(outsider.frames.items).toHaveLength(0);

    // The same message_id again: acknowledged to the sender alone, stored once.
    sender.send({ type: 'message', message_id: messageId, conversation_id: chat, content: 'hi' });
    expect((await sender.frames.count(2))[1]).toEqual(echo);
    await sleep(200);
    expect(other.frames.items).toHaveLength(1);
    // Different content under the same id is refused.
    sender.send({ type: 'message', message_id: messageId, conversation_id: chat, content: 'changed' });
    expect((await sender.frames.count(3))[2]).toMatchObject({ type: 'error' });
    for (const s of [sender, other, outsider]) s.ws.close();
  });

  it('refuses messages into conversations the user is not in', async () => {
    const s = await legacySocket(t.url, `?token=${mallory.token}`);
    s.send({ type: 'message', message_id: randomUUID(), conversation_id: chat, content: 'sneak' });
    expect((await s.frames.count(1))[0]).toEqual({
      type: 'error',
      reason: 'Not a member of this conversation',
    });
    const stored = await t.server.database.db
      .selectFrom('messages')
      .select('id')
      .where('content', '=', 'sneak')
      .execute();
    expect(stored).toHaveLength(0);
    s.ws.close();
  });

  it('answers unknown types, invalid JSON and binary frames with error frames and keeps serving', async () => {
    const s = await legacySocket(t.url, `?token=${alice.token}`);
    s.send({ type: 'dance' });
    s.send('{not json');
    s.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    s.send('[]');
    s.send({ type: 'message', conversation_id: chat });
    const frames = await s.frames.count(5);
    expect(frames[0]).toEqual({ type: 'error', reason: 'unknown type' });
    expect(frames[1]).toEqual({ type: 'error', reason: 'invalid JSON' });
    expect(frames[2]).toMatchObject({ type: 'error', reason: expect.stringContaining('binary') });
    expect(frames[3]).toEqual({ type: 'error', reason: 'unknown type' });
    expect(frames[4]).toMatchObject({ type: 'error', reason: expect.stringContaining('invalid message') });
    s.send({ type: 'join', conversation_id: chat });
    expect((await s.frames.count(6))[5]).toEqual({ type: 'joined', conversation_id: chat });
    s.ws.close();
  });

  it('closes with 1009 on a frame over 64 KiB', async () => {
    const s = await legacySocket(t.url, `?token=${alice.token}`);
    s.ws.send('x'.repeat(1024 * 1024));
    expect((await s.closed.count(1))[0]!.code).toBe(1009);
    const other = await legacySocket(t.url, `?token=${alice.token}`);
    other.send({ type: 'join', conversation_id: chat });
    expect((await other.frames.count(1))[0]).toMatchObject({ type: 'joined' });
    other.ws.close();
  });

  it('cuts off a socket that stops reading while others keep receiving', async () => {
    const stalled = await legacySocket(t.url, `?token=${bob.token}`);
    const healthy = await legacySocket(t.url, `?token=${bob.token}`);
    await Promise.all([stalled.authenticated(), healthy.authenticated()]);
    // Stop reading: the server's send buffer for this socket fills up.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const sender = await legacySocket(t.url, `?token=${alice.token}`);
    const big = 'y'.repeat(3900);
    const total = 4000;
    for (let i = 0; i < total; i++) {
      sender.send({
        type: 'message',
        message_id: randomUUID(),
        conversation_id: chat,
        content: `${i} ${big}`,
      });
      // Keep a bounded number in flight, as a well-behaved client does.
      if (i % 200 === 199) await sender.frames.count(i - 100, 30_000);
    }
    await healthy.frames.count(total, 60_000);
    const memory = process.memoryUsage().rss;
    expect(memory).toBeLessThan(1024 * 1024 * 1024);
    // The server terminated the stalled socket: resuming reads finds it closed.
    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await stalled.closed.count(1, 10_000);
    expect(stalled.frames.items.length).toBeLessThan(total);
    sender.ws.close();
    healthy.ws.close();
  }, 90_000);
});
