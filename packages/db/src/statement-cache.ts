import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase } from 'kysely';

/** Distinct SQL texts kept prepared; texts built per call (long `in (...)` lists) fall out first. */
const CAPACITY = 512;

/**
 * Hands Kysely the same prepared statement for the same SQL text. Preparing
 * (parsing and planning) costs more than running most of our queries, and
 * Kysely prepares on every execution. Kysely runs one query at a time per
 * connection, so a cached statement is never in use twice at once.
 */
export function withStatementCache(db: SqliteDatabase): KyselySqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    close: () => {
      statements.clear();
      db.close();
    },
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        // Keep recently used texts at the end; the oldest is dropped first.
        statements.delete(sql);
      } else {
        statement = db.prepare(sql);
        if (statements.size >= CAPACITY) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
