import { keepPreviousData } from '@tanstack/react-query';
import { Fragment } from 'react';
import { useChat } from '../chat-context.tsx';
import { describeError } from '../lib/errors.ts';
import { conversationName, displayName, formatListTime } from '../lib/format.ts';
import { snippetParts } from '../lib/snippet.ts';
import type { ConversationListItem, Person } from '../lib/types.ts';
import { useDebounced } from '../lib/use-debounced.ts';
import { trpc } from '../trpc.ts';
import type { JumpTarget } from './message-list.tsx';
import { MoreButton } from './more-button.tsx';

/** Fewer characters than this only filter the lists; from here on, messages are searched too. */
export const SEARCH_MIN_LENGTH = 2;
const SEARCH_DEBOUNCE_MS = 250;
const RESULTS_PER_PAGE = 20;
/** The server finds words: letters and digits in any script. */
const HAS_WORD = /[\p{L}\p{N}_]/u;

/** Whether `query` is worth sending to `messages.search`. */
export function isMessageQuery(query: string): boolean {
  const trimmed = query.trim();
  return trimmed.length >= SEARCH_MIN_LENGTH && HAS_WORD.test(trimmed);
}

interface MessageSearchProps {
  query: string;
  conversations: readonly ConversationListItem[];
  users: ReadonlyMap<string, Person>;
  onJump(target: Omit<JumpTarget, 'nonce'>): void;
}

/** Messages that match the sidebar's search, newest first, with the matched words marked. */
export function MessageSearch({ query, conversations, users, onJump }: MessageSearchProps) {
  const { myId } = useChat();
  const words = useDebounced(query.trim().slice(0, 200), SEARCH_DEBOUNCE_MS);
  const enabled = isMessageQuery(words);
  const search = trpc.messages.search.useInfiniteQuery(
    { query: words, limit: RESULTS_PER_PAGE },
    {
      getNextPageParam: (page) => page.next_cursor,
      enabled,
      placeholderData: keepPreviousData,
      staleTime: 30_000,
      trpc: { abortOnUnmount: true },
    },
  );

  const results = search.data?.pages.flatMap((page) => page.results) ?? [];
  const byId = new Map(conversations.map((c) => [c.id, c]));

  return (
    <section className="search-results" aria-label="Messages found" aria-busy={search.isFetching}>
      <h3 className="list-heading">Messages</h3>
      {!enabled || (search.isPending && !search.data) ? (
        <p className="list-note" role="status">
          Searching…
        </p>
      ) : search.isError && !search.data ? (
        <p className="inline-error" role="alert">
          {describeError(search.error)}
        </p>
      ) : results.length === 0 ? (
        <p className="list-note">No messages match.</p>
      ) : (
        <ul className="result-list">
          {results.map(({ message, snippet }) => {
            const conversation = byId.get(message.conversation_id);
            const where = conversation ? conversationName(conversation, myId, users) : 'Conversation';
            const who =
              message.sender_id === myId ? 'You' : displayName(users.get(message.sender_id)).split(' ')[0];
            return (
              <li key={message.id}>
                <button
                  type="button"
                  className="search-result"
                  onClick={() =>
                    onJump({
                      conversationId: message.conversation_id,
                      messageId: message.id,
                      seq: message.seq,
                    })
                  }
                >
                  <span className="ci-top">
                    <span className="ci-name">{where}</span>
                    <time className="ci-time" dateTime={message.created_at}>
                      {formatListTime(message.created_at)}
                    </time>
                  </span>
                  <span className="search-snippet">
                    <span className="search-sender">{who}: </span>
                    {snippetParts(snippet).map((part, i) =>
                      part.match ? (
                        <mark key={i}>{part.text}</mark>
                      ) : (
                        <Fragment key={i}>{part.text}</Fragment>
                      ),
                    )}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <MoreButton label="More results" className="link-button more-results" pages={search} />
    </section>
  );
}
