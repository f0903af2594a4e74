import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * Replay no longer needs an index of messages by conversation and log
 * position: within a conversation, seq and pos grow together (every writer
 * takes a conversation's seqs, then log positions, in one transaction), so
 * `readLogSince` finds a conversation's messages after a position with the
 * `(conversation_id, seq)` index. Each index keyed by conversation costs a
 * send a page of its own (a conversation's leaf), written to the WAL and
 * copied again by the checkpoint; this one was about a quarter of the
 * SQLite writer thread's time per message.
 */
export async function up(db: AnyDb): Promise<void> {
  await db.schema.dropIndex('messages_conversation_pos').execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema
    .createIndex('messages_conversation_pos')
    .on('messages')
    .columns(['conversation_id', 'pos'])
    .execute();
}
