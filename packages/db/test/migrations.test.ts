import { randomUUID } from 'node:crypto';
import { type Kysely, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, dropEverything, migrateToLatest, pendingMigrations } from '../src/index.ts';
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
    expect(await pendingMigrations(handle.db)).toEqual(Object.keys(migrations).sort());
    const first = await migrateToLatest(handle.db);
    expect(await pendingMigrations(handle.db)).toEqual([]);
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

  it('renames the event kinds of rows stored before 0005, and back on the way down', async () => {
    const { handle: old, close: dropOld } = await openTestDatabase(dialect);
    try {
      const migrator = new Migrator({ db: old.db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('2026-11-28-0004-deferred-search-index')).error).toBeUndefined();
      // The schema as 0004 left it, older than the application's types.
      const db = old.db as Kysely<any>;
      const now = new Date().toISOString();
      const alice = randomUUID();
      await db
        .insertInto('users')
        .values({
          id: alice,
          username: 'alice',
          username_lower: 'alice',
          password_hash: 'x',
          created_at: now,
        })
        .execute();
      const [room, other] = [randomUUID(), randomUUID()];
      for (const id of [room, other]) {
        await db
          .insertInto('conversations')
          .values({
            id,
            kind: 'group',
            title: 'room',
            created_by: alice,
            created_at: now,
            last_activity_at: now,
          })
          .execute();
      }
      const [edited, editedThenDeleted, deleted] = [randomUUID(), randomUUID(), randomUUID()];
      for (const [seq, id] of [edited, editedThenDeleted, deleted].entries()) {
        await db
          .insertInto('messages')
          .values({
            id,
            conversation_id: room,
            seq: seq + 1,
            pos: seq + 1,
            sender_id: alice,
            message_id: id,
            content: id === edited ? 'changed' : '',
            created_at: now,
            edited_at: id === deleted ? null : now,
            deleted_at: id === edited ? null : now,
          })
          .execute();
      }
      const stored: Array<[kind: string, conversation: string, subject: string | null]> = [
        ['conversation.created', room, null],
        ['message.edited', room, edited],
        ['message.edited', room, editedThenDeleted],
        ['message.deleted', room, editedThenDeleted],
        ['conversation.updated', room, alice],
        ['conversation.created', other, null],
        ['message.deleted', room, deleted],
        ['message.edited', room, edited],
      ];
      await db
        .insertInto('events')
        .values(
          stored.map(([kind, conversation_id, subject_id], i) => ({
            pos: 10 + i,
            kind,
            conversation_id,
            actor_id: alice,
            created_at: now,
            subject_id,
          })),
        )
        .execute();
      const kinds = async () =>
        (await db.selectFrom('events').select('kind').orderBy('pos').execute()).map((e) => e.kind);

      const step = '2026-12-05-0005-one-name-per-event-kind';
      expect((await migrator.migrateTo(step)).results).toEqual([
        { migrationName: step, direction: 'Up', status: 'Success' },
      ]);
      expect(await kinds()).toEqual([
        'conversation',
        'message_updated',
        'message_updated',
        'message_updated',
        'conversation',
        'conversation',
        'message_updated',
        'message_updated',
      ]);

      expect((await migrator.migrateDown()).error).toBeUndefined();
      expect(await kinds()).toEqual(stored.map(([kind]) => kind));
    } finally {
      await old.close();
      await dropOld();
    }
  });

  it('backfills an owner for every group at 0009: the creator, else the longest-standing member', async () => {
    const { handle: old, close: dropOld } = await openTestDatabase(dialect);
    try {
      const migrator = new Migrator({ db: old.db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo('2026-12-06-0008-file-attachments')).error).toBeUndefined();
      const db = old.db as Kysely<any>;
      const [creator, early, late] = [randomUUID(), randomUUID(), randomUUID()];
      const at = (minute: number) => `2026-12-01T00:0${minute}:00.000Z`;
      for (const [i, id] of [creator, early, late].entries()) {
        await db
          .insertInto('users')
          .values({ id, username: `u${i}`, username_lower: `u${i}`, password_hash: 'x', created_at: at(0) })
          .execute();
      }
      const [kept, orphaned, direct] = [randomUUID(), randomUUID(), randomUUID()];
      for (const [id, kind] of [
        [kept, 'group'],
        [orphaned, 'group'],
        [direct, 'direct'],
      ] as const) {
        await db
          .insertInto('conversations')
          .values({ id, kind, title: 't', created_by: creator, created_at: at(0), last_activity_at: at(0) })
          .execute();
      }
      const member = (conversation_id: string, user_id: string, minute: number) => ({
        conversation_id,
        user_id,
        joined_at: at(minute),
      });
      await db
        .insertInto('conversation_members')
        .values([
          member(kept, creator, 1),
          member(kept, early, 1),
          member(orphaned, late, 3),
          member(orphaned, early, 2),
          member(direct, creator, 1),
          member(direct, late, 1),
        ])
        .execute();
      expect(
        (await migrator.migrateTo('2026-12-06-0009-group-roles-and-disabled-users')).error,
      ).toBeUndefined();
      const roles = await db
        .selectFrom('conversation_members')
        .select(['conversation_id', 'user_id', 'role'])
        .where('role', 'is not', null)
        .execute();
      expect(roles).toEqual(
        expect.arrayContaining([
          { conversation_id: kept, user_id: creator, role: 'owner' },
          { conversation_id: orphaned, user_id: early, role: 'owner' },
        ]),
      );
      expect(roles).toHaveLength(2);
      const users = await db.selectFrom('users').select(['disabled_at', 'deleted_at']).execute();
      expect(users.every((u) => u.disabled_at === null && u.deleted_at === null)).toBe(true);
    } finally {
      await old.close();
      await dropOld();
    }
  });
});
