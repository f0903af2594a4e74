import { sql } from 'kysely';
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
  return db
    .selectFrom('users')
    .selectAll()
    .where('username_lower', '=', usernameLower)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** The password hash of an account that is not deleted. */
export async function findPasswordHash(db: Executor, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('users')
    .select('password_hash')
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row?.password_hash;
}

export async function updatePasswordHash(db: Executor, id: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
}

export async function updateFullName(
  db: Executor,
  id: string,
  fullName: string | null,
): Promise<PublicUser | undefined> {
  return db
    .updateTable('users')
    .set({ full_name: fullName })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning(publicColumns)
    .executeTakeFirst();
}

/** What a deleted account's row shows in place of its name. */
export const DELETED_USERNAME = 'Deleted user';

/**
 * Deletes the account but keeps its row, so its messages keep a sender: the
 * name is replaced, the username freed (its key can never be typed: `:` is
 * not allowed in usernames) and no password matches any more.
 */
export async function markUserDeleted(db: Executor, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({
      username: DELETED_USERNAME,
      username_lower: `deleted:${id}`,
      full_name: null,
      password_hash: '',
      deleted_at: now,
    })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export interface UserSearch {
  exceptUserId: string;
  /** Matched anywhere in the username or full name, ignoring case. */
  query?: string;
  /** The `username_lower` of the last user of the previous page. */
  after?: string;
  limit: number;
}

/** `%`, `_` and the escape character itself match literally. */
function likeContaining(query: string): string {
  return `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A page of people (not deleted, not `exceptUserId`) by username, optionally searched. */
export async function searchUsers(
  db: Executor,
  search: UserSearch,
): Promise<Array<PublicUser & { username_lower: string }>> {
  let query = db
    .selectFrom('users')
    .select([...publicColumns, 'username_lower'])
    .where('id', '!=', search.exceptUserId)
    .where('deleted_at', 'is', null);
  if (search.query) {
    const pattern = likeContaining(search.query);
    query = query.where((eb) =>
      eb.or([
        sql<boolean>`${eb.ref('username_lower')} like ${pattern} escape '\\'`,
        sql<boolean>`lower(${eb.ref('full_name')}) like ${pattern} escape '\\'`,
      ]),
    );
  }
  if (search.after !== undefined) query = query.where('username_lower', '>', search.after);
  return query.orderBy('username_lower').limit(search.limit).execute();
}

/** These users, deleted ones included (their messages still need a sender's name). */
export async function findUsersByIds(
  db: Executor,
  ids: readonly string[],
): Promise<Array<PublicUser & { deleted: boolean }>> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('users')
    .select([...publicColumns, 'deleted_at'])
    .where('id', 'in', ids)
    .execute();
  // Not `{ ...user, deleted }`: V8 (Node 20) makes a literal that spreads and then adds a property
  // the slow way, about 2 µs a row against 0.3 (see authedContext in @pneumatic/api).
  return rows.map(({ deleted_at, ...user }) => Object.assign(user, { deleted: deleted_at !== null }));
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
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('id', 'in', ids)
    .where('deleted_at', 'is', null)
    .execute();
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
    .where('deleted_at', 'is', null)
    .execute();
  return new Map(rows.map((r) => [r.username_lower, r.id]));
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
