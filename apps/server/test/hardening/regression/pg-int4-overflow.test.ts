import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from '../../helpers/rest.ts';
import { startServer, type TestServer } from '../../helpers/server.ts';
import { trpcClient } from '../../helpers/sockets.ts';
import { expectCleanRefusal } from '../helpers.ts';

/**
 * `seq` is a 32-bit integer column, but history cursors and read positions
 * were accepted up to 2^53: on PostgreSQL `before=2147483648` or
 * `markRead({seq: 2**31})` became "value out of range for type integer", a 500.
 */
describe.each(DIALECTS)('cursors and read positions past 2^31 (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let room: string;
  beforeAll(async () => {
    t = await startServer(dialect);
    api = new Rest(t.url);
    alice = await api.user('alice');
    room = await api.conversation(alice.token, []);
    await api.send(alice.token, alice.id, room, 'one');
  });
  afterAll(() => t.close());

  const huge = [2 ** 31 - 1, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER];

  it('answers history with a huge `before` with a page or a 422, never 500', async () => {
    for (const before of huge) {
      const reply = await api.get(`/conversations/${room}/messages?before=${before}`, alice.token);
      if (reply.status !== 200)
        expectCleanRefusal({ status: reply.status, text: JSON.stringify(reply.body) }, `before=${before}`);
      expect([200, 422], `before=${before}`).toContain(reply.status);
    }
  });

  it('answers messages.list and conversations.markRead with huge numbers cleanly over tRPC', async () => {
    const client = trpcClient(t.url, alice.token);
    for (const n of huge) {
      for (const call of [
        () => client.client.messages.list.query({ conversation_id: room, cursor: n }),
        () => client.client.conversations.markRead.mutate({ conversation_id: room, seq: n }),
      ]) {
        const error = await call().then(
          () => null,
          (e: { data?: { httpStatus?: number } }) => e,
        );
        if (error) expect(error.data?.httpStatus, `${n}`).toBe(400);
      }
    }
    // The read position never passes the last message, whatever was asked.
    const [listed] = await client.client.conversations.list.query();
    expect(listed?.last_read_seq).toBeLessThanOrEqual(1);
    client.close();
  });
});
