import { type Kysely, PostgresAdapter } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * A member's mute of a conversation: when they muted it, null while not
 * muted. On the membership row, so it goes with the membership (leaving
 * and being added again starts unmuted) and the conversation list reads it
 * in the join it already makes. A timestamp rather than a boolean, because
 * both dialects already agree on timestamps (SQLite has no boolean type).
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .alterTable('conversation_members')
    .addColumn('muted_at', pg ? 'timestamptz' : 'text')
    .execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('conversation_members').dropColumn('muted_at').execute();
}
