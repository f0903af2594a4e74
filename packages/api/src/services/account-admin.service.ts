import {
  conversationsRepository,
  logRepository,
  messagesRepository,
  sessionsRepository,
  usersRepository,
} from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import type { Message } from '../schemas/messages.schema.ts';
import { loadConversation } from './conversations.service.ts';
import { toMessage } from './views.ts';

/**
 * What an operator (the CLI) does to accounts (deletion is
 * `deleteUserAccount` in account.service.ts, shared with self-service
 * deletion). Each change that must reach live
 * sockets is announced on the bus: with Redis, every instance closes the
 * user's sockets at once; tokens are refused at once either way, since
 * every request looks the login up (disabled users' logins do not stand).
 */

/**
 * Revokes every login of the user and closes its sockets on every instance
 * the bus reaches. Returns the revoked session ids.
 */
export async function revokeAllSessions(deps: ApiDeps, userId: string): Promise<string[]> {
  const revoked = await sessionsRepository.revokeUserSessions(
    deps.database.db,
    userId,
    null,
    new Date().toISOString(),
  );
  for (const sessionId of revoked) {
    deps.observer.sessionRevoked?.(sessionId, 'operator');
    deps.bus.publish({ kind: 'session_revoked', session_id: sessionId, user_id: userId });
  }
  return revoked;
}

/** Disables the account: no login, no token accepted, every login revoked. False: no such user. */
export async function disableUser(deps: ApiDeps, userId: string): Promise<boolean> {
  if (!(await usersRepository.setDisabledAt(deps.database.db, userId, new Date().toISOString())))
    return false;
  await revokeAllSessions(deps, userId);
  return true;
}

/** Lets a disabled user log in again (their old logins stay revoked). False: no such user. */
export async function enableUser(deps: ApiDeps, userId: string): Promise<boolean> {
  return usersRepository.setDisabledAt(deps.database.db, userId, null);
}

export interface PruneReport {
  /** Expired or revoked logins deleted. */
  sessions: number;
  /** Events older than the replay window deleted. */
  events: number;
}

/**
 * Deletes what nothing can use any more: expired and revoked logins, and
 * events (edits, membership changes) more than `replayLimit` positions
 * behind the log head, which a resuming stream could not replay anyway (it
 * resyncs instead). Messages are history and stay. Safe on several
 * instances at once.
 */
export async function pruneExpired(deps: ApiDeps): Promise<PruneReport> {
  const { db } = deps.database;
  const sessions = await sessionsRepository.pruneSessions(db, new Date().toISOString());
  const head = await logRepository.readLogHead(db);
  const events = await logRepository.pruneEventsThrough(db, head - deps.settings.replayLimit);
  return { sessions, events };
}

/** How many messages an export reads per query. */
const EXPORT_PAGE = 1000;

/**
 * A whole conversation for an operator: the conversation as members see
 * it, its members (names, roles, when they joined) and every message, oldest
 * first. Undefined when there is no such conversation.
 */
export async function exportConversation(deps: ApiDeps, conversationId: string) {
  const { db } = deps.database;
  const row = await conversationsRepository.findConversation(db, conversationId);
  if (!row) return undefined;
  const [conversation, members] = await Promise.all([
    loadConversation(db, row),
    conversationsRepository.listMemberDetails(db, conversationId),
  ]);
  const messages: Message[] = [];
  for (let after = 0; ; ) {
    const page = await messagesRepository.listMessagesAfter(db, conversationId, after, EXPORT_PAGE);
    messages.push(...page.map(toMessage));
    if (page.length < EXPORT_PAGE) break;
    after = page.at(-1)!.seq;
  }
  return { exported_at: new Date().toISOString(), conversation, members, messages };
}
