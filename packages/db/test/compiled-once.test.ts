import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledOnce } from '../src/compiled-once.ts';
import { migrateToLatest, sessionsRepository } from '../src/index.ts';
import { DIALECTS, type OpenTestDatabase, openTestDatabase } from '../src/testing.ts';
import { seedRooms } from './seed.ts';

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
