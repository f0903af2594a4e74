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

/** Everyone but `exceptUserId`, ordered by username. */
export async function listUsersExcept(db: Executor, exceptUserId: string): Promise<PublicUser[]> {
  return db
    .selectFrom('users')
    .select(publicColumns)
    .where('id', '!=', exceptUserId)
    .orderBy('username_lower')
    .execute();
}

/** The subset of `ids` that belong to existing users. */
export async function findExistingUserIds(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('users').select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => r.id));
}

/** The ids of the users with these usernames (lowercased); names nobody has are absent. */
export async function findIdsByUsernames(
  db: Executor,
  usernamesLower: readonly string[],
): Promise<Map<string, string>> {
  if (usernamesLower.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'username_lower'])
    .where('username_lower', 'in', [...usernamesLower])
    .execute();
  return new Map(rows.map((r) => [r.username_lower, r.id]));
}
