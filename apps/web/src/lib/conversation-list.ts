import type { Conversation, ConversationListItem, Message, ReadEvent } from './types.ts';

/** The later of two ISO 8601 UTC timestamps (they compare as strings). */
function laterTimestamp(a: string, b: string): string {
  return b.localeCompare(a) > 0 ? b : a;
}

/** Most recent activity first; ties by id so the order is stable. */
export function sortConversations(list: ConversationListItem[]): ConversationListItem[] {
  return [...list].sort(
    (a, b) => b.last_activity_at.localeCompare(a.last_activity_at) || a.id.localeCompare(b.id),
  );
}

/**
 * Applies a new message to the list: last message, seq and activity of its
 * conversation, which moves to the top, and my unread mentions when it
 * mentions me (`myId`; default: nobody). `known` is false when the
 * conversation is not in the list (the list should be fetched again).
 */
export function applyMessage(
  list: ConversationListItem[] | undefined,
  message: Message,
  myId = '',
): { list: ConversationListItem[] | undefined; known: boolean } {
  if (!list) return { list, known: true };
  const index = list.findIndex((c) => c.id === message.conversation_id);
  if (index === -1) return { list, known: false };
  const item = list[index]!;
  if (item.last_message && item.last_message.seq >= message.seq) return { list, known: true };
  const lastSeq = Math.max(item.last_seq, message.seq);
  const updated: ConversationListItem = {
    ...item,
    last_message: message,
    last_seq: lastSeq,
    // As the server counts: every message after my read position.
    unread_count: item.unread_count + (lastSeq - item.last_seq),
    unread_mentions:
      item.unread_mentions + (message.sender_id !== myId && message.mentions.includes(myId) ? 1 : 0),
    last_activity_at: laterTimestamp(item.last_activity_at, message.created_at),
  };
  return { list: sortConversations(list.map((c, i) => (i === index ? updated : c))), known: true };
}

/**
 * Adds a conversation from the event stream, or refreshes the one the list
 * has while keeping the reader's own state (read position) and any newer
 * message already applied.
 */
export function upsertConversation(
  list: ConversationListItem[] | undefined,
  conversation: Conversation,
): ConversationListItem[] | undefined {
  if (!list) return list;
  const existing = list.find((c) => c.id === conversation.id);
  if (!existing) {
    const added: ConversationListItem = {
      ...conversation,
      last_read_seq: 0,
      unread_count: conversation.last_seq,
      // The members' read positions come with the next list fetch.
      read_seqs: {},
      // New to me (or I was added again): nothing I muted.
      muted: false,
      // Counted by the list's next fetch; mentions that come live count from here.
      unread_mentions: 0,
    };
    return sortConversations([...list, added]);
  }
  const newer = existing.last_seq > conversation.last_seq;
  const merged: ConversationListItem = {
    ...existing,
    ...conversation,
    last_read_seq: existing.last_read_seq,
    last_seq: Math.max(existing.last_seq, conversation.last_seq),
    last_message: newer ? existing.last_message : conversation.last_message,
    last_activity_at: newer ? existing.last_activity_at : conversation.last_activity_at,
  };
  return sortConversations(list.map((c) => (c.id === conversation.id ? merged : c)));
}

/** Puts an edited or deleted message in place of the list's last message, when it is that one. */
export function applyMessageUpdate(
  list: ConversationListItem[] | undefined,
  message: Message,
): ConversationListItem[] | undefined {
  if (!list) return list;
  const index = list.findIndex((c) => c.last_message?.id === message.id);
  if (index === -1) return list;
  return list.map((c, i) => (i === index ? { ...c, last_message: message } : c));
}

/**
 * Applies a `read` event: the member's entry in `read_seqs` (receipts), and
 * for me, my read position and unread count (I read on another device).
 * Positions only move forward.
 */
export function applyRead(
  list: ConversationListItem[] | undefined,
  event: Pick<ReadEvent, 'conversation_id' | 'user_id' | 'last_read_seq'>,
  myId: string,
): ConversationListItem[] | undefined {
  if (!list) return list;
  const index = list.findIndex((c) => c.id === event.conversation_id);
  const item = list[index];
  if (!item) return list;
  const seq = event.last_read_seq;
  const mine = event.user_id === myId;
  const theirs = item.read_seqs[event.user_id] ?? 0;
  if (theirs >= seq && (!mine || item.last_read_seq >= seq)) return list;
  const updated: ConversationListItem = {
    ...item,
    read_seqs: { ...item.read_seqs, [event.user_id]: Math.max(theirs, seq) },
  };
  if (mine && seq > item.last_read_seq) {
    updated.last_read_seq = seq;
    updated.unread_count = Math.min(item.unread_count, Math.max(0, item.last_seq - seq));
    // Read to the end, every mention is read; short of it, the list's next fetch counts them.
    if (seq >= item.last_seq) updated.unread_mentions = 0;
  }
  return list.map((c, i) => (i === index ? updated : c));
}

/** My mute of a conversation changed (here or on another device). */
export function applyMute(
  list: ConversationListItem[] | undefined,
  conversationId: string,
  muted: boolean,
): ConversationListItem[] | undefined {
  if (!list?.some((c) => c.id === conversationId && c.muted !== muted)) return list;
  return list.map((c) => (c.id === conversationId ? { ...c, muted } : c));
}

/** The list without a conversation (I left it). */
export function removeConversation(
  list: ConversationListItem[] | undefined,
  conversationId: string,
): ConversationListItem[] | undefined {
  if (!list?.some((c) => c.id === conversationId)) return list;
  return list.filter((c) => c.id !== conversationId);
}

/**
 * Unread messages: the server's count, less what this page has read since
 * (`localReadSeq`, ahead of the server for a moment). When the last message
 * is my own, I have read everything before it.
 */
export function unreadCount(
  item: ConversationListItem,
  localReadSeq: number | undefined,
  myId: string,
): number {
  if (item.last_message?.sender_id === myId) return 0;
  return Math.max(0, Math.min(item.unread_count, item.last_seq - (localReadSeq ?? 0)));
}

/** Unread mentions of me, as long as anything is unread (what this page has read counts at once). */
export function unreadMentions(item: ConversationListItem, unread: number): number {
  return unread > 0 ? item.unread_mentions : 0;
}

/**
 * Which of my messages gets "Seen" in a 1-on-1: my latest one the other
 * member has read (`otherReadSeq`), unless they wrote after it, which says
 * as much. Deleted messages and system lines are passed over.
 */
export function seenMessageId(
  messages: readonly Message[],
  myId: string,
  otherReadSeq: number | undefined,
): string | null {
  if (!otherReadSeq) return null;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.kind !== 'user' || message.deleted_at) continue;
    if (message.sender_id !== myId) return null;
    if (message.seq <= otherReadSeq) return message.id;
  }
  return null;
}
