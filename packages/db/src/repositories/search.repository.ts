import { sql } from 'kysely';
import type { Dialect, Executor } from '../create-database.ts';
import type { MessageRow } from '../database.ts';

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
        sql<string>`ts_headline('simple', m.content, to_tsquery('simple', ${query}),
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
      sql<string>`snippet(messages_fts, 0, ${marks[0]}, ${marks[1]}, '…', ${SNIPPET_WORDS})`.as('snippet'),
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
