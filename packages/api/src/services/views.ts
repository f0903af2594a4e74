import type {
  Conversation as ConversationRow,
  ConversationSummary,
  MemberRole,
  MessageRow,
} from '@pneumatic/db';
import type { Conversation, ConversationListItem } from '../schemas/conversations.schema.ts';
import type { Attachment } from '../schemas/files.schema.ts';
import type { Message, MessageQuote, Reaction, SystemEvent } from '../schemas/messages.schema.ts';

/** What a message row keeps of each file it carries (messages.attachments, JSON). */
export type StoredAttachment = Omit<Attachment, 'url'>;

/** Where a member downloads a file (with a bearer token): its id, then its name for the browser's sake. */
export function fileUrl(id: string, name: string): string {
  return `/files/${id}/${encodeURIComponent(name)}`;
}

export function toAttachment(file: StoredAttachment): Attachment {
  const { id, name, size, type, width, height } = file;
  return { id, name, size, type, width, height, url: fileUrl(id, name) };
}

/** The public shape of a stored message. */
export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    message_id: row.message_id,
    sender_id: row.sender_id,
    conversation_id: row.conversation_id,
    content: row.content,
    created_at: row.created_at,
    seq: row.seq,
    kind: row.kind,
    system: row.system ? (JSON.parse(row.system) as SystemEvent) : null,
    edited_at: row.edited_at,
    deleted_at: row.deleted_at,
    reply_to: toQuote(row),
    mentions: row.mentions ? (JSON.parse(row.mentions) as string[]) : [],
    reactions: toReactions(row.reactions),
    attachments: row.attachments ? (JSON.parse(row.attachments) as StoredAttachment[]).map(toAttachment) : [],
  };
}

/** The quote of the message a reply answers (copied into the reply's row), or null. */
function toQuote(row: MessageRow): MessageQuote | null {
  if (!row.reply_to || !row.reply_sender_id) return null;
  return {
    id: row.reply_to,
    sender_id: row.reply_sender_id,
    excerpt: row.reply_excerpt,
    deleted: row.reply_excerpt === null,
  };
}

/** How reactions are stored: per emoji, who reacted, in order. */
export type StoredReaction = Omit<Reaction, 'count'>;

export function parseReactions(stored: string | null): StoredReaction[] {
  return stored ? (JSON.parse(stored) as StoredReaction[]) : [];
}

export function toReactions(stored: string | null): Reaction[] {
  return parseReactions(stored).map(({ emoji, user_ids }) => ({ emoji, count: user_ids.length, user_ids }));
}

export function toConversation(
  row: ConversationRow,
  members: string[],
  lastMessage: MessageRow | null,
  roles: Record<string, MemberRole>,
): Conversation {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    members,
    created_by: row.created_by,
    created_at: row.created_at,
    last_activity_at: row.last_activity_at,
    last_seq: row.last_seq,
    last_message: lastMessage ? toMessage(lastMessage) : null,
    roles,
  };
}

export function toConversationListItem(summary: ConversationSummary): ConversationListItem {
  const { conversation, members, last_message, last_read_seq, read_seqs, muted, roles, unread_mentions } =
    summary;
  return {
    ...toConversation(conversation, members, last_message, roles),
    last_read_seq,
    read_seqs,
    muted,
    unread_mentions,
    unread_count: Math.max(0, conversation.last_seq - last_read_seq),
  };
}
