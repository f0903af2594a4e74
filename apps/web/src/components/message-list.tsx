import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useChat, useMe, useMessageActions, useOutbox, useSendMessage } from '../chat-context.tsx';
import { seenMessageId } from '../lib/conversation-list.ts';
import { describeError } from '../lib/errors.ts';
import { displayName, formatDay, isSameDay } from '../lib/format.ts';
import { buildTimeline, flattenPages, type TimelineEntry } from '../lib/message-pages.ts';
import { describeSystemLine } from '../lib/system-lines.ts';
import type { ConversationListItem, Message, MessageQuote, Person } from '../lib/types.ts';
import { historyInput, trpc } from '../trpc.ts';
import { Avatar } from './avatar.tsx';
import { ArrowDownIcon } from './icons.tsx';
import { isSystem, MessageItem, type People, senderOf, timeOf } from './message-item.tsx';
import { ConfirmDialog } from './modal.tsx';
import { TypingIndicator } from './typing-indicator.tsx';

/** Start loading older messages this close to the top. */
const LOAD_OLDER_WITHIN_PX = 300;
/** Closer than this to the bottom counts as at the bottom. */
const AT_BOTTOM_WITHIN_PX = 80;
/** Messages from one sender closer than this together form a run (one name, one avatar). */
const RUN_GAP_MS = 5 * 60_000;
/** How long a message jumped to from search stays highlighted. */
const HIGHLIGHT_MS = 3000;

/** A message to show: scrolled to and highlighted, loading older pages until it is there. */
export interface JumpTarget {
  conversationId: string;
  messageId: string;
  /** Its seq; 0 when not known (a reply's quote): older pages load until it is there. */
  seq: number;
  /** Tells two jumps to the same message apart. */
  nonce: number;
}

interface MessageListProps {
  conversation: ConversationListItem;
  conversationName: string;
  users: ReadonlyMap<string, Person>;
  jumpTo: JumpTarget | null;
  onJumped(): void;
  onReply(message: Message): void;
  onQuote(quote: MessageQuote): void;
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
  if (!a || !b || isSystem(a) || isSystem(b) || senderOf(a, myId) !== senderOf(b, myId)) return false;
  const gap = Date.parse(timeOf(b)) - Date.parse(timeOf(a));
  return gap < RUN_GAP_MS && isSameDay(timeOf(a), timeOf(b));
}

function isAtBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM_WITHIN_PX;
}

