import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Dialect, Executor } from '../create-database.ts';
import type { Database, MessageRow } from '../database.ts';

export interface SearchHit {
  message: MessageRow;
  snippet: string;
}

export interface SearchOptions {
  userId: string;
  /** Words already split and stripped of syntax; every one must match, the last as a prefix. */
  words: string[];
  conversationId?: string | undefined;
  /** Only messages at a log position below this one (for the next page). */
  before?: number | undefined;
  limit: number;
  /** Put around matches in the snippet. */
  marks: [string, string];
}

const SNIPPET_WORDS = 16;

/**
 * Full-text search over the messages of the conversations `userId` belongs
 * to, newest first: FTS5 in SQLite, a tsvector with a GIN index in PostgreSQL.
 */
export async function searchMessages(
  db: Executor,
  dialect: Dialect,
  options: SearchOptions,
): Promise<SearchHit[]> {
  const { userId, words, conversationId, before, limit, marks } = options;
  if (words.length === 0) return [];
  if (dialect === 'postgres') {
    const query = words
      .map((w, i) => `'${w.replaceAll("'", "''")}'${i === words.length - 1 ? ':*' : ''}`)
      .join(' & ');
    const rows = await db
      .selectFrom('messages as m')
      .innerJoin('conversation_members as cm', (j) =>
        j.onRef('cm.conversation_id', '=', 'm.conversation_id').on('cm.user_id', '=', userId),
      )
      .selectAll('m')
      .select(
        sql<string>`ts_headline('simple', m.content || ' ' || coalesce(m.attachment_names, ''), to_tsquery('simple', ${query}),
          ${`StartSel=${marks[0]}, StopSel=${marks[1]}, MaxWords=${SNIPPET_WORDS}, MinWords=4, MaxFragments=1`})`.as(
          'snippet',
        ),
      )
      .where(sql<boolean>`m.search @@ to_tsquery('simple', ${query})`)
      .where('m.deleted_at', 'is', null)
      .$if(conversationId !== undefined, (q) => q.where('m.conversation_id', '=', conversationId!))
      .$if(before !== undefined, (q) => q.where('m.pos', '<', before!))
      .orderBy('m.pos', 'desc')
      .limit(limit)
      .execute();
    return rows.map(({ snippet, ...message }) => ({ message: message as MessageRow, snippet }));
  }
  const match = words
    .map((w, i) => `"${w.replaceAll('"', '""')}"${i === words.length - 1 ? '*' : ''}`)
    .join(' ');
  const rows = await db
    .selectFrom(sql<{ rowid: number }>`messages_fts`.as('messages_fts'))
    .innerJoin('messages as m', (j) => j.on(sql<boolean>`m.rowid = messages_fts.rowid`))
    .innerJoin('conversation_members as cm', (j) =>
      j.onRef('cm.conversation_id', '=', 'm.conversation_id').on('cm.user_id', '=', userId),
    )
    .selectAll('m')
    .select(
      // -1: the column that matched best, the text or the file names.
      sql<string>`snippet(messages_fts, -1, ${marks[0]}, ${marks[1]}, '…', ${SNIPPET_WORDS})`.as('snippet'),
    )
    .where(sql<boolean>`messages_fts match ${match}`)
    .where('m.deleted_at', 'is', null)
    .$if(conversationId !== undefined, (q) => q.where('m.conversation_id', '=', conversationId!))
    .$if(before !== undefined, (q) => q.where('m.pos', '<', before!))
    .orderBy('m.pos', 'desc')
    .limit(limit)
    .execute();
  return rows.map(({ snippet, ...message }) => ({ message: message as MessageRow, snippet }));
}

/**
 * SQLite: the statements of one indexing step (migration 0004), for the
 * writer thread and `indexPendingMessages` alike: the range of up to `?`
 * queued rowids, oldest first (`last`, `count`); those messages into the
 * full-text index; then off the queue. In `index`, the CROSS JOIN keeps the
 * queue the outer loop: left to choose, SQLite carried the range over to
 * `messages` and read every message below it for each chunk, so indexing
 * cost grew with the table (a chunk of 100 read all of 100,000 messages).
 */
export const INDEX_STEP_SQL = {
  pendingRange: `select max(id) as last, count(*) as count
    from (select id from messages_fts_pending order by id limit ?)`,
  index: `insert into messages_fts (rowid, content, attachment_names)
  select m.rowid, m.content, m.attachment_names
  from messages_fts_pending p cross join messages m on m.rowid = p.id
  where p.id <= ?`,
  unqueue: 'delete from messages_fts_pending where id <= ?',
};

/**
 * SQLite: puts up to `batch` queued messages into the full-text index, in
 * one transaction, oldest first; returns how many. Sends only queue their
 * rowid (see migration 0004), so indexing runs in batches outside the send
 * path. PostgreSQL indexes on insert: always 0.
 */
export async function indexPendingMessages(
  db: Kysely<Database>,
  dialect: Dialect,
  batch = 2000,
): Promise<number> {
  if (dialect === 'postgres') return 0;
  return db.transaction().execute(async (trx) => {
    const { rows } = await trx.executeQuery<{ last: number | null; count: number }>(
      CompiledQuery.raw(INDEX_STEP_SQL.pendingRange, [batch]),
    );
    const { last, count } = rows[0]!;
    if (last === null || count === 0) return 0;
    await trx.executeQuery(CompiledQuery.raw(INDEX_STEP_SQL.index, [last]));
    await trx.executeQuery(CompiledQuery.raw(INDEX_STEP_SQL.unqueue, [last]));
    return count;
  });
}
