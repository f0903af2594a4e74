import { randomUUID } from 'node:crypto';
import {
  type Conversation as ConversationRow,
  conversationsRepository,
  type Executor,
  logRepository,
  type MemberRole,
  messagesRepository,
  usersRepository,
} from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail, unknownId } from '../errors.ts';
import type {
  Conversation,
  ConversationListItem,
  CreateConversationInput,
} from '../schemas/conversations.schema.ts';
import { toConversation, toConversationListItem } from './views.ts';

/** The key that makes a 1-on-1 between two users unique. */
export function directKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * Loads a conversation the user may read: 404 when it does not exist, 403
 * when the user is not a member.
 */
export async function requireMembership(
  db: Executor,
  conversationId: string,
  userId: string,
): Promise<ConversationRow> {
  const found = await conversationsRepository.findConversationForMember(db, conversationId, userId);
  if (!found) throw unknownId.conversation();
  if (!found.isMember) throw fail.notMember();
  return found.conversation;
}

/**
 * Creates a conversation with the caller as a member. Two distinct members
 * make a 1-on-1, which exists at most once per pair: an existing one is
 * returned, whoever created it, even when many requests race.
 */
export async function createConversation(
  deps: ApiDeps,
  userId: string,
  input: CreateConversationInput,
): Promise<Conversation> {
  const { db } = deps.database;
  const members = [...new Set([userId, ...input.member_ids])];
  const existing = await usersRepository.findExistingUserIds(db, members);
  const unknown = members.filter((id) => !existing.has(id));
  if (unknown.length > 0) throw unknownId.members(unknown);

  const dmKey = members.length === 2 ? directKey(members[0]!, members[1]!) : null;
  if (dmKey) {
    const found = await conversationsRepository.findConversationByDmKey(db, dmKey);
    if (found) return loadConversation(db, found);
  }

  const now = new Date().toISOString();
  // The creator owns a group; a 1-on-1 has no roles.
  const roles: Record<string, MemberRole> = dmKey ? {} : { [userId]: 'owner' };
  const row: ConversationRow = {
    id: randomUUID(),
    kind: dmKey ? 'direct' : 'group',
    title: input.title,
    dm_key: dmKey,
    created_by: userId,
    created_at: now,
    last_seq: 0,
    last_activity_at: now,
  };
  const pos = await db.transaction().execute(async (trx) => {
    if (!(await conversationsRepository.insertConversation(trx, row))) return null;
    await conversationsRepository.insertMembers(trx, row.id, members, now, roles);
    const pos = await logRepository.takePositions(trx);
    await logRepository.insertEvent(trx, {
      pos,
      kind: 'conversation',
      conversation_id: row.id,
      actor_id: userId,
      created_at: now,
    });
    return pos;
  });
  if (pos === null) {
    // Another request created this 1-on-1 between our check and our insert.
    const winner = await conversationsRepository.findConversationByDmKey(db, dmKey!);
    if (!winner) throw new Error('direct conversation vanished after a dm_key conflict');
    return loadConversation(db, winner);
  }
  const conversation = toConversation(row, members, null, roles);
  deps.bus.publish({ kind: 'conversation', pos, recipients: members, conversation });
  return conversation;
}

export async function loadConversation(db: Executor, row: ConversationRow): Promise<Conversation> {
  const [{ members, roles }, lastMessage] = await Promise.all([
    conversationsRepository.listMembersWithRoles(db, row.id),
    row.last_seq > 0 ? messagesRepository.findMessageBySeq(db, row.id, row.last_seq) : undefined,
  ]);
  return toConversation(row, members, lastMessage ?? null, roles);
}

export async function getConversation(
  deps: ApiDeps,
  userId: string,
  conversationId: string,
): Promise<Conversation> {
  const row = await requireMembership(deps.database.db, conversationId, userId);
  return loadConversation(deps.database.db, row);
}

export async function listConversations(deps: ApiDeps, userId: string): Promise<ConversationListItem[]> {
  const summaries = await conversationsRepository.listConversationsForUser(deps.database.db, userId);
  return summaries.map(toConversationListItem);
}
