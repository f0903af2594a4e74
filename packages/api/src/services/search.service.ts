import { searchRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import {
  HIGHLIGHT_END,
  HIGHLIGHT_START,
  type SearchMessagesInput,
  type SearchResults,
} from '../schemas/messages.schema.ts';
import { requireMembership } from './conversations.service.ts';
import { toMessage } from './views.ts';

/** Letters and digits in any script; everything else separates words and never reaches the query syntax. */
const WORD = /[\p{L}\p{N}_]+/gu;
const MAX_WORDS = 8;

export function searchWords(query: string): string[] {
  return (query.toLowerCase().match(WORD) ?? []).slice(0, MAX_WORDS);
}

/** Finds messages by words, only in conversations the caller belongs to, newest first. */
export async function searchMessages(
  deps: ApiDeps,
  userId: string,
  input: SearchMessagesInput,
): Promise<SearchResults> {
  const { db, dialect } = deps.database;
  if (input.conversation_id) await requireMembership(db, input.conversation_id, userId);
  // SQLite indexes in batches off the send path: bring it up to date, so a search finds everything sent before it.
  await deps.database.messages.indexForSearch();
  const hits = await searchRepository.searchMessages(db, dialect, {
    userId,
    words: searchWords(input.query),
    conversationId: input.conversation_id ?? undefined,
    before: input.cursor ?? undefined,
    limit: input.limit + 1,
    marks: [HIGHLIGHT_START, HIGHLIGHT_END],
  });
  const more = hits.length > input.limit;
  const page = more ? hits.slice(0, input.limit) : hits;
  return {
    results: page.map((hit) => ({ message: toMessage(hit.message), snippet: hit.snippet })),
    next_cursor: more ? page.at(-1)!.message.pos : null,
  };
}
