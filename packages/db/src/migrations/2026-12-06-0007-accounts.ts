import { type Kysely, PostgresAdapter } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * Accounts: what a login's list shows (when it was last used, from which
 * address and client), and deleted accounts. A deleted user's row stays, so
 * their messages keep a sender; `deleted_at` marks it and the service frees
 * its username.
 */
export async function up(db: AnyDb): Promise<void> {
  const ts = db.getExecutor().adapter instanceof PostgresAdapter ? 'timestamptz' : 'text';
  await db.schema.alterTable('sessions').addColumn('last_used_at', ts).execute();
  await db.schema.alterTable('sessions').addColumn('ip_address', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('user_agent', 'text').execute();
  await db.schema.alterTable('users').addColumn('deleted_at', ts).execute();
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').dropColumn('deleted_at').execute();
  await db.schema.alterTable('sessions').dropColumn('user_agent').execute();
  await db.schema.alterTable('sessions').dropColumn('ip_address').execute();
  await db.schema.alterTable('sessions').dropColumn('last_used_at').execute();
}
