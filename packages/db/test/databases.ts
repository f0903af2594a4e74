import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDatabase, type DatabaseHandle, type Dialect } from '../src/index.ts';

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin(query: string) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database of `dialect`: a file in a temp folder, or a PostgreSQL database of its own. */
export async function openTestDatabase(
  dialect: Dialect,
): Promise<{ handle: DatabaseHandle; cleanup: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-db-'));
    return {
      handle: createDatabase(join(dir, 'test.db')),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `pneumatic_db_${randomBytes(5).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    handle: createDatabase(url.toString()),
    cleanup: () => admin(`drop database if exists ${name} with (force)`),
  };
}
