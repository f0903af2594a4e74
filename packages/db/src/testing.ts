// Fresh databases for tests, shared by every package's tests as `@pneumatic/db/testing`.
// The package index does not export this module, so no server bundle carries it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  createDatabase,
  type DatabaseHandle,
  type DatabaseOptions,
  type Dialect,
  type Executor,
} from './create-database.ts';
import * as conversationsRepository from './repositories/conversations.repository.ts';

/** Data tests run once per dialect: `describe.each(DIALECTS)`. */
export const DIALECTS = ['sqlite', 'postgres'] as const satisfies readonly Dialect[];

/** The PostgreSQL server the tests use (TEST_DATABASE_URL); each test database is created on it and dropped after. */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** What `createDatabase` or the server's DATABASE_URL takes. */
  url: string;
  /** Deletes the database; close every connection to it first (PostgreSQL's is forced). */
  drop(): Promise<void>;
}

export interface OpenTestDatabase {
  handle: DatabaseHandle;
  url: string;
  /** Closes the handle and deletes the database. */
  close(): Promise<void>;
}

async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/** A new, empty database: a SQLite file in a temp folder, or a PostgreSQL database of its own. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-test-'));
    return { url: join(dir, 'test.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `pneumatic_test_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

/** A new, empty database of `dialect`, opened (not migrated). */
export async function openTestDatabase(
  dialect: Dialect,
  options?: DatabaseOptions,
): Promise<OpenTestDatabase> {
  const { url, drop } = await createTestDatabase(dialect);
  const handle = createDatabase(url, options);
  return {
    handle,
    url,
    async close() {
      await handle.close();
      await drop();
    },
  };
}

/** Users with these ids (each named after its id), and group conversations of all of them. */
export async function seedRooms(
  db: Executor,
  userIds: readonly string[],
  roomIds: readonly string[],
): Promise<void> {
  const now = new Date().toISOString();
  for (const [i, id] of userIds.entries()) {
    const name = `user${i}_${id}`;
    await db
      .insertInto('users')
      .values({ id, username: name, username_lower: name, password_hash: 'x', created_at: now })
      .execute();
  }
  for (const id of roomIds) {
    await conversationsRepository.insertConversation(db, {
      id,
      kind: 'group',
      title: 'room',
      dm_key: null,
      created_by: userIds[0]!,
      created_at: now,
      last_seq: 0,
      last_activity_at: now,
    });
    await conversationsRepository.insertMembers(db, id, [...userIds], now);
  }
}
