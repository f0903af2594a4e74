import type { Executor } from '../create-database.ts';
import type { NewUser, User } from '../database.ts';

export type PublicUser = Pick<User, 'id' | 'username' | 'full_name'>;

const publicColumns = ['id', 'username', 'full_name'] as const;

/** Inserts the user, or returns null when the username is taken (in any letter case). */
export async function insertUser(db: Executor, user: NewUser): Promise<PublicUser | null> {
  const row = await db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.column('username_lower').doNothing())
    .returning(publicColumns)
    .executeTakeFirst();
  return row ?? null;
}

export async function findUserForLogin(db: Executor, usernameLower: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('username_lower', '=', usernameLower).executeTakeFirst();
}

export async function findUserById(db: Executor, id: string): Promise<PublicUser | undefined> {
  return db.selectFrom('users').select(publicColumns).where('id', '=', id).executeTakeFirst();
}

/** Everyone but `exceptUserId` and deleted accounts, ordered by username. */
export async function listUsersExcept(db: Executor, exceptUserId: string): Promise<PublicUser[]> {
  return db
    .selectFrom('users')
    .select(publicColumns)
    .where('id', '!=', exceptUserId)
    .where('deleted_at', 'is', null)
    .orderBy('username_lower')
    .execute();
}

/** The subset of `ids` that belong to existing users. */
export async function findExistingUserIds(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('users').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

/** Sets or clears (null) the account's disabled mark; false when there is no such user. */
export async function setDisabledAt(
  db: Executor,
  userId: string,
  disabledAt: string | null,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ disabled_at: disabledAt })
    .where('id', '=', userId)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * Marks the account deleted: disabled, its name and password gone (the
 * username is free again), its messages kept.
 */
export async function markDeleted(db: Executor, userId: string, now: string): Promise<void> {
  const placeholder = `deleted-${userId}`;
  await db
    .updateTable('users')
    .set({
      username: placeholder,
      username_lower: placeholder,
      full_name: 'Deleted user',
      password_hash: '',
      disabled_at: now,
      deleted_at: now,
    })
    .where('id', '=', userId)
    .execute();
}
