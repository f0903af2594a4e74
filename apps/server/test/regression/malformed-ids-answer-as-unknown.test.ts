import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useChatFixture } from '../helpers/chat-fixture.ts';
import { legacySocket } from '../helpers/sockets.ts';

/**
 * The original project's own test suite, run against the REST layer, sent
 * `"sender_id": "wrong_user_id"` and got 422 where the original answers 403;
 * ids that are not UUIDs got 422 where the contract says 404 (conversation)
 * and 400 naming it (member). An id that is not a UUID names nothing: it is
 * answered exactly as an unknown well-formed id, without asking the database.
 */
describe('ids that are not UUIDs, over REST and /ws (postgres)', () => {
  // PostgreSQL: no background job queries it, so the query count below is the requests' own.
  const fx = useChatFixture('postgres');

  const queries = async () =>
    (await fx.t.server.metrics.dbQueryDuration.get()).values
      .filter((v) => v.metricName?.endsWith('_count'))
      .reduce((sum, v) => sum + v.value, 0);

  it('answers a sender_id that is not the caller, UUID or not, with 403', async () => {
    for (const sender of ['wrong_user_id', fx.bob.id, '']) {
      const reply = await fx.api.send(fx.alice.token, sender, fx.chat, 'as someone else');
      expect(reply.status).toBe(403);
      expect(reply.body).toEqual({ detail: 'sender_id must match authenticated user' });
    }
  });

  it('answers 422 for a sender_id that is missing or not a string', async () => {
    const body = { message_id: randomUUID(), conversation_id: fx.chat, content: 'x' };
    for (const patch of [{}, { sender_id: 42 }]) {
      const reply = await fx.api.post('/messages', { ...body, ...patch }, fx.alice.token);
      expect(reply.status).toBe(422);
      expect(reply.body.detail[0].loc).toEqual(['body', 'sender_id']);
    }
  });

  it('puts validation before the sender check, as FastAPI did', async () => {
    const reply = await fx.api.post(
      '/messages',
      { message_id: randomUUID(), sender_id: 'wrong_user_id', conversation_id: fx.chat, content: '' },
      fx.alice.token,
    );
    expect(reply.status).toBe(422);
    expect(reply.body.detail.map((d: { loc: unknown }) => d.loc)).toEqual([['body', 'content']]);
  });

  it('answers a conversation_id that is not a UUID with 404, as an unknown one, in body and path', async () => {
    const unknown = await fx.api.send(fx.alice.token, fx.alice.id, randomUUID(), 'nowhere');
    const malformed = await fx.api.send(fx.alice.token, fx.alice.id, 'not-a-uuid', 'nowhere');
    expect(malformed).toMatchObject({ status: unknown.status, body: unknown.body });
    expect(malformed).toMatchObject({ status: 404, body: { detail: 'Conversation not found' } });
    const history = await fx.api.get('/conversations/12345/messages?limit=5', fx.alice.token);
    expect(history).toMatchObject({ status: 404, body: { detail: 'Conversation not found' } });
  });

  it('keeps 422 for the other fields when the id is malformed, as for an unknown id', async () => {
    for (const conversation of [randomUUID(), 'not-a-uuid']) {
      const reply = await fx.api.post(
        '/messages',
        { message_id: randomUUID(), sender_id: fx.alice.id, conversation_id: conversation, content: '' },
        fx.alice.token,
      );
      expect(reply.status).toBe(422);
      expect(reply.body.detail.map((d: { loc: unknown }) => d.loc)).toEqual([['body', 'content']]);
    }
  });

  it('answers member ids that are not UUIDs with 400 naming them, as unknown ones', async () => {
    const reply = await fx.api.post(
      '/conversations',
      { title: 'x', member_ids: ['u-1', fx.bob.id] },
      fx.alice.token,
    );
    expect(reply).toMatchObject({ status: 400, body: { detail: 'Unknown member id: u-1' } });
    const huge = 'x'.repeat(10_000);
    const long = await fx.api.post('/conversations', { title: 'x', member_ids: [huge] }, fx.alice.token);
    expect(long.status).toBe(400);
    // Named, but not echoed whole.
    expect(long.body.detail.length).toBeLessThan(200);
  });

  it('does not ask the database about an id that cannot exist', async () => {
    // The session check is the only query: as many as an authenticated request that looks nothing up.
    let before = await queries();
    await fx.api.get('/auth/me', fx.alice.token);
    const sessionOnly = (await queries()) - before;
    before = await queries();
    expect((await fx.api.get('/conversations/not-a-uuid/messages', fx.alice.token)).status).toBe(404);
    expect((await fx.api.send(fx.alice.token, fx.alice.id, 'not-a-uuid', 'x')).status).toBe(404);
    expect((await queries()) - before).toBe(2 * sessionOnly);
  });

  it('answers join and message frames on /ws naming a malformed conversation as unknown ones', async () => {
    const s = await legacySocket(fx.t.url, `?token=${fx.alice.token}`);
    s.send({ type: 'join', conversation_id: 'nope' });
    s.send({ type: 'message', message_id: randomUUID(), conversation_id: 'nope', content: 'hi' });
    s.send({ type: 'message', message_id: randomUUID(), conversation_id: randomUUID(), content: 'hi' });
    expect(await s.frames.count(3)).toEqual([
      { type: 'error', reason: 'Conversation not found' },
      { type: 'error', reason: 'Conversation not found' },
      { type: 'error', reason: 'Conversation not found' },
    ]);
    s.ws.close();
  });
});