export function MessageList(props: MessageListProps) {
  const { conversation, conversationName, users: members, jumpTo, onJumped, onReply, onQuote } = props;
  const { myId, readMarkers } = useChat();
  const outbox = useOutbox();
  const { retry, discard } = useSendMessage();
  const { remove, react } = useMessageActions();
  const myUsername = useMe().data?.username;
  const query = trpc.messages.list.useInfiniteQuery(historyInput(conversation.id), {
    getNextPageParam: (page) => page.next_cursor,
    // The event stream keeps it current; a resync invalidates it.
    staleTime: Number.POSITIVE_INFINITY,
    trpc: { abortOnUnmount: true },
  });
  const { data, hasNextPage, isFetchingNextPage, fetchNextPage } = query;

  const confirmed = useMemo(() => flattenPages(data), [data]);
  const users = useWithFormerMembers(members, confirmed, myId);
  const people = useMemo<People>(
    () => ({
      name: (id) => (id === myId ? 'You' : displayName(users.get(id))),
      username: (id) => (id === myId ? myUsername : users.get(id)?.username),
    }),
    [users, myId, myUsername],
  );
  const entries = useMemo(() => {
    const pending = outbox.filter((m) => m.conversation_id === conversation.id);
    return buildTimeline(confirmed, pending, myId);
  }, [confirmed, outbox, conversation.id, myId]);

  const group = conversation.kind === 'group';
  const otherId = group ? undefined : conversation.members.find((id) => id !== myId);
  const seenId = otherId ? seenMessageId(confirmed, myId, conversation.read_seqs[otherId]) : null;

  const [editingId, setEditingId] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const [highlightId, setHighlightId] = useState<string | null>(null);
  const onEdit = useCallback((message: Message | null) => setEditingId(message?.id ?? null), []);
  const onDelete = useCallback((message: Message) => setDeleting(message), []);

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

  // Reading is seeing the latest message: this conversation on screen, scrolled to the bottom, window
  // focused. It counts as read here at once; the server hears of it debounced.
  const lastSeq = confirmed.at(-1)?.seq ?? 0;
  const markReadIfReading = useCallback(() => {
    readMarkers.serverRead(conversation.id, conversation.last_read_seq);
    if (lastSeq === 0 || !atBottom.current) return;
    if (document.visibilityState !== 'visible' || !document.hasFocus()) return;
    readMarkers.report(conversation.id, lastSeq);
  }, [readMarkers, conversation.id, conversation.last_read_seq, lastSeq]);
  const markReadRef = useRef(markReadIfReading);
  markReadRef.current = markReadIfReading;

  useEffect(() => {
    const onChange = () => markReadRef.current();
    window.addEventListener('focus', onChange);
    document.addEventListener('visibilitychange', onChange);
    return () => {
      window.removeEventListener('focus', onChange);
      document.removeEventListener('visibilitychange', onChange);
    };
  }, []);

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
    const mine = appended && newest !== undefined && senderOf(newest, myId) === myId && !isSystem(newest);
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
    markReadRef.current();
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

  // A jump from search: load older pages until the message is there, then show it.
  useEffect(() => {
    const el = scrollRef.current;
    if (!jumpTo || !el || !data) return;
    const row = el.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(jumpTo.messageId)}"]`);
    if (row) {
      row.scrollIntoView({ block: 'center' });
      atBottom.current = isAtBottom(el);
      snapshot.current = snapshot.current && { ...snapshot.current, anchor: findAnchor(el) };
      setHighlightId(jumpTo.messageId);
      onJumped();
      return;
    }
    const oldest = confirmed[0]?.seq;
    if (hasNextPage && oldest !== undefined && oldest > jumpTo.seq) {
      if (!isFetchingNextPage) void fetchNextPage();
      return;
    }
    // Not in this conversation's history any more.
    onJumped();
  }, [jumpTo, data, confirmed, hasNextPage, isFetchingNextPage, fetchNextPage, onJumped]);

  useEffect(() => {
    if (!highlightId) return;
    const timer = setTimeout(() => setHighlightId(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlightId]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    atBottom.current = isAtBottom(el);
    if (atBottom.current && showJump) setShowJump(false);
    if (snapshot.current) snapshot.current.anchor = findAnchor(el);
    loadOlderIfNeeded();
    markReadIfReading();
  };

  const jumpToLatest = () => {
    const el = scrollRef.current;
    if (!el) return;
    el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
    setShowJump(false);
  };

  const avatarId = group ? conversation.id : (otherId ?? conversation.id);

  return (
    <div className="messages-pane">
      <div
        ref={scrollRef}
        className="messages"
        role="log"
        aria-label={`Messages with ${conversationName}`}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard (WCAG 2.1.1), so the history scrolls with arrows, Page Up and Home
        tabIndex={0}
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
              const message = entry.kind === 'message' ? entry.message : null;
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
                  systemText={message?.kind === 'system' ? describeSystemLine(message, myId, users) : null}
                  seen={message !== null && message.id === seenId}
                  highlighted={message !== null && message.id === highlightId}
                  editing={message !== null && message.id === editingId}
                  onRetry={retry}
                  onDiscard={discard}
                  onEdit={onEdit}
                  onDelete={onDelete}
                  onReply={onReply}
                  onQuote={onQuote}
                  onReact={react}
                  people={people}
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
      <TypingIndicator conversationId={conversation.id} users={users} />
      {deleting && (
        <ConfirmDialog
          title="Delete message?"
          confirmLabel="Delete"
          busyLabel="Deleting…"
          onConfirm={() => remove(deleting)}
          onClose={() => setDeleting(null)}
        >
          <p>It is deleted for everyone in the conversation. This cannot be undone.</p>
          <blockquote className="dialog-quote">{deleting.content}</blockquote>
        </ConfirmDialog>
      )}
    </div>
  );
}

/**
 * The people list, plus the senders and people named by system lines it
 * lacks: members who have left or were removed (or whose account was
 * deleted since), looked up by id so their names still show.
 */
function useWithFormerMembers(
  members: ReadonlyMap<string, Person>,
  messages: readonly Message[],
  myId: string,
): ReadonlyMap<string, Person> {
  const missing = useMemo(() => {
    const ids = new Set<string>();
    for (const m of messages) {
      // Senders, and whom system lines name (someone removed is no longer a member).
      const named = [
        m.sender_id,
        ...(m.system?.user_ids ?? []),
        ...(m.system?.owner_id ? [m.system.owner_id] : []),
        // Whom quotes and mentions name.
        ...(m.reply_to ? [m.reply_to.sender_id] : []),
        ...m.mentions,
      ];
      for (const id of named) if (id !== myId && !members.has(id)) ids.add(id);
    }
    return [...ids].sort().slice(0, 100);
  }, [messages, members, myId]);
  const lookup = trpc.users.get.useQuery(
    { ids: missing },
    { enabled: missing.length > 0, staleTime: Number.POSITIVE_INFINITY },
  );
  return useMemo(() => {
    if (!lookup.data?.length) return members;
    const all = new Map(members);
    for (const person of lookup.data) if (!all.has(person.id)) all.set(person.id, person);
    return all;
  }, [members, lookup.data]);
}
