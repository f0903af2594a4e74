import { randomUUID } from 'node:crypto';
import {
  type Conversation as ConversationRow,
  conversationsRepository,
  type Executor,
  logRepository,
  type MessageRow,
  messagesRepository,
  usersRepository,
} from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail, unknownId } from '../errors.ts';
import type {
  AddMembersInput,
  Conversation,
  RenameConversationInput,
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
      id: timeOrderedId(),
      conversation_id: conversation.id,
      seq,
      pos,
      sender_id: actorId,
      message_id: `system:${randomUUID()}`,
      content: describe,
      created_at: now,
      edited_at: null,
      deleted_at: null,
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

/** Leaves a group: from now on the user neither receives nor reads its messages. */
export async function leaveConversation(
  deps: ApiDeps,
  userId: string,
  conversationId: string,
): Promise<void> {
  const { db } = deps.database;
  const conversation = await requireMembership(db, conversationId, userId);
  requireGroup(conversation, 'You cannot leave a 1-on-1');
  const name = await displayName(db, userId);
  await changeConversation(
    deps,
    userId,
    conversation,
    { action: 'left', user_ids: [userId] },
    `${name} left`,
    async (trx) => {
      await conversationsRepository.removeMember(trx, conversationId, userId);
    },
    userId,
  );
}

/** Renames a group; any member may. */
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
