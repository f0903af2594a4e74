import { randomUUID } from 'node:crypto';
import { SqliteWriter } from '@pneumatic/db';
import { describe, expect, it } from 'vitest';
import { useChatFixture } from '../helpers/chat-fixture.ts';

/**
 * The SQLite writer thread dies mid-batch (a crash of the thread, not of the
 * process): no acknowledged message is lost, the sends in flight answer 503
 * and may be sent again, and the writer is back by itself.
 */
describe('the message writer thread dying under load (SQLite)', () => {
  const fx = useChatFixture('sqlite');

  it('loses no acknowledged message, answers the rest 503, and restarts', async () => {
    const writer = fx.t.server.database.messages;
    expect(writer).toBeInstanceOf(SqliteWriter);
    const sends = Array.from({ length: 300 }, (_, i) => ({ id: randomUUID(), content: `burst ${i}` }));
    const replies = Promise.all(
      sends.map((s) => fx.api.send(fx.alice.token, fx.alice.id, fx.chat, s.content, s.id)),
    );
    await new Promise((resolve) => setTimeout(resolve, 15));
    await (writer as SqliteWriter).interrupt();
    const answered = await replies;

    const statuses = new Set(answered.map((r) => r.status));
    expect([...statuses].every((status) => status === 201 || status === 503)).toBe(true);
    for (const reply of answered.filter((r) => r.status === 503)) {
      expect(reply.body).toEqual({ detail: 'Database unavailable, try again shortly' });
      expect(reply.headers.get('retry-after')).toBe('1');
    }
    const stored = new Set(
      (await fx.t.server.database.db.selectFrom('messages').select('message_id').execute()).map(
        (r) => r.message_id,
      ),
    );
    answered.forEach((reply, i) => {
      if (reply.status === 201) expect(stored.has(sends[i]!.id)).toBe(true);
    });

    // Back by itself: what failed goes through when sent again, stored once.
    await expect.poll(async () => (await fx.api.get('/ready')).status, { timeout: 5000 }).toBe(200);
    for (const [i, reply] of answered.entries()) {
      if (reply.status !== 503) continue;
      const again = await fx.api.send(fx.alice.token, fx.alice.id, fx.chat, sends[i]!.content, sends[i]!.id);
      expect(again.status).toBe(201);
    }
    const rows = await fx.t.server.database.db
      .selectFrom('messages')
      .select(['message_id', 'seq'])
      .where('conversation_id', '=', fx.chat)
      .orderBy('seq')
      .execute();
    expect(rows).toHaveLength(300);
    // Seqs stay gapless across the failure: a failed batch took none.
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
  });
});
