import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from '../../helpers/rest.ts';
import { startServer, type TestServer } from '../../helpers/server.ts';
import { legacySocket, trpcClient } from '../../helpers/sockets.ts';
import { expectCleanRefusal, rowCounts } from '../helpers.ts';

/**
 * PostgreSQL cannot store U+0000 in text: a message_id or a login name with
 * one reached the database and came back as a 500 (and "internal error" on
 * /ws), while SQLite stored it. Such text is refused before the database on
 * both, on every transport.
 */
describe.each(DIALECTS)('NUL and control characters in identifiers (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let room: string;
  beforeAll(async () => {
    t = await startServer(dialect);
    api = new Rest(t.url);
    alice = await api.user('alice');
    room = await api.conversation(alice.token, []);
  });
  afterAll(() => t.close());

  it('refuses a message_id with a control character on REST, tRPC and /ws, storing nothing', async () => {
    const before = await rowCounts(t.server.database.db);
    for (const messageId of ['a\u0000b', '\u0000', 'tab\there', 'bell\u0007']) {
      const rest = await api.send(alice.token, alice.id, room, 'x', messageId);
      expectCleanRefusal(
        { status: rest.status, text: JSON.stringify(rest.body) },
        `REST ${JSON.stringify(messageId)}`,
      );
      expect(rest.status).toBe(422);

      const client = trpcClient(t.url, alice.token);
      const error = await client.client.messages.send
        .mutate({ message_id: messageId, conversation_id: room, content: 'x' })
        .then(
          () => null,
          (e: { data?: { code?: string } }) => e,
        );
      expect(error?.data?.code, `tRPC ${JSON.stringify(messageId)}`).toBe('BAD_REQUEST');
      client.close();

      const s = await legacySocket(t.url, `?token=${alice.token}`);
      s.send({ type: 'message', message_id: messageId, conversation_id: room, content: 'x' });
      const [frame] = await s.frames.count(1);
      expect(frame).toMatchObject({ type: 'error', reason: expect.stringContaining('message_id') });
      s.ws.close();
    }
    expect(await rowCounts(t.server.database.db)).toEqual(before);
  });

  it('answers a login name with NUL like any unknown user or bad input, never 500', async () => {
    for (const username of ['a\u0000b', `${alice.username}\u0000`]) {
      const reply = await api.post('/auth/login', { username, password: alice.password });
      expectCleanRefusal(
        { status: reply.status, text: JSON.stringify(reply.body) },
        JSON.stringify(username),
      );
    }
  });

  it('still accepts ordinary message ids of every script', async () => {
    for (const messageId of [randomUUID(), 'client-42', 'ñandú-😀', 'x'.repeat(128)]) {
      expect((await api.send(alice.token, alice.id, room, 'fine', messageId)).status).toBe(201);
    }
  });
});
