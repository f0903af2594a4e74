import { randomUUID } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/index.ts';
import { type OpenTestDatabase, openTestDatabase, seedRooms } from '../src/testing.ts';

/**
 * The main connection's transactions share the file with the writer thread
 * (another connection). A transaction that reads before it writes must not
 * fail because the other connection committed in between.
 */
describe('SQLite transactions beside another writer', () => {
  let database: OpenTestDatabase;
  let other: SqliteDatabase.Database;
  const [alice, bob] = [randomUUID(), randomUUID()];

  beforeAll(async () => {
    database = await openTestDatabase('sqlite');
    await migrateToLatest(database.handle.db);
    await seedRooms(database.handle.db, [alice, bob], []);
    other = new SqliteDatabase(database.url);
    other.pragma('busy_timeout = 0');
  });
  afterAll(async () => {
    other.close();
    await database.close();
  });

  it('hold the write lock from their start: a commit elsewhere waits, and their write never fails on a stale snapshot', async () => {
    const { db } = database.handle;
    const rename = other.prepare('update users set full_name = ? where id = ?');
    const outcome = await db.transaction().execute(async (trx) => {
      const before = (await trx.selectFrom('users').select('id').execute()).length;
      // The other connection tries to commit between this transaction's read and its write.
      let elsewhere: string;
      try {
        rename.run('from elsewhere', bob);
        elsewhere = 'committed';
      } catch (error) {
        elsewhere = (error as { code: string }).code;
      }
      await trx
        .updateTable('users')
        .set({ full_name: 'from the transaction' })
        .where('id', '=', alice)
        .execute();
      return { before, elsewhere };
    });
    expect(outcome.elsewhere).toBe('SQLITE_BUSY');
    // Once it has committed, the other connection writes as usual.
    rename.run('from elsewhere', bob);
    const names = other.prepare('select id, full_name from users where id in (?, ?)').all(alice, bob);
    expect(names).toEqual(
      expect.arrayContaining([
        { id: alice, full_name: 'from the transaction' },
        { id: bob, full_name: 'from elsewhere' },
      ]),
    );
  });
});
