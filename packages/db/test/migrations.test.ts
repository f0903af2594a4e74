import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, dropEverything, migrateToLatest } from '../src/index.ts';
import { migrations } from '../src/migrations/index.ts';
import { DIALECTS, type OpenTestDatabase, openTestDatabase } from '../src/testing.ts';

describe.each(DIALECTS)('migrations (%s)', (dialect) => {
  let handle: DatabaseHandle;
  let database: OpenTestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    handle = database.handle;
  });
  afterAll(() => database.close());

  it('apply in order, run twice harmlessly, go all the way down and up again', async () => {
    const first = await migrateToLatest(handle.db);
    expect(first.applied).toEqual(Object.keys(migrations).sort());
    expect((await migrateToLatest(handle.db)).applied).toEqual([]);

    const migrator = new Migrator({ db: handle.db, provider: { getMigrations: async () => migrations } });
    for (let i = 0; i < Object.keys(migrations).length; i++) {
      const { error } = await migrator.migrateDown();
      expect(error).toBeUndefined();
    }
    expect((await migrateToLatest(handle.db)).applied).toHaveLength(Object.keys(migrations).length);
  });

  it('gives every database its own cluster id and a log head at 0', async () => {
    const meta = await handle.db.selectFrom('meta').selectAll().execute();
    expect(meta).toEqual([{ key: 'cluster_id', value: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);
    expect(await handle.db.selectFrom('log_head').selectAll().execute()).toEqual([{ id: 1, pos: 0 }]);
  });

  it('drops everything for reset-db', async () => {
    await dropEverything(handle);
    const count =
      dialect === 'sqlite'
        ? await sql<{
            n: number;
          }>`select count(*) as n from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(
            handle.db,
          )
        : await sql<{
            n: number;
          }>`select count(*)::int as n from information_schema.tables where table_schema = 'public'`.execute(
            handle.db,
          );
    expect(Number(count.rows[0]!.n)).toBe(0);
    await migrateToLatest(handle.db);
  });
});
