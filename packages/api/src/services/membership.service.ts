import { randomUUID } from 'node:crypto';
import {
  type Conversation as ConversationRow,
  conversationsRepository,
  type Executor,
  logRepository,
  type MemberRole,
  type MessageRow,
  messagesRepository,
  newMessageRow,
  usersRepository,
} from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail, unknownId } from '../errors.ts';
import type {
  AddMembersInput,
  Conversation,
  RemoveMemberInput,
  RenameConversationInput,
  SetMemberRoleInput,
} from '../schemas/conversations.schema.ts';
import type { SystemEvent } from '../schemas/messages.schema.ts';
import { timeOrderedId } from '../time-ordered-id.ts';
import { loadConversation, requireMembership } from './conversations.service.ts';
import { toMessage } from './views.ts';

async function displayName(db: Executor, userId: string): Promise<string> {
  const user = await usersRepository.findUserById(db, userId);
  return user ? (user.full_name ?? user.username) : 'someone';
}

/**
 * Records a change of the conversation in one transaction: `apply` changes
 * it, a system line says what happened, and a `conversation` event
 * carries the new state. Both are announced after commit.
 */
async function changeConversation(
  deps: ApiDeps,
  actorId: string,
  conversation: ConversationRow,
  system: SystemEvent,
  describe: string,
  apply: (trx: Executor) => Promise<void>,
  /** Also told of the change though no longer a member (who left). */
  alsoTell?: string,
): Promise<Conversation> {
  const { db } = deps.database;
  const stored = await db.transaction().execute(async (trx) => {
    // The conversation row first, as every writer takes it: no deadlock with a send.
    const now = new Date().toISOString();
    const seq = await conversationsRepository.takeNextSeq(trx, conversation.id, now);
    await apply(trx);
    const pos = await logRepository.takePositions(trx, 2);
    const line: MessageRow = {
      ...newMessageRow(
        {
          id: timeOrderedId(),
          conversation_id: conversation.id,
          sender_id: actorId,
          message_id: `system:${randomUUID()}`,
          content: describe,
          created_at: now,
        },
        seq,
        pos,
      ),
      kind: 'system',
      system: JSON.stringify(system),
      attachments: null,
      attachment_names: null,
    };
    await messagesRepository.insertMessage(trx, line);
    await conversationsRepository.readUpTo(trx, conversation.id, actorId, seq);
    await logRepository.insertEvent(trx, {
      pos: pos + 1,
      kind: 'conversation',
      conversation_id: conversation.id,
      actor_id: actorId,
      created_at: now,
      subject_id: alsoTell ?? null,
    });
    const row = await conversationsRepository.findConversation(trx, conversation.id);
    return { line, pos, view: await loadConversation(trx, row!) };
  });
  const recipients = stored.view.members;
  deps.bus.publish({ kind: 'message', pos: stored.pos, recipients, message: toMessage(stored.line) });
  deps.bus.publish({
    kind: 'conversation',
    pos: stored.pos + 1,
    recipients: alsoTell ? [...recipients, alsoTell] : recipients,
    conversation: stored.view,
  });
  return stored.view;
}

function requireGroup(conversation: ConversationRow, message: string): void {
  if (conversation.kind !== 'group') throw fail.badRequest(message);
}

/** Adds people to a group; any member may. A 1-on-1 never gains members. */
export async function addMembers(
  deps: ApiDeps,
  actorId: string,
  input: AddMembersInput,
): Promise<Conversation> {
  const { db } = deps.database;
  const conversation = await requireMembership(db, input.conversation_id, actorId);
  requireGroup(conversation, 'A 1-on-1 cannot gain members; start a group with them instead');
  const wanted = [...new Set(input.user_ids)];
  const existing = await usersRepository.findExistingUserIds(db, wanted);
  const unknown = wanted.filter((id) => !existing.has(id));
  if (unknown.length > 0) throw unknownId.members(unknown);
  const current = new Set(await conversationsRepository.listMemberIds(db, conversation.id));
  const added = wanted.filter((id) => !current.has(id));
  if (added.length === 0) return loadConversation(db, conversation);
  const names = await Promise.all([actorId, ...added].map((id) => displayName(db, id)));
  return changeConversation(
    deps,
    actorId,
    conversation,
    { action: 'added', user_ids: added },
    `${names[0]} added ${names.slice(1).join(', ')}`,
    (trx) => conversationsRepository.insertMembers(trx, conversation.id, added, new Date().toISOString()),
  );
}

/**
 * Leaves a group: from now on the user neither receives nor reads its
 * messages. An owner who leaves hands the group to its longest-standing
 * admin, else to its longest-standing member.
 */
