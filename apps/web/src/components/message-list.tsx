import { useInfiniteQuery } from '@tanstack/react-query';
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useChat, useOutbox, useSendMessage } from '../chat-context.tsx';
import { queryKeys } from '../lib/cache.ts';
import { describeError } from '../lib/errors.ts';
import { displayName, formatDay, formatFull, formatTime, isSameDay, linkify } from '../lib/format.ts';
import { buildTimeline, flattenPages, type TimelineEntry } from '../lib/message-pages.ts';
import type { ConversationListItem, User } from '../lib/types.ts';
import { Avatar } from './avatar.tsx';
import { AlertIcon, ArrowDownIcon, ClockIcon } from './icons.tsx';

const PAGE_SIZE = 50;
/** Start loading older messages this close to the top. */
const LOAD_OLDER_WITHIN_PX = 300;
/** Closer than this to the bottom counts as at the bottom. */
const AT_BOTTOM_WITHIN_PX = 80;
/** Messages from one sender closer than this together form a run (one name, one avatar). */
const RUN_GAP_MS = 5 * 60_000;

interface MessageListProps {
  conversation: ConversationListItem;
  conversationName: string;
  users: ReadonlyMap<string, User>;
}

function senderOf(entry: TimelineEntry, myId: string): string {
  return entry.kind === 'message' ? entry.message.sender_id : myId;
}

function timeOf(entry: TimelineEntry): string {
  return entry.kind === 'message' ? entry.message.created_at : entry.pending.created_at;
}

/** A row and how far below the top of the view it was. */
interface Anchor {
  key: string;
  offset: number;
}

/** The first row whose top is in view. */
function findAnchor(el: HTMLElement): Anchor | null {
  const top = el.getBoundingClientRect().top;
  for (const row of el.querySelectorAll<HTMLElement>('.message-row')) {
    const rowTop = row.getBoundingClientRect().top;
    if (rowTop >= top && row.dataset.key) return { key: row.dataset.key, offset: rowTop - top };
  }
  return null;
}

/** Scrolls so that the anchor row is where it was. */
function restoreAnchor(el: HTMLElement, anchor: Anchor): void {
  const row = el.querySelector<HTMLElement>(`.message-row[data-key="${CSS.escape(anchor.key)}"]`);
  if (!row) return;
  el.scrollTop += row.getBoundingClientRect().top - el.getBoundingClientRect().top - anchor.offset;
}

function continuesRun(a: TimelineEntry | undefined, b: TimelineEntry | undefined, myId: string): boolean {
  if (!a || !b || senderOf(a, myId) !== senderOf(b, myId)) return false;
  const gap = Date.parse(timeOf(b)) - Date.parse(timeOf(a));
  return gap < RUN_GAP_MS && isSameDay(timeOf(a), timeOf(b));
}

export function MessageList({ conversation, conversationName, users }: MessageListProps) {
  const { api, myId } = useChat();
  const outbox = useOutbox();
  const { retry, discard } = useSendMessage();
  const query = useInfiniteQuery({
    queryKey: queryKeys.messages(conversation.id),
    queryFn: ({ pageParam, signal }) =>
      api.messages.list.query(
        { conversation_id: conversation.id, limit: PAGE_SIZE, cursor: pageParam },
        { signal },
      ),
    initialPageParam: null as number | null,
    getNextPageParam: (page) => page.next_cursor,
    // The event stream keeps it current; a resync invalidates it.
    staleTime: Number.POSITIVE_INFINITY,
  });
  const { data, hasNextPage, isFetchingNextPage, fetchNextPage } = query;

  const entries = useMemo(() => {
    const pending = outbox.filter((m) => m.conversation_id === conversation.id);
    return buildTimeline(flattenPages(data), pending, myId);
  }, [data, outbox, conversation.id, myId]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  /** The rendered entries as of the last layout, and the row at the top of the view then. */
  const snapshot = useRef<{ first?: string; last?: string; anchor: Anchor | null } | null>(null);
  const [showJump, setShowJump] = useState(false);

  const loadOlderIfNeeded = useCallback(() => {
    const el = scrollRef.current;
    if (!el || !hasNextPage || isFetchingNextPage) return;
    if (el.scrollTop < LOAD_OLDER_WITHIN_PX) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  // Keep the view steady as messages arrive: older ones above leave the row on screen where it was;
  // new ones below are followed only if the reader was at the bottom (or wrote them).
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el || !data) return;
    const first = entries[0]?.key;
    const last = entries.at(-1)?.key;
    const previous = snapshot.current;
    const newest = entries.at(-1);
    const appended = previous !== null && last !== previous.last;
    const mine = appended && newest !== undefined && senderOf(newest, myId) === myId;
    if (!previous) {
      el.scrollTop = el.scrollHeight;
    } else if (!appended && first !== previous.first && previous.anchor) {
      restoreAnchor(el, previous.anchor);
    } else if (atBottom.current || mine) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
    } else if (appended) {
      setShowJump(true);
    }
    snapshot.current = { first, last, anchor: findAnchor(el) };
    loadOlderIfNeeded();
  }, [entries, data, myId, loadOlderIfNeeded]);

  // Stay at the bottom when the pane changes size (window resize, on-screen keyboard, composer growing).
  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM_WITHIN_PX;
    if (atBottom.current && showJump) setShowJump(false);
    if (snapshot.current) snapshot.current.anchor = findAnchor(el);
    loadOlderIfNeeded();
  };

  const jumpToLatest = () => {
    const el = scrollRef.current;
    if (!el) return;
    el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    setShowJump(false);
  };

  const group = conversation.kind === 'group';
  const avatarId = group
    ? conversation.id
    : (conversation.members.find((id) => id !== myId) ?? conversation.id);

  return (
    <div className="messages-pane">
      <div
        ref={scrollRef}
        className="messages"
        role="log"
        aria-label={`Messages with ${conversationName}`}
        aria-busy={query.isPending || isFetchingNextPage}
        onScroll={onScroll}
      >
        {query.isPending ? (
          <p className="messages-status" role="status">
            Loading messages…
          </p>
        ) : query.isError && !data ? (
          <div className="messages-status" role="alert">
            <p>Messages could not be loaded. {describeError(query.error)}</p>
            <button type="button" className="button" onClick={() => void query.refetch()}>
              Try again
            </button>
          </div>
        ) : (
          <>
            {!hasNextPage && (
              <div className="conversation-start">
                <Avatar id={avatarId} name={conversationName} group={group} size="lg" />
                <p>
                  {entries.length === 0
                    ? group
                      ? `Say hello to ${conversationName}.`
                      : `Say hello to ${conversationName}. This is the start of your conversation.`
                    : `This is the beginning of ${group ? conversationName : `your conversation with ${conversationName}`}.`}
                </p>
              </div>
            )}
            {entries.map((entry, i) => {
              const previous = entries[i - 1];
              const next = entries[i + 1];
              const newDay = !previous || !isSameDay(timeOf(previous), timeOf(entry));
              return (
                <MessageItem
                  key={entry.key}
                  entry={entry}
                  dayLabel={newDay ? formatDay(timeOf(entry)) : null}
                  runStart={!continuesRun(previous, entry, myId)}
                  runEnd={!continuesRun(entry, next, myId)}
                  myId={myId}
                  group={group}
                  sender={users.get(senderOf(entry, myId))}
                  onRetry={retry}
                  onDiscard={discard}
                />
              );
            })}
          </>
        )}
      </div>
      {isFetchingNextPage && (
        <p className="loading-older" role="status">
          Loading earlier messages…
        </p>
      )}
      {showJump && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          <ArrowDownIcon width={16} height={16} /> New messages
        </button>
      )}
    </div>
  );
}

