import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledOnce } from '../src/compiled-once.ts';
import { messagesRepository, migrateToLatest, sessionsRepository } from '../src/index.ts';
import { DIALECTS, type OpenTestDatabase, openTestDatabase, seedRooms } from '../src/testing.ts';

describe.each(DIALECTS)('queries compiled once (%s)', (dialect) => {
  let database: OpenTestDatabase;
  const [alice, bob] = [randomUUID(), randomUUID()];
  const hour = 3_600_000;
  const at = (ms: number) => new Date(Date.now() + ms).toISOString();

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    await migrateToLatest(database.handle.db);
    await seedRooms(database.handle.db, [alice, bob], []);
  });
  afterAll(() => database.close());

  it("binds each call's own values: the session lookup behind every request", async () => {
    const { db } = database.handle;
    const session = (id: string, userId: string, expiresAt: string) =>
      sessionsRepository.insertSession(db, {
        id,
        user_id: userId,
        current_jti: randomUUID(),
        created_at: at(0),
        expires_at: expiresAt,
      });
    const [standing, expired, revoked, bobs] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await session(standing, alice, at(hour));
    await session(expired, alice, at(-hour));
    await session(revoked, alice, at(hour));
    await session(bobs, bob, at(hour));
    await sessionsRepository.revokeSession(db, revoked, at(0));

    const find = (sessionId: string, userId: string, now = at(0)) =>
      sessionsRepository.findSessionUser(db, sessionId, userId, now);
    expect(await find(standing, alice)).toMatchObject({ id: alice });
    expect(await find(bobs, bob)).toMatchObject({ id: bob });
    expect(await find(expired, alice)).toBeUndefined();
    expect(await find(revoked, alice)).toBeUndefined();
    // Another user's session, and a session that has run out by `now`.
    expect(await find(bobs, alice)).toBeUndefined();
    expect(await find(standing, alice, at(2 * hour))).toBeUndefined();
    expect(await find(standing, alice)).toMatchObject({ id: alice });
  });

  it('keeps values compiled into the query, and refuses an argument that is not a plain value', async () => {
    const { db } = database.handle;
    const named = compiledOnce(
      (d, id: string) =>
        d.selectFrom('users').select('id').where('id', '=', id).where('password_hash', '=', 'x'),
      1,
    );
    expect(await named(db, bob)).toEqual([{ id: bob }]);
    expect(await named(db, alice)).toEqual([{ id: alice }]);
    const listed = compiledOnce(
      (d, ids: string[]) => d.selectFrom('users').select('id').where('id', 'in', ids),
      1,
    );
    await expect(listed(db, [alice])).rejects.toThrow('arguments must be single values');
    const unused = compiledOnce((d, _id: string) => d.selectFrom('users').select('id'), 1);
    await expect(unused(db, alice)).rejects.toThrow('not bound as a parameter');
  });

  it("runs on SQLite's connection directly, reported like any query, and waits out a transaction", async () => {
    const queries: string[] = [];
    const own = await openTestDatabase(dialect, {
      onQuery: (_ms, failed, text) => queries.push(`${failed} ${text}`),
    });
    try {
      const { db } = own.handle;
      await migrateToLatest(db);
      await seedRooms(db, [alice], []);
      const sessionId = randomUUID();
      const find = () => sessionsRepository.findSessionUser(db, sessionId, alice, at(0));
      const insert = (executor: typeof db) =>
        sessionsRepository.insertSession(executor, {
          id: sessionId,
          user_id: alice,
          current_jti: randomUUID(),
          created_at: at(0),
          expires_at: at(hour),
        });
      queries.length = 0;
      expect(await find()).toBeUndefined();
      expect(queries).toEqual([expect.stringMatching(/^false select .*"sessions"/)]);

      // A lookup made while a transaction is open elsewhere neither sees its rows nor
      // runs inside it: it waits, and the rolled-back session is not there.
      let inserted!: () => void;
      const insertedOnce = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      const rolledBack = db
        .transaction()
        .execute(async (trx) => {
          await insert(trx);
          expect(await sessionsRepository.findSessionUser(trx, sessionId, alice, at(0))).toMatchObject({
            id: alice,
          });
          inserted();
          await new Promise((resolve) => setTimeout(resolve, 50));
          throw new Error('rolled back');
        })
        .catch((error: Error) => error.message);
      await insertedOnce;
      expect(await find()).toBeUndefined();
      expect(await rolledBack).toBe('rolled back');

      await insert(db);
      expect(await find()).toMatchObject({ id: alice, username: expect.any(String) });
    } finally {
      await own.close();
    }
  });
});

describe('queries compiled once, prepared on PostgreSQL', () => {
  let database: OpenTestDatabase;
  const [alice, bob] = [randomUUID(), randomUUID()];
  const room = randomUUID();

  beforeAll(async () => {
    // One connection: what it has prepared is what pg_prepared_statements shows.
    database = await openTestDatabase('postgres', { poolSize: 1 });
    await migrateToLatest(database.handle.db);
    await seedRooms(database.handle.db, [alice, bob], [room]);
  });
  afterAll(() => database.close());

  const prepared = async () =>
    (
      await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(
        database.handle.db,
      )
    ).rows.map((r) => r.statement);

  it('runs a history page and the session lookup as statements prepared once per connection', async () => {
    const { db } = database.handle;
    expect(await prepared()).toEqual([]);
    for (let i = 0; i < 3; i++) {
      const page = await messagesRepository.listMessagesForMember(db, room, alice, { limit: 50 });
      expect(page.access).toBe('member');
      await sessionsRepository.findSessionUser(db, randomUUID(), alice, new Date().toISOString());
    }
    expect(await messagesRepository.listMessagesForMember(db, room, randomUUID(), { limit: 50 })).toEqual({
      access: 'not-member',
    });
    expect(await messagesRepository.listMessagesForMember(db, randomUUID(), bob, { limit: 50 })).toEqual({
      access: 'not-found',
    });
    const statements = await prepared();
    expect(statements).toHaveLength(2);
    expect(statements.some((text) => text.includes('"conversation_members"'))).toBe(true);
    expect(statements.some((text) => text.includes('"sessions"'))).toBe(true);
  });

  it('prepares again when a migration elsewhere changed a table under a prepared statement', async () => {
    const { db } = database.handle;
    const page = () => messagesRepository.listMessagesForMember(db, room, alice, { limit: 50 });
    expect((await page()).access).toBe('member');
    // Another instance's migration: `m.*` now has one more column, which PostgreSQL refuses
    // to a plan prepared before ("cached plan must not change result type").
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('alter table messages add column added_elsewhere text');
      const after = await page();
      expect(after.access).toBe('member');
      expect((await page()).access).toBe('member');
    } finally {
      await other.query('alter table messages drop column added_elsewhere').catch(() => undefined);
      await other.end();
    }
    expect((await page()).access).toBe('member');
  });
});
