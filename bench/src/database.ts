import { randomBytes } from 'node:crypto';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { LOOPBACK, onInterrupt } from './util.ts';

/** The PostgreSQL server the bench creates its databases on (loopback only). */
export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface PostgresDatabase {
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database; drop() removes it, connections and all. */
export async function createPostgresDatabase(): Promise<PostgresDatabase> {
  const url = new URL(POSTGRES_ADMIN_URL);
  if (url.hostname !== LOOPBACK) throw new Error(`PostgreSQL must be on ${LOOPBACK}: ${url.hostname}`);
  const name = `pneumatic_bench_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  url.pathname = `/${name}`;
  const drop = () =>
    admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined);
  const forget = onInterrupt(drop);
  return {
    url: url.toString(),
    drop: () => {
      forget();
      return drop();
    },
  };
}

export interface SeedTarget {
  conversationId: string;
  senderId: string;
  count: number;
}

/**
 * Appends `count` messages to a conversation straight into the server's
 * SQLite file, the way sendMessage would have stored them: seq continues the
 * conversation's last_seq, pos continues log_head, (sender_id, message_id)
 * stays unique; then last_seq and log_head move past them. The server must
 * be stopped: its hub remembers the log head it started with.
 */
export function seedSqliteMessages(file: string, target: SeedTarget): void {
  const db = new Sqlite(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      const { pos } = db.prepare('select pos from log_head where id = 1').get() as { pos: number };
      const { last_seq } = db
        .prepare('select last_seq from conversations where id = ?')
        .get(target.conversationId) as { last_seq: number };
      const baseMs = Date.now() - target.count;
      db.prepare(
        `with recursive s(n) as (select 1 union all select n + 1 from s where n < @count)
         insert into messages (id, conversation_id, seq, pos, sender_id, message_id, content, created_at)
         select printf('00000000-0000-4000-8000-%012x', @seq + n), @conversation, @seq + n, @pos + n, @sender,
                printf('seed-%010d', @seq + n), 'seeded message number ' || (@seq + n),
                strftime('%Y-%m-%dT%H:%M:%fZ', (@base + n) / 1000.0, 'unixepoch')
         from s`,
      ).run({
        count: target.count,
        seq: last_seq,
        pos,
        conversation: target.conversationId,
        sender: target.senderId,
        base: baseMs,
      });
      db.prepare('update conversations set last_seq = ?, last_activity_at = ? where id = ?').run(
        last_seq + target.count,
        new Date().toISOString(),
        target.conversationId,
      );
      db.prepare('update log_head set pos = ? where id = 1').run(pos + target.count);
      // Indexed for search at once, as a bulk import would be (the server indexes sends in batches).
      db.exec(`insert into messages_fts (rowid, content)
                 select m.rowid, m.content from messages_fts_pending p join messages m on m.rowid = p.id;
               delete from messages_fts_pending;`);
    })();
  } finally {
    db.close();
  }
}

/** The same as seedSqliteMessages, for PostgreSQL, with generate_series. */
export async function seedPostgresMessages(url: string, target: SeedTarget): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    const head = await client.query<{ pos: string }>('select pos from log_head where id = 1 for update');
    const conversation = await client.query<{ last_seq: number }>(
      'select last_seq from conversations where id = $1 for update',
      [target.conversationId],
    );
    const pos = Number(head.rows[0]!.pos);
    const seq = conversation.rows[0]!.last_seq;
    // A third faster than the obvious insert: ids in order (as the SQLite seed's) append to the
    // primary key's last page instead of splitting random ones, and the full-text index is built
    // once afterwards (the same definition as the migration's) instead of row by row.
    await client.query('drop index messages_search');
    await client.query(
      `insert into messages (id, conversation_id, seq, pos, sender_id, message_id, content, created_at)
       select ('00000000-0000-4000-8000-' || lpad(to_hex($2 + n), 12, '0'))::uuid, $1, $2 + n, $3 + n, $4,
              'seed-' || lpad(($2 + n)::text, 10, '0'),
              'seeded message number ' || ($2 + n), now() - interval '1 millisecond' * ($5 - n)
       from generate_series(1, $5::int) as n`,
      [target.conversationId, seq, pos, target.senderId, target.count],
    );
    await client.query("set local maintenance_work_mem = '256MB'");
    await client.query('create index messages_search on messages using gin (search)');
    await client.query('update conversations set last_seq = $1, last_activity_at = now() where id = $2', [
      seq + target.count,
      target.conversationId,
    ]);
    await client.query('update log_head set pos = $1 where id = 1', [pos + target.count]);
    await client.query('commit');
    await client.query('analyze messages');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** Users and their sessions, rows as the server stored them. */
export interface Accounts {
  users: unknown[];
  sessions: unknown[];
}

/** Reads the accounts of a SQLite data directory's database (its server stopped). */
export function readSqliteAccounts(file: string): Accounts {
  const db = new Sqlite(file, { readonly: true });
  try {
    return {
      users: db.prepare('select * from users').all(),
      sessions: db.prepare('select * from sessions').all(),
    };
  } finally {
    db.close();
  }
}

/**
 * Copies accounts into a PostgreSQL database its server has migrated. The
 * tokens issued for those sessions (same SECRET_KEY) then authenticate there
 * too: no signing up and logging in again, two argon2 hashes per user.
 */
export async function copyAccountsToPostgres(url: string, accounts: Accounts): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    for (const table of ['users', 'sessions'] as const)
      await client.query(`insert into ${table} select * from json_populate_recordset(null::${table}, $1)`, [
        JSON.stringify(accounts[table]),
      ]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** The history query as the server's repository builds it, timed straight on the database. */
export interface HistoryQueryTimer {
  run(before: number | undefined): Promise<number>;
  close(): Promise<void>;
}

const HISTORY_SQL = {
  latest: 'select * from "messages" where "conversation_id" = ? order by "seq" desc limit ?',
  before: 'select * from "messages" where "conversation_id" = ? and "seq" < ? order by "seq" desc limit ?',
};

export function sqliteHistoryTimer(file: string, conversationId: string, limit: number): HistoryQueryTimer {
  const db = new Sqlite(file, { readonly: true });
  const latest = db.prepare(HISTORY_SQL.latest);
  const before = db.prepare(HISTORY_SQL.before);
  return {
    async run(cursor) {
      const start = performance.now();
      if (cursor === undefined) latest.all(conversationId, limit + 1);
      else before.all(conversationId, cursor, limit + 1);
      return performance.now() - start;
    },
    async close() {
      db.close();
    },
  };
}

export async function postgresHistoryTimer(
  url: string,
  conversationId: string,
  limit: number,
): Promise<HistoryQueryTimer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let n = 0;
  const numbered = (sql: string) => sql.replace(/\?/g, () => `$${++n}`);
  n = 0;
  const latest = numbered(HISTORY_SQL.latest);
  n = 0;
  const before = numbered(HISTORY_SQL.before);
  return {
    async run(cursor) {
      const start = performance.now();
      if (cursor === undefined)
        await client.query({ name: 'latest', text: latest, values: [conversationId, limit + 1] });
      else await client.query({ name: 'before', text: before, values: [conversationId, cursor, limit + 1] });
      return performance.now() - start;
    },
    close: () => client.end(),
  };
}
