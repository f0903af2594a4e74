import { conversationsRepository, sessionsRepository, usersRepository } from '@pneumatic/db';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { describeUserAgent } from '../auth/user-agent.ts';
import type { ApiDeps } from '../deps.ts';
import { fail, invalidField } from '../errors.ts';
import type {
  ChangePasswordInput,
  DeleteAccountInput,
  LoginSession,
  RenameInput,
} from '../schemas/account.schema.ts';
import { isId, type PublicUser } from '../schemas/common.ts';
import { checkPasswordLength } from './auth.service.ts';
import { leaveConversation } from './membership.service.ts';

/** Who is asking, from which login and address. */
export interface AccountCaller {
  user: PublicUser;
  sessionId: string;
  ip: string;
}

/** Unknown ids and other people's logins answer alike. */
const SESSION_NOT_FOUND = 'Session not found';

/**
 * Checks the caller's password, as a login would: wrong answers count
 * toward the same throttle, so this is no way around it. The field named in
 * the error is `field`.
 */
async function confirmPassword(
  deps: ApiDeps,
  caller: AccountCaller,
  password: string,
  field: string,
): Promise<void> {
  const usernameLower = caller.user.username.toLowerCase();
  const throttle = deps.loginThrottle;
  const wait = throttle ? await throttle.blockedFor(usernameLower, caller.ip) : 0;
  if (wait > 0) {
    throw fail.tooManyRequests(`Too many failed password attempts; try again in ${wait} seconds`, wait);
  }
  const hash = await usersRepository.findPasswordHash(deps.database.db, caller.user.id);
  if (!(await verifyPassword(hash, password))) {
    await throttle?.failed(usernameLower, caller.ip);
    throw invalidField([field], 'Password is incorrect');
  }
  await throttle?.succeeded(usernameLower, caller.ip);
}

/** Tells every instance to close the sockets of these logins. */
function announceRevoked(deps: ApiDeps, userId: string, sessionIds: string[], reason: 'logout' | 'reuse') {
  for (const sessionId of sessionIds) {
    deps.observer.sessionRevoked?.(sessionId, reason);
    deps.bus.publish({ kind: 'session_revoked', session_id: sessionId, user_id: userId });
  }
}

/**
 * Sets a new password; every other login of the user is signed out at once,
 * sockets included. The caller's own login stays.
 */
export async function changePassword(
  deps: ApiDeps,
  caller: AccountCaller,
  input: ChangePasswordInput,
): Promise<void> {
  checkPasswordLength(deps, input.new_password, 'new_password');
  await confirmPassword(deps, caller, input.current_password, 'current_password');
  const hash = await hashPassword(input.new_password);
  const now = new Date().toISOString();
  const revoked = await deps.database.db.transaction().execute(async (trx) => {
    await usersRepository.updatePasswordHash(trx, caller.user.id, hash);
    return sessionsRepository.revokeUserSessions(trx, caller.user.id, caller.sessionId, now);
  });
  announceRevoked(deps, caller.user.id, revoked, 'logout');
}

/** The caller's logins that still stand, most recently used first, the current one marked. */
export async function listSessions(deps: ApiDeps, caller: AccountCaller): Promise<LoginSession[]> {
  const rows = await sessionsRepository.listStandingSessions(
    deps.database.db,
    caller.user.id,
    new Date().toISOString(),
  );
  return rows.map((row) => ({
    id: row.id,
    created_at: row.created_at,
    last_used_at: row.last_used_at ?? row.created_at,
    expires_at: row.expires_at,
    ip_address: row.ip_address,
    user_agent: row.user_agent,
    client: describeUserAgent(row.user_agent),
    current: row.id === caller.sessionId,
  }));
}

/** Signs out one of the caller's logins (the current one included); anyone else's is "not found". */
export async function revokeSession(deps: ApiDeps, caller: AccountCaller, sessionId: string): Promise<void> {
  const revoked =
    isId(sessionId) &&
    (await sessionsRepository.revokeUserSession(
      deps.database.db,
      caller.user.id,
      sessionId,
      new Date().toISOString(),
    ));
  if (!revoked) throw fail.notFound(SESSION_NOT_FOUND);
  announceRevoked(deps, caller.user.id, [sessionId], 'logout');
}

/** Tells the user's contacts and their own devices what they are called now. */
async function announceUser(deps: ApiDeps, user: PublicUser): Promise<void> {
  const contacts = await conversationsRepository.listContactIds(deps.database.db, user.id);
  deps.bus.publish({ kind: 'user', recipients: [...contacts, user.id], user });
}

/** Sets (or, empty, clears) the display name; contacts see it live. */
export async function rename(deps: ApiDeps, caller: AccountCaller, input: RenameInput): Promise<PublicUser> {
  const user = await usersRepository.updateFullName(
    deps.database.db,
    caller.user.id,
    input.full_name || null,
  );
  if (!user) throw fail.unauthorized('revoked');
  await announceUser(deps, user);
  return user;
}

/**
 * Deletes the account: every login ends and its sockets close at once. The
 * row stays as "Deleted user" so messages keep their sender; the username
 * is free to register again (see docs/architecture.md).
 */
export async function deleteAccount(
  deps: ApiDeps,
  caller: AccountCaller,
  input: DeleteAccountInput,
): Promise<void> {
  await confirmPassword(deps, caller, input.password, 'password');
  await deleteUserAccount(deps, caller.user.id);
}

/**
 * Deletes an account, for its owner (`deleteAccount`) and for an operator
 * (`pneumatic delete-user`): it leaves its groups first (a system line each;
 * an owner hands the group on, see leaveConversation), then every login
 * ends, sockets included, and the row stays as "Deleted user".
 */
export async function deleteUserAccount(deps: ApiDeps, userId: string): Promise<void> {
  for (const groupId of await conversationsRepository.listGroupIdsOf(deps.database.db, userId)) {
    await leaveConversation(deps, userId, groupId);
  }
  const now = new Date().toISOString();
  const revoked = await deps.database.db.transaction().execute(async (trx) => {
    await usersRepository.markUserDeleted(trx, userId, now);
    return sessionsRepository.revokeUserSessions(trx, userId, null, now);
  });
  announceRevoked(deps, userId, revoked, 'logout');
  await announceUser(deps, { id: userId, username: usersRepository.DELETED_USERNAME, full_name: null });
}
