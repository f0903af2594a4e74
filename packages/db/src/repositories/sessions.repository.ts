import { compiledOnce } from '../compiled-once.ts';
import type { Executor } from '../create-database.ts';
import type { NewSession, Session } from '../database.ts';
import type { PublicUser } from './users.repository.ts';

export async function insertSession(db: Executor, session: NewSession): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/** Where and when a login was used: set at login and at each refresh. */
export interface SessionUse {
  at: string;
  ipAddress: string | null;
  userAgent: string | null;
}

/**
 * Swaps the family's current refresh token for a new one, only if
 * `presentedJti` is still the current one. Returns false otherwise, which the
 * caller treats as reuse of a retired token.
 */
export async function rotateSession(
  db: Executor,
  sessionId: string,
  presentedJti: string,
  nextJti: string,
  use: SessionUse,
): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({
      current_jti: nextJti,
      last_used_at: use.at,
      ip_address: use.ipAddress,
      user_agent: use.userAgent,
    })
    .where('id', '=', sessionId)
    .where('current_jti', '=', presentedJti)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', use.at)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Revokes the family; returns false when it was already revoked or never existed. */
export async function revokeSession(db: Executor, sessionId: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * The user behind a live session (not revoked, not expired, the user not
 * disabled), in one query. Behind every authenticated request and socket:
 * compiled once.
 */
const sessionUser = compiledOnce(
  (db, sessionId: string, userId: string, now: string) =>
    db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['users.id', 'users.username', 'users.full_name'])
      .where('sessions.id', '=', sessionId)
      .where('sessions.user_id', '=', userId)
      .where('sessions.revoked_at', 'is', null)
      .where('sessions.expires_at', '>', now)
      .where('users.disabled_at', 'is', null),
  3,
);

/** The user of a login that still stands (not revoked, not expired, not disabled), if `sessionId` is theirs. */
export async function findSessionUser(
  db: Executor,
  sessionId: string,
  userId: string,
  now: string,
): Promise<PublicUser | undefined> {
  return (await sessionUser(db, sessionId, userId, now))[0];
}

/** Which of `sessionIds` still stand (not revoked, not expired, their user still there and not disabled). */
export async function findStandingSessions(
  db: Executor,
  sessionIds: string[],
  now: string,
): Promise<Set<string>> {
  const rows = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select('sessions.id')
    .where('sessions.id', 'in', sessionIds)
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .execute();
  return new Set(rows.map((row) => row.id));
}

export type SessionListing = Pick<
  Session,
  'id' | 'created_at' | 'last_used_at' | 'ip_address' | 'user_agent' | 'expires_at'
>;

/** The user's logins that still stand, the most recently used first. */
export async function listStandingSessions(
  db: Executor,
  userId: string,
  now: string,
): Promise<SessionListing[]> {
  const rows = await db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_used_at', 'ip_address', 'user_agent', 'expires_at'])
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .execute();
  const lastUse = (row: SessionListing) => row.last_used_at ?? row.created_at;
  return rows.sort((a, b) => lastUse(b).localeCompare(lastUse(a)) || a.id.localeCompare(b.id));
}

/**
 * Revokes the user's standing logins, all but `keepSessionId` when given;
 * returns the ids it revoked (their sockets are to be closed).
 */
export async function revokeUserSessions(
  db: Executor,
  userId: string,
  keepSessionId: string | null,
  now: string,
): Promise<string[]> {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keepSessionId) query = query.where('id', '!=', keepSessionId);
  const rows = await query.returning('id').execute();
  return rows.map((row) => row.id);
}

/** Revokes one login if it is the user's and still stands; false for anyone else's, or none. */
export async function revokeUserSession(
  db: Executor,
  userId: string,
  sessionId: string,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * Deletes logins that can no longer be used: expired, or revoked. A token
 * of a deleted login is refused as one of a revoked login is.
 */
export async function pruneSessions(db: Executor, now: string): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('revoked_at', 'is not', null)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
