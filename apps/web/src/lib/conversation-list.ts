import type { Conversation, ConversationListItem, Message } from './types.ts';

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
 * conversation, which moves to the top. `known` is false when the
 * conversation is not in the list (the list should be fetched again).
 */
export function applyMessage(
  list: ConversationListItem[] | undefined,
  message: Message,
): { list: ConversationListItem[] | undefined; known: boolean } {
  if (!list) return { list, known: true };
  const index = list.findIndex((c) => c.id === message.conversation_id);
  if (index === -1) return { list, known: false };
  const item = list[index]!;
  if (item.last_message && item.last_message.seq >= message.seq) return { list, known: true };
  const updated: ConversationListItem = {
    ...item,
    last_message: message,
    last_seq: Math.max(item.last_seq, message.seq),
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

/**
 * Unread messages: those after the read position, taking the later of the
 * server's (`last_read_seq`) and this browser's own (`localReadSeq`). When
 * the last message is my own, I have read everything before it.
 */
export function unreadCount(
  item: ConversationListItem,
  localReadSeq: number | undefined,
  myId: string,
): number {
  if (item.last_message?.sender_id === myId) return 0;
  return Math.max(0, item.last_seq - Math.max(item.last_read_seq, localReadSeq ?? 0));
}
