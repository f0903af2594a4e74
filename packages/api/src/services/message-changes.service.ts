import { conversationsRepository, logRepository, messagesRepository, usersRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail } from '../errors.ts';
import type { EditMessageInput, Message } from '../schemas/messages.schema.ts';
import { deleteFilesOfMessage } from './files.service.ts';
import { mentionedNames, storedMentions } from './mentions.ts';
import { excerptOf } from './replies.ts';
import { toMessage } from './views.ts';

type Change = { kind: 'edit'; content: string } | { kind: 'delete' };

/**
 * Edits or deletes a message of the caller's. Someone who cannot see the
 * message gets 404, as if it did not exist; a member gets 403 for another's.
 * An edit resolves its mentions again; a delete drops its mentions,
 * reactions and files. Either way the quotes in replies to it follow.
 */
async function changeMessage(deps: ApiDeps, userId: string, id: string, change: Change): Promise<Message> {
  const { db } = deps.database;
  const existing = await messagesRepository.findMessageById(db, id);
  if (!existing || !(await conversationsRepository.isMember(db, existing.conversation_id, userId))) {
    throw fail.notFound('Message not found');
  }
  if (existing.kind !== 'user' || existing.sender_id !== userId) {
    throw fail.forbidden(`Only the sender can ${change.kind} this message`);
  }
  if (existing.deleted_at) throw fail.conflict('Message was deleted');
  if (change.kind === 'edit' && existing.content === change.content) return toMessage(existing);

  const names = change.kind === 'edit' ? mentionedNames(change.content) : [];
  const idByName = await usersRepository.findIdsByUsernames(db, names);
  const stored = await db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const recipients = await conversationsRepository.listMemberIds(trx, existing.conversation_id);
    const row = await messagesRepository.updateMessage(
      trx,
      id,
      change.kind === 'edit'
        ? { content: change.content, edited_at: now, mentions: storedMentions(names, idByName, recipients) }
        : {
            content: '',
            deleted_at: now,
            mentions: null,
            reactions: null,
            attachments: null,
            attachment_names: null,
          },
    );
    // A deleted message's files go with it: rows now, bytes once committed.
    const files =
      change.kind === 'delete' ? await deleteFilesOfMessage(trx, row.sender_id, row.message_id) : [];
    await messagesRepository.updateQuotesOf(
      trx,
      id,
      change.kind === 'edit' ? excerptOf(change.content) : null,
    );
    const pos = await logRepository.logMessageChange(trx, 'message_updated', row, userId, now);
    return { row, recipients, pos, files };
  });
  await deps.files.remove(stored.files);
  const message = toMessage(stored.row);
  deps.bus.publish({ kind: 'message_updated', pos: stored.pos, recipients: stored.recipients, message });
  return message;
}

export function editMessage(deps: ApiDeps, userId: string, input: EditMessageInput): Promise<Message> {
  return changeMessage(deps, userId, input.id, { kind: 'edit', content: input.content });
}

/** Deletes for everyone: the text is erased; history keeps a "message deleted" line. */
export function deleteMessage(deps: ApiDeps, userId: string, id: string): Promise<Message> {
  return changeMessage(deps, userId, id, { kind: 'delete' });
}
