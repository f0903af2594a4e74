import Sqlite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowMaker, withStatementCache } from '../src/statement-cache.ts';

/** The same query on the plain driver (rows as better-sqlite3 makes them) and through the cache, via Kysely. */
describe('statement cache rows', () => {
  let plain: Sqlite.Database;
  let db: Kysely<Record<string, never>>;

  beforeEach(() => {
    const sqlite = new Sqlite(':memory:');
    sqlite.exec(`create table t (id integer primary key, name text, score real, note text, data blob);
      insert into t values (1, 'ada', 1.5, null, x'00ff'), (2, 'bob', -2, 'hi "there"', null), (3, '', 0, '', x'')`);
    plain = sqlite;
    db = new Kysely({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  });
  afterEach(async () => {
    await db.destroy();
  });

  const both = async (text: string, ...parameters: unknown[]) => {
    const expected = plain.prepare(text).all(...parameters);
    const query = sql.raw<Record<string, unknown>>(text);
    const compiled = { ...query.compile(db), parameters };
    const { rows } = await db.executeQuery<Record<string, unknown>>(compiled);
    return { expected, rows };
  };

  it('gives the rows better-sqlite3 gives: values, types, nulls, blobs and key order', async () => {
    const { expected, rows } = await both('select * from t order by id');
    expect(rows).toEqual(expected);
    expect(rows.map((row) => Object.keys(row))).toEqual(expected.map((row) => Object.keys(row as object)));
    expect(Buffer.isBuffer(rows[0]!.data)).toBe(true);
    expect(rows[1]!.data).toBeNull();
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
  });

  it('binds parameters, again on the cached statement', async () => {
    for (const id of [2, 3, 1]) {
      const { expected, rows } = await both('select name, score from t where id = ?', id);
      expect(rows).toEqual(expected);
      expect(rows).toHaveLength(1);
    }
  });

  it('keeps the last of repeated column names, and odd names as they are', async () => {
    const text = `select 1 as a, 2 as a, 3 as "we""ird", 4 as "a b", 5 as "constructor", 6 as "0", 7 as "toString"`;
    const { expected, rows } = await both(text);
    expect(rows).toEqual(expected);
    expect(rows[0]).toMatchObject({ a: 2, 'we"ird': 3, 'a b': 4, constructor: 5, '0': 6, toString: 7 });
  });

  it('makes the rows of reading statements itself, and hands writing ones over as they are', () => {
    const cache = withStatementCache(plain);
    const driverStatement = plain.prepare('select 1').constructor;
    expect(cache.prepare('select id from t')).not.toBeInstanceOf(driverStatement);
    expect(cache.prepare('delete from t where id = ?')).toBeInstanceOf(driverStatement);
  });

  it('leaves a column named __proto__ to the driver', async () => {
    expect(rowMaker(['id', '__proto__'])).toBeUndefined();
    const { expected, rows } = await both('select 1 as id, 2 as "__proto__"');
    expect(rows).toEqual(expected);
    expect(Object.getPrototypeOf(rows[0])).toBe(Object.getPrototypeOf(expected[0]));
  });

  it('runs writes, and returns the rows of a write that returns them', async () => {
    const write = await db.executeQuery(sql`insert into t (id, name) values (${9}, ${'eve'})`.compile(db));
    expect(write.numAffectedRows).toBe(1n);
    const returning = await db.executeQuery(
      sql<{
        id: number;
        name: string;
      }>`update t set name = ${'eva'} where id = ${9} returning id, name`.compile(db),
    );
    expect(returning.rows).toEqual([{ id: 9, name: 'eva' }]);
  });

  it('follows a schema changed under a cached statement', async () => {
    const before = await both('select * from t where id = ?', 1);
    expect(before.rows).toEqual(before.expected);
    // A migration adds a column (here on the same connection): SQLite prepares the statement again.
    plain.exec("alter table t add column extra text default 'x'");
    const after = await both('select * from t where id = ?', 1);
    expect(after.rows).toEqual(after.expected);
    expect(after.rows[0]).toMatchObject({ extra: 'x' });
  });

  it('streams rows made the same way', async () => {
    const streamed: unknown[] = [];
    for await (const row of db.selectFrom(sql.raw('t').as('t')).selectAll().orderBy(sql.raw('id')).stream())
      streamed.push(row);
    expect(streamed).toEqual(plain.prepare('select * from t order by id').all());
  });
});