interface MessageItemProps {
  entry: TimelineEntry;
  dayLabel: string | null;
  runStart: boolean;
  runEnd: boolean;
  myId: string;
  group: boolean;
  sender: User | undefined;
  onRetry(messageId: string): void;
  onDiscard(messageId: string): void;
}

/** The stored message or the pending one behind an entry; the same object while it is unchanged. */
function payloadOf(entry: TimelineEntry): object {
  return entry.kind === 'message' ? entry.message : entry.pending;
}

/** Re-render a row only when what it shows changed (timeline entries are rebuilt on every update). */
function sameRow(a: MessageItemProps, b: MessageItemProps): boolean {
  return (
    a.entry.key === b.entry.key &&
    payloadOf(a.entry) === payloadOf(b.entry) &&
    a.dayLabel === b.dayLabel &&
    a.runStart === b.runStart &&
    a.runEnd === b.runEnd &&
    a.myId === b.myId &&
    a.group === b.group &&
    a.sender === b.sender &&
    a.onRetry === b.onRetry &&
    a.onDiscard === b.onDiscard
  );
}

const MessageItem = memo(function MessageItem(props: MessageItemProps) {
  const { entry, dayLabel, runStart, runEnd, myId, group, sender, onRetry, onDiscard } = props;
  const mine = senderOf(entry, myId) === myId;
  const content = entry.kind === 'message' ? entry.message.content : entry.pending.content;
  const createdAt = timeOf(entry);
  const status = entry.kind === 'pending' ? entry.pending.status : 'sent';
  const senderName = mine ? 'You' : displayName(sender);
  const showSender = group && !mine && runStart;
  const messageId = entry.kind === 'pending' ? entry.pending.message_id : entry.message.message_id;

  return (
    <>
      {dayLabel && (
        <div className="day-separator">
          <span>{dayLabel}</span>
        </div>
      )}
      <div
        className="message-row"
        data-key={entry.key}
        data-mine={mine || undefined}
        data-run-start={runStart || undefined}
        data-run-end={runEnd || undefined}
        data-status={status}
      >
        {group && !mine && (
          <div className="message-avatar">
            {runStart && <Avatar id={senderOf(entry, myId)} name={senderName} size="sm" />}
          </div>
        )}
        <div className="message-stack">
          {showSender && (
            <div className="message-sender" aria-hidden="true">
              {senderName}
            </div>
          )}
          <div className="bubble" title={formatFull(createdAt)}>
            <span className="sr-only">{senderName}: </span>
            <p className="message-text">
              {linkify(content).map((part, i) =>
                part.kind === 'link' ? (
                  <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">
                    {part.text}
                  </a>
                ) : (
                  part.text
                ),
              )}
            </p>
            <span className="message-meta">
              <time dateTime={createdAt}>{formatTime(createdAt)}</time>
              {status === 'sending' && (
                <span className="message-pending">
                  <ClockIcon width={12} height={12} />
                  <span className="sr-only">Sending</span>
                </span>
              )}
            </span>
          </div>
          {status === 'failed' && entry.kind === 'pending' && (
            <div className="message-failed" role="alert">
              <AlertIcon width={14} height={14} />
              <span>Not sent{entry.pending.error ? ` (${entry.pending.error})` : ''}</span>
              <button
                type="button"
                className="link-button"
                aria-label="Retry sending message"
                onClick={() => onRetry(messageId)}
              >
                Retry
              </button>
              <button
                type="button"
                className="link-button muted"
                aria-label="Delete unsent message"
                onClick={() => onDiscard(messageId)}
              >
                Delete
              </button>
            </div>
          )}
        </div>
      </div>
    </>
  );
}, sameRow);
