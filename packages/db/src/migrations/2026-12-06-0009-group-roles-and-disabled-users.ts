import { type Kysely, PostgresAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * Groups with owners and operators' tools.
 *
 * `conversation_members.role`: 'owner', 'admin' or null (a plain member), on
 * the membership row so it goes with the membership. Every existing group
 * gets an owner: its creator while still a member, else its longest-standing
 * member (the rule for an owner who leaves).
 *
 * `users.disabled_at`: an operator disabled the account (no login, no token
 * accepted). Deleted accounts have `users.deleted_at` (0007).
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const ts = pg ? 'timestamptz' : 'text';
  await db.schema.alterTable('conversation_members').addColumn('role', 'text').execute();
  await db.schema.alterTable('users').addColumn('disabled_at', ts).execute();
  await sql`update conversation_members set role = 'owner'
    where exists (select 1 from conversations c
      where c.id = conversation_members.conversation_id and c.kind = 'group'
        and c.created_by = conversation_members.user_id)`.execute(db);
  await sql`update conversation_members set role = 'owner'
    where user_id = (select m.user_id from conversation_members m
        where m.conversation_id = conversation_members.conversation_id
        order by m.joined_at, m.user_id limit 1)
      and exists (select 1 from conversations c
        where c.id = conversation_members.conversation_id and c.kind = 'group')
      and not exists (select 1 from conversation_members o
        where o.conversation_id = conversation_members.conversation_id and o.role = 'owner')`.execute(db);
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.alterTable('users').dropColumn('disabled_at').execute();
  await db.schema.alterTable('conversation_members').dropColumn('role').execute();
}
