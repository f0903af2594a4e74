import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { EventKind } from './event-kinds.ts';

/**
 * Timestamps travel as ISO 8601 UTC strings in both dialects: SQLite stores
 * them as text, PostgreSQL as timestamptz parsed back to ISO by the driver
 * setup in create-database.ts.
 */
type Timestamp = ColumnType<string, string, string>;

/** PostgreSQL returns bigint as string; positions stay below 2^53, so they are parsed to numbers. */
type Position = ColumnType<number, number, number>;

export interface UsersTable {
  id: string;
  username: string;
  username_lower: string;
  full_name: string | null;
  password_hash: string;
  created_at: Timestamp;
  /** When an operator disabled the account: no login, no token accepted. Null while enabled. */
  disabled_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the account was deleted; the row stays so its messages keep a sender. */
  deleted_at: ColumnType<string | null, string | null | undefined, string | null>;
}

/** One login: the family of refresh tokens it rotates through. */
export interface SessionsTable {
  id: string;
  user_id: string;
  /** jti of the one refresh token of this family that may still be used. */
  current_jti: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  /** Last login or refresh; null for logins from before it was kept. */
  last_used_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** Client address and User-Agent at the last login or refresh. */
  ip_address: ColumnType<string | null, string | null | undefined, string | null>;
  user_agent: ColumnType<string | null, string | null | undefined, string | null>;
}

export type ConversationKind = 'direct' | 'group';

export interface ConversationsTable {
  id: string;
  kind: ConversationKind;
  title: string;
  /** For a 1-on-1: the two member ids sorted and joined by ':'; unique. */
  dm_key: string | null;
  created_by: string;
  created_at: Timestamp;
  last_seq: ColumnType<number, number | undefined, number>;
  last_activity_at: Timestamp;
}

export interface ConversationMembersTable {
  conversation_id: string;
  user_id: string;
  joined_at: Timestamp;
  last_read_seq: ColumnType<number, number | undefined, number>;
  /** When the member muted the conversation (no notifications for them); null while not muted. */
  muted_at: ColumnType<string | null, string | null | undefined, string | null>;
  /** In a group: 'owner' (one per group), 'admin', or null for a plain member. */
  role: ColumnType<MemberRole | null, MemberRole | null | undefined, MemberRole | null>;
}

export type MemberRole = 'owner' | 'admin';

export interface MessagesTable {
  id: string;
  conversation_id: string;
  /** Per conversation, strictly increasing without gaps. */
  seq: number;
  /** Global, commit-ordered position in the event log (see log-head). */
  pos: Position;
  sender_id: string;
  message_id: string;
  /** Empty once deleted. */
  content: string;
  created_at: Timestamp;
  edited_at: Timestamp | null;
  deleted_at: Timestamp | null;
  /** 'system' for lines the server writes (members added, left, renames). */
  kind: ColumnType<MessageKind, MessageKind | undefined, MessageKind>;
  /** For system lines: JSON describing what happened. */
  system: string | null;
  // Replies, mentions and reactions (migration 0010): columns of the message, read with it.
  /** The message this one answers, of the same conversation; null for none. */
  reply_to: Extra<string>;
  /** The answered message's sender, copied at send time. */
  reply_sender_id: Extra<string>;
  /** The start of the answered message's text, kept in step with its edits; null once it is deleted. */
  reply_excerpt: Extra<string>;
  /** JSON array of the ids of the members mentioned (`@username`); null for none. */
  mentions: Extra<string>;
  /** JSON array of `{emoji, user_ids}` in the order first used; null for none (and once deleted). */
  reactions: Extra<string>;
  /** JSON array of the files it carries (a copy of their rows when sent); null for none or once deleted. */
  attachments: ColumnType<string | null, string | null | undefined, string | null>;
  /** The carried files' names, one per line, for search; null for none. */
  attachment_names: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A nullable column a plain insert may leave out. */
type Extra<T> = ColumnType<T | null, T | null | undefined, T | null>;

export type MessageKind = 'user' | 'system';

/** The kinds of the `events` table; new messages are rows of `messages`. */
export type EventRowKind = Extract<EventKind, 'message_updated' | 'conversation' | 'reaction'>;

/** Events other than new messages, sharing the messages' position counter. */
export interface EventsTable {
  pos: Position;
  kind: EventRowKind;
  conversation_id: string;
  actor_id: string;
  created_at: Timestamp;
  /** What the event is about: the edited message's id, the user who left. */
  subject_id: string | null;
}

/**
 * One row holding the last position handed out. Taking the next position
 * locks this row until commit, so positions become visible in order.
 */
export interface LogHeadTable {
  id: Generated<number>;
  pos: Position;
}

export type FileState = 'uploading' | 'ready';

/**
 * An uploaded file. `uploading` while its bytes stream in; `ready` once
 * stored, pending until a message of its uploader claims it through
 * `message_key` (that message's client message_id).
 */
export interface FilesTable {
  id: string;
  conversation_id: string;
  uploader_id: string;
  /** Sanitized: no path, no control characters. */
  name: string;
  size: Position;
  /** Decided from the bytes, never from the name or the client's Content-Type. */
  type: string;
  width: number | null;
  height: number | null;
  state: FileState;
  message_key: string | null;
  created_at: Timestamp;
}

/** A file's bytes in order, when they are kept in the database. */
export interface FileChunksTable {
  file_id: string;
  n: number;
  data: Uint8Array;
}

/** Facts about this database, such as its `cluster_id`. */
export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  conversations: ConversationsTable;
  conversation_members: ConversationMembersTable;
  messages: MessagesTable;
  events: EventsTable;
  log_head: LogHeadTable;
  meta: MetaTable;
  files: FilesTable;
  file_chunks: FileChunksTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Session = Selectable<SessionsTable>;
export type NewSession = Insertable<SessionsTable>;
export type Conversation = Selectable<ConversationsTable>;
export type ConversationUpdate = Updateable<ConversationsTable>;
export type ConversationMember = Selectable<ConversationMembersTable>;
export type MessageRow = Selectable<MessagesTable>;
export type EventRow = Selectable<EventsTable>;
export type FileRow = Selectable<FilesTable>;
