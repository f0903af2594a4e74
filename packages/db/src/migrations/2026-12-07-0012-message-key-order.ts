import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/** A unique key on messages, as its constraint reads in SQLite's schema text and in PostgreSQL. */
interface Key {
  name: string;
  columns: [string, string];
}

const SENDER_FIRST: Key = { name: 'messages_sender_message_id', columns: ['sender_id', 'message_id'] };
const MESSAGE_ID_FIRST: Key = { name: 'messages_message_id_sender', columns: ['message_id', 'sender_id'] };

const constraintText = (key: Key) =>
  `constraint "${key.name}" unique (${key.columns.map((c) => `"${c}"`).join(', ')})`;

/**
 * The idempotency key `(sender_id, message_id)` stays unique, indexed
 * message_id first. Keyed by sender, a batch of sends from different people
 * lands on a leaf page per sender, each written to the WAL at the commit and
 * copied again by the checkpoint: with the SQLite writer thread's batches of
 * 80, 28–29 µs of its CPU a message against 19–23 µs with no such index
 * (bench/src/tools/writer.ts). Keyed message_id first, ids that grow with
 * time (the SDK's, the web app's and the bot's: UUIDv7) land together at the
 * end of the index, and the index costs about nothing; random ids cost what
 * they did. A lookup names both columns, so either order serves it.
 *
 * SQLite cannot change a table's constraint: the table is rebuilt (rows
 * copied with their rowids, which the search index refers to; its indexes
 * and triggers made again), in one transaction.
 */
export async function up(db: AnyDb): Promise<void> {
  await rekey(db, SENDER_FIRST, MESSAGE_ID_FIRST);
}

export async function down(db: AnyDb): Promise<void> {
  await rekey(db, MESSAGE_ID_FIRST, SENDER_FIRST);
}

async function rekey(db: AnyDb, from: Key, to: Key): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const columns = sql.join(to.columns.map((c) => sql.id(c)));
    await sql`alter table messages drop constraint ${sql.id(from.name)}, add constraint ${sql.id(to.name)} unique (${columns})`.execute(
      db,
    );
    return;
  }
  await db.transaction().execute(async (trx) => {
    const schema = await sql<{
      type: string;
      sql: string;
    }>`select type, sql from sqlite_master where tbl_name = 'messages' and sql is not null`.execute(trx);
    const table = schema.rows.find((row) => row.type === 'table')?.sql ?? '';
    // Another process starting on the same file got here first.
    if (table.includes(constraintText(to))) return;
    const create = table.replace(/^create table "messages"/i, 'create table "messages_rekeyed"');
    if (create === table || !create.includes(constraintText(from)))
      throw new Error(`messages table not as expected: no ${constraintText(from)} in ${table}`);
    const columns = await sql<{ name: string }>`select name from pragma_table_info('messages')`.execute(trx);
    const list = sql.join(columns.rows.map((c) => sql.id(c.name)));
    await sql.raw(create.replace(constraintText(from), constraintText(to))).execute(trx);
    await sql`insert into messages_rekeyed (rowid, ${list}) select rowid, ${list} from messages`.execute(trx);
    await sql`drop table messages`.execute(trx);
    await sql`alter table messages_rekeyed rename to messages`.execute(trx);
    // Its indexes and triggers (the search queue's) went with the old table.
    for (const row of schema.rows) if (row.type !== 'table') await sql.raw(row.sql).execute(trx);
  });
}
