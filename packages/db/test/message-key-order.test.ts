import { randomUUID } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, migrateToLatest, type NewMessage, searchRepository } from '../src/index.ts';
import { migrations } from '../src/migrations/index.ts';
import { DIALECTS, type OpenTestDatabase, openTestDatabase, seedRooms } from '../src/testing.ts';

const BEFORE = '2026-12-06-0011-replay-by-seq';

/** The columns of the messages table's unique indexes, in their order. */
async function uniqueKeys(handle: DatabaseHandle): Promise<string[][]> {
  if (handle.dialect === 'postgres') {
    const { rows } = await sql<{ columns: string[] }>`
      select array_agg(a.attname order by k.ord)::text[] as columns
      from pg_index i
      cross join unnest(i.indkey) with ordinality k(attnum, ord)
      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indrelid = 'messages'::regclass and i.indisunique and not i.indisprimary
      group by i.indexrelid`.execute(handle.db);
    return rows.map((r) => r.columns).sort();
  }
  const { rows: indexes } = await sql<{
    name: string;
  }>`select name from pragma_index_list('messages') where "unique" = 1 and origin = 'u'`.execute(handle.db);
  const keys: string[][] = [];
  for (const { name } of indexes) {
    const { rows } = await sql<{
      name: string;
    }>`select name from pragma_index_info(${name}) order by seqno`.execute(handle.db);
    keys.push(rows.map((r) => r.name));
  }
  return keys.sort();
}

describe.each(DIALECTS)('the idempotency key, message_id first (%s)', (dialect) => {
  let database: OpenTestDatabase;
  let handle: DatabaseHandle;
  const [alice, bob] = [randomUUID(), randomUUID()];
  const room = randomUUID();
  const now = new Date().toISOString();
  const message = (sender: string, messageId: string, content: string): NewMessage => ({
    id: randomUUID(),
    conversation_id: room,
    sender_id: sender,
    message_id: messageId,
    content,
    created_at: now,
  });
  const stored: { id: string; rowid?: number }[] = [];

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    handle = database.handle;
    const migrator = new Migrator({ db: handle.db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
    await seedRooms(handle.db, [alice, bob], [room]);
    // Messages stored under the old key, indexed for search.
    const outcomes = await handle.messages.store([
      message(alice, 'same-id', 'kept across the rebuild'),
      message(bob, 'same-id', 'another sender may use the same id'),
      message(alice, 'other-id', 'searchable afterwards'),
    ]);
    expect(outcomes.every((o) => 'stored' in o)).toBe(true);
    await handle.messages.indexForSearch();
    if (dialect === 'sqlite') {
      const { rows } = await sql<{
        id: string;
        rowid: number;
      }>`select id, rowid from messages order by rowid`.execute(handle.db);
      stored.push(...rows);
    }
    expect(await uniqueKeys(handle)).toContainEqual(['sender_id', 'message_id']);
    expect((await migrateToLatest(handle.db)).applied).toContain('2026-12-07-0012-message-key-order');
  });
  afterAll(() => database.close());

  it('keeps every row (SQLite: at its rowid, which the search index refers to), with the key reordered', async () => {
    expect(await uniqueKeys(handle)).toContainEqual(['message_id', 'sender_id']);
    expect(await uniqueKeys(handle)).not.toContainEqual(['sender_id', 'message_id']);
    const rows = await handle.db
      .selectFrom('messages')
      .select(['sender_id', 'message_id', 'content'])
      .execute();
    expect(rows).toHaveLength(3);
    if (dialect === 'sqlite') {
      const { rows: now } = await sql<{
        id: string;
        rowid: number;
      }>`select id, rowid from messages order by rowid`.execute(handle.db);
      expect(now).toEqual(stored);
    }
    const hits = await searchRepository.searchMessages(handle.db, handle.dialect, {
      userId: alice,
      words: ['searchable'],
      limit: 10,
      marks: ['[', ']'],
    });
    expect(hits.map((h) => h.message.content)).toEqual(['searchable afterwards']);
  });

  it('still stores a message_id once per sender, and indexes new messages for search', async () => {
    const outcomes = await handle.messages.store([
      message(alice, 'same-id', 'a retry'),
      message(alice, 'new-id', 'stored after the rebuild'),
    ]);
    expect(outcomes[0]).toMatchObject({ existing: { content: 'kept across the rebuild' } });
    expect(outcomes[1]).toMatchObject({ stored: { seq: 4 } });
    await expect(
      handle.db
        .insertInto('messages')
        .values({ ...message(bob, 'same-id', 'x'), seq: 99, pos: 99 })
        .execute(),
    ).rejects.toThrow(/unique/i);
    await handle.messages.indexForSearch();
    const hits = await searchRepository.searchMessages(handle.db, handle.dialect, {
      userId: bob,
      words: ['rebuild'],
      limit: 10,
      marks: ['[', ']'],
    });
    expect(hits.map((h) => h.message.content).sort()).toEqual([
      'kept across the rebuild',
      'stored after the rebuild',
    ]);
  });

  it('goes back down to the old key', async () => {
    const migrator = new Migrator({ db: handle.db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
    expect(await uniqueKeys(handle)).toContainEqual(['sender_id', 'message_id']);
    expect(await handle.db.selectFrom('messages').select('id').execute()).toHaveLength(4);
    expect((await migrateToLatest(handle.db)).applied).toEqual(['2026-12-07-0012-message-key-order']);
  });
});
