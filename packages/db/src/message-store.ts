import { type Kysely, PostgresAdapter } from 'kysely';
import type { Database, MessageRow } from './database.ts';
import * as conversationsRepository from './repositories/conversations.repository.ts';
import * as logRepository from './repositories/log.repository.ts';
import * as messagesRepository from './repositories/messages.repository.ts';

/** A message to store: everything but its seq and log position, which the store assigns. */
export interface NewMessage {
  id: string;
  conversation_id: string;
  sender_id: string;
  message_id: string;
  content: string;
  created_at: string;
  /** Replies and mentions (see MessagesTable): absent or null for a plain message. */
  reply_to?: string | null;
  reply_sender_id?: string | null;
  reply_excerpt?: string | null;
  mentions?: string | null;
  /** JSON of the files it carries (see MessagesTable); null or absent for none. */
  attachments?: string | null;
  attachment_names?: string | null;
}

/** The row a new message is stored as, at its seq and log position. */
export function newMessageRow(m: NewMessage, seq: number, pos: number): MessageRow {
  return {
    id: m.id,
    conversation_id: m.conversation_id,
    sender_id: m.sender_id,
    message_id: m.message_id,
    content: m.content,
    created_at: m.created_at,
    seq,
    pos,
    edited_at: null,
    deleted_at: null,
    kind: 'user',
    system: null,
    reply_to: m.reply_to ?? null,
    reply_sender_id: m.reply_sender_id ?? null,
    reply_excerpt: m.reply_excerpt ?? null,
    mentions: m.mentions ?? null,
    reactions: null,
    attachments: m.attachments ?? null,
    attachment_names: m.attachment_names ?? null,
  };
}

/** What became of one message of a batch. */
export type StoreOutcome =
  /** Stored now, at this seq and log position. */
  | { stored: { seq: number; pos: number } }
  /** The sender had already used this message_id: the message stored then. */
  | { existing: MessageRow }
  /** The conversation no longer exists. */
  | { missing: true };

/**
 * Where sent messages are written, one batch per transaction (group commit):
 * in a thread of its own for SQLite (sqlite-writer.ts), through the pool for
 * PostgreSQL. The rules of who may send what live in the API's MessageWriter;
 * this is the storage of a batch already allowed.
 */
export interface MessageStore {
  /** Most messages `store` takes in one batch (one transaction). */
  readonly maxBatch: number;
  /**
   * Stores a batch in one transaction and reports each message's outcome in
   * order. (sender_id, message_id) pairs must be distinct within a batch.
   * Seqs follow the batch's order per conversation, log positions follow it
   * overall, and each sender's read marker moves to their newest message
   * (what you sent yourself is not unread for you). Nothing is reported
   * before the commit is durable.
   */
  store(batch: readonly NewMessage[]): Promise<StoreOutcome[]>;
  /** SQLite: brings the full-text index up to date with every stored message. PostgreSQL indexes on insert. */
  indexForSearch(): Promise<void>;
  /**
   * Starts what the store writes with (SQLite: its thread, which otherwise
   * starts with the first batch) and resolves once it can write: a server
   * calls it before it reports ready, so its first send does not wait.
   */
  start(): Promise<void>;
  /** Rejects while the store cannot write (its thread restarting). */
  ping(): Promise<void>;
  /** Writes nothing more; resolves once it has let go of the database. */
  close(): Promise<void>;
}

/**
 * Most messages a batch of the Kysely store holds. On PostgreSQL its
 * statements take the batch as arrays, one text for any size, as the SQLite
 * writer thread takes it a prepared statement a message: the same cap. On
 * SQLite (the CLI) they grow with the batch (a condition per message, a
 * `case` arm per conversation), and SQLite refuses an expression tree deeper
 * than 1,000.
 */
const MAX_BATCH = { postgres: 1024, sqlite: 256 };

/** A batch met a used message_id (a repeat, or another writer's meanwhile): rolled back, to go again checked. */
class LostRace extends Error {}

/**
 * The store over Kysely: PostgreSQL (several instances may write at once,
 * each batch locks its conversations in id order, then the log head), and
 * SQLite where no writer thread runs (the CLI).
 */
export function kyselyMessageStore(db: Kysely<Database>, indexForSearch: () => Promise<void>): MessageStore {
  const write = (batch: readonly NewMessage[], checked: boolean) =>
    db.transaction().execute(async (trx) => {
      const outcomes: (StoreOutcome | undefined)[] = new Array(batch.length);
      const existing = checked
        ? await messagesRepository.findMessagesBySender(
            trx,
            batch.map((m) => ({ senderId: m.sender_id, messageId: m.message_id })),
          )
        : [];
      const stored = new Map(existing.map((row) => [`${row.sender_id}\n${row.message_id}`, row]));
      const counts = new Map<string, number>();
      batch.forEach((m, i) => {
        const row = stored.get(`${m.sender_id}\n${m.message_id}`);
        if (row) outcomes[i] = { existing: row };
        else counts.set(m.conversation_id, (counts.get(m.conversation_id) ?? 0) + 1);
      });
      // Seqs per conversation (one statement; rows locked in id order, so no deadlock between
      // writers), then log positions last: the log_head lock is held only for the insert and the commit.
      const nextSeq = await conversationsRepository.takeSeqsOfMany(trx, counts, batch[0]?.created_at ?? '');
      const fresh: { index: number; row: MessageRow }[] = [];
      const ownLatest = new Map<string, { conversationId: string; userId: string; seq: number }>();
      batch.forEach((m, i) => {
        if (outcomes[i]) return;
        const seq = nextSeq.get(m.conversation_id);
        if (seq === undefined) {
          outcomes[i] = { missing: true };
          return;
        }
        nextSeq.set(m.conversation_id, seq + 1);
        ownLatest.set(`${m.conversation_id}\n${m.sender_id}`, {
          conversationId: m.conversation_id,
          userId: m.sender_id,
          seq,
        });
        fresh.push({ index: i, row: newMessageRow(m, seq, 0) });
      });
      if (fresh.length === 0) return outcomes as StoreOutcome[];
      await conversationsRepository.readUpToMany(trx, [...ownLatest.values()]);
      const firstPos = await logRepository.takePositions(trx, fresh.length);
      fresh.forEach((f, k) => {
        f.row.pos = firstPos + k;
        outcomes[f.index] = { stored: { seq: f.row.seq, pos: f.row.pos } };
      });
      const rows = fresh.map((f) => f.row);
      if ((await messagesRepository.insertMessages(trx, rows)) !== rows.length) throw new LostRace();
      return outcomes as StoreOutcome[];
    });
  return {
    maxBatch: db.getExecutor().adapter instanceof PostgresAdapter ? MAX_BATCH.postgres : MAX_BATCH.sqlite,
    async store(batch) {
      // Repeats are rare (a client retrying): a batch first assumes there are none, and one
      // that meets a used message_id is rolled back to go again with every message looked up
      // first, as the SQLite writer thread does. Another writer may store one of the batch's
      // message_ids between the lookup and the insert (a client retrying through another
      // instance): once more, and the lookup finds it.
      for (const checked of [false, true]) {
        try {
          return await write(batch, checked);
        } catch (error) {
          if (!(error instanceof LostRace)) throw error;
        }
      }
      return write(batch, true);
    },
    indexForSearch,
    async start() {},
    async ping() {},
    async close() {},
  };
}
