import type { TrpcUtils } from '../trpc.ts';
import type { Attachment, Message, MessageQuote, ReactionsChange } from './types.ts';

/**
 * A conversation's history as `messages.list`'s infinite query holds it
 * (the type tRPC gives it): `pages[0]` is the latest page, each next one
 * older; messages inside a page ascend by seq. The page param is the cursor
 * (null for the latest page).
 */
export type MessagePages = NonNullable<ReturnType<TrpcUtils['messages']['list']['getInfiniteData']>>;

/** A message of mine the server has not confirmed yet. */
export interface PendingMessage {
  message_id: string;
  conversation_id: string;
  content: string;
  /** When it was written, for display until the server's timestamp replaces it. */
  created_at: string;
  status: 'sending' | 'failed';
  /** Why the last attempt failed. */
  error?: string;
  /** The message it answers, as its quote shows it meanwhile. */
  reply_to?: MessageQuote | null;
  /** Files already uploaded that the message carries. */
  attachments?: Attachment[];
}

export type TimelineEntry =
  | { kind: 'message'; key: string; message: Message }
  | { kind: 'pending'; key: string; pending: PendingMessage };

function hasMessage(data: MessagePages, id: string): boolean {
  return data.pages.some((page) => page.messages.some((message) => message.id === id));
}

function insertBySeq(messages: Message[], message: Message): Message[] {
  let index = messages.length;
  while (index > 0 && messages[index - 1]!.seq > message.seq) index--;
  return [...messages.slice(0, index), message, ...messages.slice(index)];
}

/**
 * Adds a message (live, or the server's answer to a send) to the loaded
 * pages: once, in seq order, in the page whose range holds it. A message
 * older than everything loaded is left to the page that will load it.
 */
export function addMessage(data: MessagePages | undefined, message: Message): MessagePages | undefined {
  if (!data || data.pages.length === 0 || hasMessage(data, message.id)) return data;
  const pages = data.pages;
  for (let i = 0; i < pages.length; i++) {
    const page = pages[i]!;
    const first = page.messages[0];
    const isOldestLoaded = i === pages.length - 1;
    if (first === undefined || message.seq >= first.seq || (isOldestLoaded && page.next_cursor === null)) {
      const updated = { ...page, messages: insertBySeq(page.messages, message) };
      return { ...data, pages: pages.map((p, j) => (j === i ? updated : p)) };
    }
  }
  return data;
}

/**
 * Whether `next` is a later state of the same message than `current`: a
 * deletion is final, and a later edit wins over an earlier one (an edit's
 * answer may arrive after the event of the next edit).
 */
export function isLaterState(next: Message, current: Message): boolean {
  if (current.deleted_at) return false;
  if (next.deleted_at) return true;
  return (next.edited_at ?? '') > (current.edited_at ?? '');
}

/** Applies `change` to each loaded message `update` returns a new object for; the same data when none. */
function mapMessages(
  data: MessagePages | undefined,
  update: (m: Message) => Message,
): MessagePages | undefined {
  if (!data) return data;
  let changed = false;
  const pages = data.pages.map((page) => {
    let pageChanged = false;
    const messages = page.messages.map((m) => {
      const next = update(m);
      if (next !== m) pageChanged = true;
      return next;
    });
    changed ||= pageChanged;
    return pageChanged ? { ...page, messages } : page;
  });
  return changed ? { ...data, pages } : data;
}

/** A message's reactions, as they are now. */
export function applyReactions(
  data: MessagePages | undefined,
  change: ReactionsChange,
): MessagePages | undefined {
  return mapMessages(data, (m) => (m.id === change.message_id ? { ...m, reactions: change.reactions } : m));
}

/** What a quote of the message shows: its text, or for files alone their names (as the server quotes it). */
export function quotedText(message: Pick<Message, 'content' | 'attachments'>): string {
  return message.content || message.attachments.map((file) => file.name).join(', ');
}

/** The quotes of an edited or deleted message in the replies to it (the server keeps its copies so too). */
export function applyQuotesOf(data: MessagePages | undefined, original: Message): MessagePages | undefined {
  const deleted = original.deleted_at !== null;
  return mapMessages(data, (m) =>
    m.reply_to?.id === original.id
      ? { ...m, reply_to: { ...m.reply_to, deleted, excerpt: deleted ? null : quotedText(original) } }
      : m,
  );
}

/** Puts the new state of an edited or deleted message in place of the loaded one. */
export function replaceMessage(data: MessagePages | undefined, message: Message): MessagePages | undefined {
  if (!data) return data;
  let changed = false;
  const pages = data.pages.map((page) => {
    const index = page.messages.findIndex((m) => m.id === message.id);
    const current = page.messages[index];
    if (!current || !isLaterState(message, current)) return page;
    changed = true;
    return { ...page, messages: page.messages.map((m, i) => (i === index ? message : m)) };
  });
  return changed ? { ...data, pages } : data;
}

/** All loaded messages, oldest first, each once. */
export function flattenPages(data: Pick<MessagePages, 'pages'> | undefined): Message[] {
  if (!data) return [];
  const seen = new Set<string>();
  const messages: Message[] = [];
  for (let i = data.pages.length - 1; i >= 0; i--) {
    for (const message of data.pages[i]!.messages) {
      if (seen.has(message.id)) continue;
      seen.add(message.id);
      messages.push(message);
    }
  }
  return messages.sort((a, b) => a.seq - b.seq);
}

/**
 * What the message view shows: confirmed messages by seq, then my pending
 * ones in the order I wrote them. A pending message that the server already
 * confirmed (same sender and message_id, e.g. its live event won the race
 * against the send's answer) shows once, as confirmed.
 */
export function buildTimeline(
  confirmed: Message[],
  pending: PendingMessage[],
  myId: string,
): TimelineEntry[] {
  const confirmedIds = new Set(confirmed.filter((m) => m.sender_id === myId).map((m) => m.message_id));
  const entries: TimelineEntry[] = confirmed.map((message) => ({
    kind: 'message',
    // My messages keep the key they had while pending, so the bubble is not re-created on confirm.
    key: message.sender_id === myId ? `mine:${message.message_id}` : message.id,
    message,
  }));
  for (const item of pending) {
    if (confirmedIds.has(item.message_id)) continue;
    entries.push({ kind: 'pending', key: `mine:${item.message_id}`, pending: item });
  }
  return entries;
}
