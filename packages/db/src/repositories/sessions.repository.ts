import { compiledOnce } from '../compiled-once.ts';
import type { Executor } from '../create-database.ts';
import type { Session } from '../database.ts';
import type { PublicUser } from './users.repository.ts';

export async function insertSession(db: Executor, session: Omit<Session, 'revoked_at'>): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
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
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ current_jti: nextJti })
    .where('id', '=', sessionId)
    .where('current_jti', '=', presentedJti)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
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

/** Revokes every login of the user that still stands; returns their ids (for closing their sockets). */
export async function revokeUserSessions(db: Executor, userId: string, now: string): Promise<string[]> {
  const rows = await db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
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
