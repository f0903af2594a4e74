import { type Kysely, type MigrationResultSet, Migrator, sql } from 'kysely';
import type { DatabaseHandle } from './create-database.ts';
import type { Database } from './database.ts';
import { migrations } from './migrations/index.ts';

function migrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

export interface MigrationReport {
  applied: string[];
}

/** The migrations not yet applied, in order: a server says which it is about to run (a rebuild can take a while). */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const known = await migrator(db).getMigrations();
  return known.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Brings the schema to the latest version. Safe to run from several processes at once. */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationReport> {
  const result: MigrationResultSet = await migrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
  }
  return {
    applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName),
  };
}

/** Drops every table, including Kysely's own, leaving an empty database. Development and tests only. */
export async function dropEverything(handle: DatabaseHandle): Promise<void> {
  const { db, dialect } = handle;
  if (dialect === 'postgres') {
    await sql`drop schema if exists public cascade`.execute(db);
    await sql`create schema public`.execute(db);
    return;
  }
  const tables = await sql<{
    name: string;
  }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db);
  await sql`pragma foreign_keys = off`.execute(db);
  for (const { name } of tables.rows) await sql`drop table if exists ${sql.id(name)}`.execute(db);
  await sql`pragma foreign_keys = on`.execute(db);
}
