import type {
  Conversation as ConversationRow,
  ConversationSummary,
  MemberRole,
  MessageRow,
} from '@pneumatic/db';
import type { Conversation, ConversationListItem } from '../schemas/conversations.schema.ts';
import type { Message, SystemEvent } from '../schemas/messages.schema.ts';

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
  };
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
  const { conversation, members, last_message, last_read_seq, read_seqs, muted, roles } = summary;
  return {
    ...toConversation(conversation, members, last_message, roles),
    last_read_seq,
    read_seqs,
    muted,
    unread_count: Math.max(0, conversation.last_seq - last_read_seq),
  };
}
