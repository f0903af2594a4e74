import { PostgresAdapter } from 'kysely';
import { compiledOnce, preparedText } from '../compiled-once.ts';
import type { Executor } from '../create-database.ts';
import type { MessageRow } from '../database.ts';

/** Every column of a message row (the object's type checks none is missing), as an insert names them. */
const MESSAGE_COLUMNS = Object.keys({
  id: true,
  conversation_id: true,
  seq: true,
  pos: true,
  sender_id: true,
  message_id: true,
  content: true,
  created_at: true,
  edited_at: true,
  deleted_at: true,
  kind: true,
  system: true,
  reply_to: true,
  reply_sender_id: true,
  reply_excerpt: true,
  mentions: true,
  reactions: true,
  attachments: true,
  attachment_names: true,
} satisfies Record<keyof MessageRow, true>);

export async function findMessageBySender(
  db: Executor,
  senderId: string,
  messageId: string,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('sender_id', '=', senderId)
    .where('message_id', '=', messageId)
    .executeTakeFirst();
}

export async function findMessageById(db: Executor, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Replaces a message's content and mentions (edit) or empties it (delete). */
export async function updateMessage(
  db: Executor,
  id: string,
  changes: {
    content: string;
    edited_at?: string;
    deleted_at?: string;
    mentions?: string | null;
    reactions?: null;
    attachments?: null;
    attachment_names?: null;
  },
): Promise<MessageRow> {
  return db
    .updateTable('messages')
    .set(changes)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findMessageBySeq(
  db: Executor,
  conversationId: string,
  seq: number,
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('seq', '=', seq)
    .executeTakeFirst();
}

/** Inserts the message; returns false when the sender already used this message_id. */
export async function insertMessage(db: Executor, message: MessageRow): Promise<boolean> {
  const row = await db
    .insertInto('messages')
    .values(message)
    .onConflict((oc) => oc.columns(['sender_id', 'message_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export interface HistoryPage {
  /** Ascending by seq. */
  messages: MessageRow[];
  /** True when messages older than the first one exist. */
  has_more: boolean;
}

/**
 * A history page's query: the `limit` latest messages (with seq below
 * `before` when given), the conversation's existence and the user's
 * membership, in one query.
 */
function historyPage(db: Executor, conversationId: string, userId: string, limit: number, before?: number) {
  const page = db
    .selectFrom('messages')
    .select('seq')
    .where('conversation_id', '=', conversationId)
    .$if(before !== undefined, (q) => q.where('seq', '<', before!))
    .orderBy('seq', 'desc')
    .limit(limit);
  // `seq in (the page's seqs)`, not a range from the oldest of them: PostgreSQL cannot estimate a
  // range whose bound is a subquery's and reads the conversation's every message.
  return (
    db
      .selectFrom('conversations as c')
      .leftJoin('conversation_members as cm', (j) =>
        j.onRef('cm.conversation_id', '=', 'c.id').on('cm.user_id', '=', userId),
      )
      // Only a member's row joins messages: a non-member learns nothing, not even how many there are.
      .leftJoin('messages as m', (j) =>
        j.onRef('m.conversation_id', '=', 'c.id').on('cm.user_id', 'is not', null).on('m.seq', 'in', page),
      )
      .select('cm.user_id as member_id')
      .selectAll('m')
      .where('c.id', '=', conversationId)
      .orderBy('m.seq', 'desc')
  );
}

// Compiled once each (a prepared statement on PostgreSQL): the latest page, and a page before a seq.
const latestPage = compiledOnce(
  (db, conversationId: string, userId: string, limit: number) =>
    historyPage(db, conversationId, userId, limit),
  3,
);
const pageBefore = compiledOnce(
  (db, conversationId: string, userId: string, limit: number, before: number) =>
    historyPage(db, conversationId, userId, limit, before),
  4,
);

/**
 * The latest `limit` messages with seq below `before` (or the latest
 * overall), ascending, for `userId`, with whether the conversation exists and
 * the user is a member in the same query: one round trip for a history page.
 */
export async function listMessagesForMember(
  db: Executor,
  conversationId: string,
  userId: string,
  options: { limit: number; before?: number | undefined },
): Promise<{ access: 'not-found' } | { access: 'not-member' } | ({ access: 'member' } & HistoryPage)> {
  const rows =
    options.before === undefined
      ? await latestPage(db, conversationId, userId, options.limit + 1)
      : await pageBefore(db, conversationId, userId, options.limit + 1, options.before);
  const first = rows[0];
  if (!first) return { access: 'not-found' };
  if (first.member_id === null) return { access: 'not-member' };
  // A member with no messages (yet, or before the cursor) gets one row, of nulls. Rows keep their
  // member_id: copying 20 columns without it cost more per page than the query itself.
  const messages = first.id === null ? [] : (rows as unknown as MessageRow[]);
  const has_more = messages.length > options.limit;
  if (has_more) messages.pop();
  return { access: 'member', messages: messages.reverse(), has_more };
}

/** On PostgreSQL: the keys as two arrays, one text for any batch (see preparedText). */
const findMessagesBySenderPg = preparedText<MessageRow>(
  `select * from messages where (sender_id, message_id) in (select * from unnest($1::uuid[], $2::text[]))`,
);

/** The stored messages among (sender, message_id) pairs, in one query. */
export async function findMessagesBySender(
  db: Executor,
  keys: readonly { senderId: string; messageId: string }[],
): Promise<MessageRow[]> {
  if (keys.length === 0) return [];
  if (db.getExecutor().adapter instanceof PostgresAdapter)
    return findMessagesBySenderPg(db, [keys.map((k) => k.senderId), keys.map((k) => k.messageId)]);
  return db
    .selectFrom('messages')
    .selectAll()
    .where((eb) =>
      eb.or(keys.map((k) => eb.and([eb('sender_id', '=', k.senderId), eb('message_id', '=', k.messageId)]))),
    )
    .execute();
}

/**
 * On PostgreSQL: the rows as one JSON array, each read as a row of messages
 * (its columns' own types); a used (sender_id, message_id) is skipped.
 */
const insertMessagesPg = preparedText<{ id: string }>(
  `insert into messages (${MESSAGE_COLUMNS.join(', ')})
    select ${MESSAGE_COLUMNS.join(', ')} from jsonb_populate_recordset(null::messages, $1::jsonb)
    on conflict (sender_id, message_id) do nothing
    returning id`,
);

/** Inserts messages in one statement; returns how many were new (the rest hit their sender's message_id). */
export async function insertMessages(db: Executor, messages: readonly MessageRow[]): Promise<number> {
  if (messages.length === 0) return 0;
  if (db.getExecutor().adapter instanceof PostgresAdapter)
    return (await insertMessagesPg(db, [JSON.stringify(messages)])).length;
  const rows = await db
    .insertInto('messages')
    .values([...messages])
    .onConflict((oc) => oc.columns(['sender_id', 'message_id']).doNothing())
    .returning('id')
    .execute();
  return rows.length;
}

/**
 * The message, locked until the transaction ends on PostgreSQL (SQLite
 * has one writer anyway), for a change that reads before it writes.
 */
export async function lockMessageById(db: Executor, id: string): Promise<MessageRow | undefined> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return db
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', id)
    .$if(postgres, (q) => q.forUpdate())
    .executeTakeFirst();
}

/** Sets a message's reactions (JSON, null for none). */
export async function setReactions(db: Executor, id: string, reactions: string | null): Promise<MessageRow> {
  return db
    .updateTable('messages')
    .set({ reactions })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Keeps the quotes in replies to a message in step with it: its new excerpt, or null once deleted. */
export async function updateQuotesOf(db: Executor, id: string, excerpt: string | null): Promise<void> {
  await db.updateTable('messages').set({ reply_excerpt: excerpt }).where('reply_to', '=', id).execute();
}

/** The messages with these ids, in one query. */
export async function findMessagesByIds(db: Executor, ids: readonly string[]): Promise<MessageRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('messages')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

/** A conversation's messages with seq above `afterSeq`, oldest first, at most `limit` (for exports). */
export async function listMessagesAfter(
  db: Executor,
  conversationId: string,
  afterSeq: number,
  limit: number,
): Promise<MessageRow[]> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}
