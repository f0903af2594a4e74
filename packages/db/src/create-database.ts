import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  type KyselyConfig,
  type SqliteDatabase as KyselySqliteDatabase,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type Transaction,
} from 'kysely';
import type { Pool } from 'pg';
import { type DirectReader, preparedName, readDirectly, renamePrepared } from './compiled-once.ts';
import type { Database } from './database.ts';
import { kyselyMessageStore, type MessageStore } from './message-store.ts';
import { DatabaseUnavailableError } from './outage.ts';
import { indexPendingMessages } from './repositories/search.repository.ts';
import { startCheckpointer } from './sqlite-checkpointer.ts';
import { EmbeddedSqliteDialect } from './sqlite-dialect.ts';
import { SqliteWriter } from './sqlite-writer.ts';
import { withStatementCache } from './statement-cache.ts';

export type Dialect = 'sqlite' | 'postgres';

/** A Kysely instance or an open transaction: what every repository takes first. */
export type Executor = Kysely<Database> | Transaction<Database>;

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where sent messages are written, a batch per transaction (see message-store.ts). */
  messages: MessageStore;
  /** Where the data lives, with any password removed: safe to log. */
  location: string;
  /** Answers when the database does; used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /**
   * SQLite `synchronous` setting. NORMAL (the default) survives a process
   * crash; FULL also survives power loss.
   */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  /** PostgreSQL pool size. Default 10. */
  poolSize?: number;
  /**
   * SQLite: checkpoint the WAL from a worker thread instead of inside
   * commits (see sqlite-checkpointer.ts). For servers; off by default.
   */
  backgroundCheckpoints?: boolean;
  /**
   * SQLite: write sent messages (and index them for search) on a thread of
   * its own with its own connection (sqlite-writer.ts). For servers; off by
   * default, when messages are written through the main connection.
   */
  writerThread?: boolean;
  /** Told when a background task of the database fails (it falls back to doing the work inline, or restarts). */
  onBackgroundError?: (error: Error) => void;
  /** Called after every query with its duration, for metrics. */
  onQuery?: (durationMs: number, failed: boolean, sql: string) => void;
}

function queryLog(options: DatabaseOptions): KyselyConfig['log'] {
  const onQuery = options.onQuery;
  if (!onQuery) return undefined;
  return (event) => onQuery(event.queryDurationMillis, event.level === 'error', event.query.sql);
}

/**
 * Reads on the main SQLite connection without Kysely's driver (see
 * DirectReader): not inside a transaction (Kysely's lock keeps the queries
 * of others out of one), and only statements that read. Reported to
 * `onQuery` as Kysely's log would.
 */
function directSqliteReader(
  sqlite: SqliteDatabase.Database,
  statements: KyselySqliteDatabase,
  onQuery: DatabaseOptions['onQuery'],
): DirectReader {
  return (sql, parameters) => {
    if (sqlite.inTransaction) return undefined;
    const statement = statements.prepare(sql);
    if (!statement.reader) return undefined;
    const start = performance.now();
    try {
      const rows = statement.all(parameters);
      onQuery?.(performance.now() - start, false, sql);
      return rows;
    } catch (error) {
      onQuery?.(performance.now() - start, true, sql);
      throw error;
    }
  };
}

export interface ParsedDatabaseUrl {
  dialect: Dialect;
  /** A file path (or `:memory:`) for SQLite, a connection string for PostgreSQL. */
  target: string;
}

/** Accepts `postgres://`, `postgresql://`, `sqlite:PATH`, `file:PATH` or a plain path. */
export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  if (/^postgres(ql)?:\/\//i.test(url)) return { dialect: 'postgres', target: url };
  const path = url.replace(/^(sqlite|file):(\/\/)?/i, '');
  if (path.length === 0) throw new Error('empty SQLite path');
  return { dialect: 'sqlite', target: path };
}

const SQLITE_CACHE_KIB = 32 * 1024;
/**
 * The writer thread's page cache is smaller. Inserting into an index in its middle (a sender's
 * message_ids, a conversation's seqs) rebalances pages in nearly every batch, and a rebalance
 * renumbers pages by way of the page at 1 GiB: on a database under 1 GiB the commit then walks
 * the whole page cache to drop pages past the end of the file (`pcache1TruncateUnsafe`). With
 * 32 MiB that walk was 15 % of the thread's time; 8 MiB still holds the leaves a batch writes
 * to, and the few pages it reads beyond them come from the OS's cache (docs/benchmarks.md).
 */
const WRITER_CACHE_KIB = 8 * 1024;
/** How long a SQLite write waits for another's lock: the writer's (thread or main connection)… */
const WRITER_BUSY_TIMEOUT_MS = 5000;
/** …and the main connection's beside a writer thread, where waiting blocks the event loop. */
const MAIN_BUSY_TIMEOUT_MS = 1000;
/** Rows indexed for search per transaction on the main connection. */
const INDEX_BATCH = 500;
const SQLITE_WAL_LIMIT_BYTES = 64 * 1024 * 1024;

const PG_INT8 = 20;
const PG_TIMESTAMPTZ = 1184;
/** PostgreSQL's text form of a timestamptz in UTC: `2026-12-06 13:01:02.123+00`, the fraction optional, up to µs. */
const PG_UTC_TIMESTAMP = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * A timestamptz as the API writes times (ISO 8601, milliseconds, `Z`), as
 * `new Date(value).toISOString()` gives it. A UTC value is rewritten as text:
 * Date's parser takes a microsecond for this form, and a history page has
 * fifty. Any other (another session time zone, a year past 9999, BC) goes
 * through Date.
 */
