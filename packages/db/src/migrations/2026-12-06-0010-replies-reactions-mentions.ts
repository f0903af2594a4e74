import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * Replies, mentions and reactions, all columns of the message they belong
 * to, so history, events and replays read them with the row and a send
 * writes them in its one insert:
 * - `reply_to`, with the answered message's sender and the start of its
 *   text copied at send time (`reply_excerpt`, null once it is deleted;
 *   edits and deletes of the original update it through `messages_reply_to`);
 * - `mentions`: a JSON array of the mentioned members' ids, null for none;
 * - `reactions`: a JSON array of `{emoji, user_ids}`, null for none.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const id = pg ? 'uuid' : 'text';
  for (const [column, type] of [
    ['reply_to', id],
    ['reply_sender_id', id],
    ['reply_excerpt', 'text'],
    ['mentions', 'text'],
    ['reactions', 'text'],
  ] as const) {
    await db.schema.alterTable('messages').addColumn(column, type).execute();
  }
  await db.schema
    .createIndex('messages_reply_to')
    .on('messages')
    .column('reply_to')
    .where(sql.ref('reply_to'), 'is not', null)
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('messages_reply_to').execute();
  for (const column of ['reactions', 'mentions', 'reply_excerpt', 'reply_sender_id', 'reply_to']) {
    await db.schema.alterTable('messages').dropColumn(column).execute();
  }
}
