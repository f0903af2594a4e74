import { conversationsRepository, logRepository, messagesRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail } from '../errors.ts';
import type { EditMessageInput, Message } from '../schemas/messages.schema.ts';
import { deleteFilesOfMessage } from './files.service.ts';
import { toMessage } from './views.ts';

type Change = { kind: 'edit'; content: string } | { kind: 'delete' };

/**
 * Edits or deletes a message of the caller's. Someone who cannot see the
 * message gets 404, as if it did not exist; a member gets 403 for another's.
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

  const stored = await db.transaction().execute(async (trx) => {
    const now = new Date().toISOString();
    const row = await messagesRepository.updateMessage(
      trx,
      id,
      change.kind === 'edit'
        ? { content: change.content, edited_at: now }
        : { content: '', deleted_at: now, attachments: null, attachment_names: null },
    );
    // A deleted message's files go with it: rows now, bytes once committed.
    const files =
      change.kind === 'delete' ? await deleteFilesOfMessage(trx, row.sender_id, row.message_id) : [];
    const recipients = await conversationsRepository.listMemberIds(trx, row.conversation_id);
    const pos = await logRepository.takePositions(trx);
    await logRepository.insertEvent(trx, {
      pos,
      kind: 'message_updated',
      conversation_id: row.conversation_id,
      actor_id: userId,
      created_at: now,
      subject_id: row.id,
    });
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