export function isoFromTimestamptz(value: string): string {
  const utc = PG_UTC_TIMESTAMP.exec(value);
  if (!utc) return new Date(value).toISOString();
  return `${utc[1]}T${utc[2]}.${`${utc[3] ?? ''}000`.slice(0, 3)}Z`;
}

export function createDatabase(url: string, options: DatabaseOptions = {}): DatabaseHandle {
  const { dialect, target } = parseDatabaseUrl(url);
  if (dialect === 'postgres') {
    // pg is imported here, not at the top: a server on SQLite never loads it
    // (loading it costs start-up time, partly for a check whether this is Cloudflare).
    const poolReady: Promise<Pool> = import('pg').then(({ default: pg }) => {
      const types = new pg.TypeOverrides();
      types.setTypeParser(PG_INT8, (value: string) => Number(value));
      types.setTypeParser(PG_TIMESTAMPTZ, isoFromTimestamptz);
      const pool = new pg.Pool({ connectionString: target, max: options.poolSize ?? 10, types });
      // An idle client losing its connection must not crash the process; the
      // pool replaces it and readiness reports the outage.
      pool.on('error', () => {});
      // pg-pool drops its own error listener while a client is checked out: without this,
      // a connection lost mid-query would be an unhandled error that ends the process.
      pool.on('connect', (client) => client.on('error', () => {}));
      return pool;
    });
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: async () =>
          markingConnectionFailures(await poolReady, (await import('pg')).default.DatabaseError),
      }),
      log: queryLog(options),
    });
    return {
      db,
      dialect,
      messages: kyselyMessageStore(db, async () => {}),
      location: redactPassword(target),
      async ping() {
        const client = await (await poolReady).connect();
        try {
          await client.query('select 1');
        } finally {
          client.release();
        }
      },
      close: () => db.destroy(),
    };
  }

  if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true });
  const sqlite = new SqliteDatabase(target);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  const synchronous = options.sqliteSynchronous ?? 'NORMAL';
  sqlite.pragma(`synchronous = ${synchronous}`);
  // With a writer thread, the main connection writes little (logins, edits), and a write that
  // waits for the lock blocks the event loop: it gives up sooner (503 busy) than the thread does.
  sqlite.pragma(`busy_timeout = ${options.writerThread ? MAIN_BUSY_TIMEOUT_MS : WRITER_BUSY_TIMEOUT_MS}`);
  // Pages of the hot indexes stay in memory (the default is 2 MB).
  sqlite.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  // The WAL file is cut back to this after a checkpoint restarts it.
  sqlite.pragma(`journal_size_limit = ${SQLITE_WAL_LIMIT_BYTES}`);
  const checkpointer =
    options.backgroundCheckpoints && target !== ':memory:'
      ? startCheckpointer(sqlite, target, synchronous, options.onBackgroundError ?? (() => {}))
      : undefined;
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Database>({
    dialect: new EmbeddedSqliteDialect({ database: statements }),
    log: queryLog(options),
  });
  readDirectly(db, directSqliteReader(sqlite, statements, options.onQuery));
  const messages =
    options.writerThread && target !== ':memory:'
      ? new SqliteWriter({
          path: target,
          synchronous,
          cacheKib: WRITER_CACHE_KIB,
          walLimitBytes: SQLITE_WAL_LIMIT_BYTES,
          busyTimeoutMs: WRITER_BUSY_TIMEOUT_MS,
          onQuery: options.onQuery,
          onError: options.onBackgroundError ?? (() => {}),
          checkpointProgress: checkpointer?.progress,
        })
      : kyselyMessageStore(db, async () => {
          while ((await indexPendingMessages(db, 'sqlite', INDEX_BATCH)) === INDEX_BATCH) {
            // Others get a turn between batches: a backlog after a bulk import takes many.
            await new Promise((resolve) => setImmediate(resolve));
          }
        });
  return {
    db,
    dialect,
    messages,
    location: target,
    async ping() {
      sqlite.prepare('select 1').get();
      await messages.ping();
    },
    async close() {
      await messages.close();
      await checkpointer?.close();
      await db.destroy();
    },
  };
}

/**
 * The pool as Kysely sees it, with every error that did not come from the
 * server (a refused, lost or ended connection: node-postgres gives those no
 * SQLSTATE) turned into a DatabaseUnavailableError, so the outage check
 * reads a code instead of driver texts.
 */
function markingConnectionFailures(
  pool: Pool,
  ServerError: abstract new (...args: never[]) => Error,
): PostgresPool {
  const mark = (error: unknown) =>
    error instanceof ServerError ? error : new DatabaseUnavailableError(error);
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect().catch((error: unknown) => {
        throw mark(error);
      });
      return {
        // Kysely calls query(sql, parameters); cursors (streaming) are not used here. A query
        // compiled once runs as a prepared statement, prepared on this connection at first use.
        query: ((sql: string, parameters: unknown[]) => {
          const name = preparedName(sql);
          const run = (as: string | undefined) =>
            as === undefined
              ? client.query(sql, parameters)
              : client.query({ name: as, text: sql, values: parameters });
          return run(name)
            .catch((error: unknown) => {
              if (name === undefined || !isStalePlan(error)) throw error;
              return run(renamePrepared(sql, name));
            })
            .catch((error: unknown) => {
              throw mark(error);
            });
        }) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
    },
    end: () => pool.end(),
  };
}

/** PostgreSQL refusing a prepared statement whose tables changed shape since it was prepared. */
function isStalePlan(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === '0A000' &&
    /cached plan must not change result type/.test(String((error as { message?: unknown }).message))
  );
}

function redactPassword(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparsable)';
  }
}

/** True for a violated unique or primary key constraint, in either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