export async function leaveConversation(
  deps: ApiDeps,
  userId: string,
  conversationId: string,
): Promise<void> {
  const { db } = deps.database;
  const conversation = await requireMembership(db, conversationId, userId);
  requireGroup(conversation, 'You cannot leave a 1-on-1');
  const owner = (await conversationsRepository.findMemberRole(db, conversationId, userId)) === 'owner';
  const successor = owner
    ? await conversationsRepository.findSuccessor(db, conversationId, userId)
    : undefined;
  const name = await displayName(db, userId);
  const handover = successor ? `; ${await displayName(db, successor)} now owns the group` : '';
  await changeConversation(
    deps,
    userId,
    conversation,
    { action: 'left', user_ids: [userId], ...(successor ? { owner_id: successor } : {}) },
    `${name} left${handover}`,
    async (trx) => {
      await conversationsRepository.removeMember(trx, conversationId, userId);
      if (successor) await conversationsRepository.setMemberRole(trx, conversationId, successor, 'owner');
    },
    userId,
  );
}

/**
 * What a member's action on another member needs: the group (404 and 403
 * as for every read), both roles, and both names for the system line.
 */
async function memberAction(
  db: Executor,
  input: { conversation_id: string; user_id: string },
  actorId: string,
  oneOnOne: string,
): Promise<{
  conversation: ConversationRow;
  actor: MemberRole | null;
  target: MemberRole | null;
  names: () => Promise<string[]>;
}> {
  const conversation = await requireMembership(db, input.conversation_id, actorId);
  requireGroup(conversation, oneOnOne);
  if (input.user_id === actorId)
    throw fail.badRequest('You cannot do this to yourself; leave the group instead');
  const [actor, target] = await Promise.all([
    conversationsRepository.findMemberRole(db, conversation.id, actorId),
    conversationsRepository.findMemberRole(db, conversation.id, input.user_id),
  ]);
  if (target === undefined) throw fail.badRequest('That user is not a member of this group');
  const names = () => Promise.all([actorId, input.user_id].map((id) => displayName(db, id)));
  return { conversation, actor: actor ?? null, target, names };
}

/**
 * Removes someone from a group. The owner may remove anyone; an admin may
 * remove plain members (not the owner, not another admin). The removed
 * person hears of it (their devices drop the group) and nothing after.
 */
export async function removeMember(
  deps: ApiDeps,
  actorId: string,
  input: RemoveMemberInput,
): Promise<Conversation> {
  const { conversation, actor, target, names } = await memberAction(
    deps.database.db,
    input,
    actorId,
    'Nobody can be removed from a 1-on-1',
  );
  if (actor === null) throw fail.forbidden('Only the owner and admins can remove members');
  if (target === 'owner') throw fail.forbidden('The owner cannot be removed');
  if (target === 'admin' && actor !== 'owner') throw fail.forbidden('Only the owner can remove an admin');
  const [actorName, targetName] = await names();
  return changeConversation(
    deps,
    actorId,
    conversation,
    { action: 'removed', user_ids: [input.user_id] },
    `${actorName} removed ${targetName}`,
    async (trx) => {
      // Gone meanwhile (left, or removed by someone else): nothing to record.
      if (!(await conversationsRepository.removeMember(trx, conversation.id, input.user_id)))
        throw fail.badRequest('That user is not a member of this group');
    },
    input.user_id,
  );
}

/** Makes a member an admin, or an admin a plain member again; only the owner may. */
export async function setMemberRole(
  deps: ApiDeps,
  actorId: string,
  input: SetMemberRoleInput,
): Promise<Conversation> {
  const { db } = deps.database;
  const { conversation, actor, target, names } = await memberAction(
    db,
    input,
    actorId,
    'A 1-on-1 has no admins',
  );
  if (actor !== 'owner') throw fail.forbidden('Only the owner can make or remove admins');
  const role = input.role === 'admin' ? 'admin' : null;
  if (target === role) return loadConversation(db, conversation);
  const [actorName, targetName] = await names();
  return changeConversation(
    deps,
    actorId,
    conversation,
    { action: 'role_changed', user_ids: [input.user_id], role: input.role },
    `${actorName} made ${targetName} ${role ? 'an admin' : 'a member'}`,
    (trx) => conversationsRepository.setMemberRole(trx, conversation.id, input.user_id, role),
  );
}

/**
 * Renames a group; any member may, as before roles existed: a title is
 * shared furniture, every rename leaves a system line naming who did it,
 * and restricting it would break clients that rename today.
 */
export async function renameConversation(
  deps: ApiDeps,
  userId: string,
  input: RenameConversationInput,
): Promise<Conversation> {
  const { db } = deps.database;
  const conversation = await requireMembership(db, input.conversation_id, userId);
  requireGroup(conversation, 'A 1-on-1 has no title to change');
  if (conversation.title === input.title) return loadConversation(db, conversation);
  const name = await displayName(db, userId);
  return changeConversation(
    deps,
    userId,
    conversation,
    { action: 'renamed', title: input.title },
    `${name} renamed the group to “${input.title}”`,
    (trx) => conversationsRepository.renameConversation(trx, conversation.id, input.title),
  );
}
