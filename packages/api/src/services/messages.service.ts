import { randomUUID } from 'node:crypto';
import { conversationsRepository, logRepository, type MessageRow, messagesRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail } from '../errors.ts';
import type {
  ListMessagesInput,
  Message,
  MessagePage,
  SendMessageInput,
} from '../schemas/messages.schema.ts';
import { requireMembership } from './conversations.service.ts';
import { toMessage } from './views.ts';

export interface SendResult {
  message: Message;
  /** False when the sender had already sent this message_id: nothing new was stored or delivered. */
  created: boolean;
}

const IDEMPOTENCY_CONFLICT = 'message_id already used for a different message';

function sameMessage(row: MessageRow, input: SendMessageInput): boolean {
  return row.conversation_id === input.conversation_id && row.content === input.content;
}

/**
 * Stores a message from `senderId` and announces it to the members. Sending
 * a message_id again returns the stored message and delivers nothing.
 */
export async function sendMessage(
  deps: ApiDeps,
  senderId: string,
  input: SendMessageInput,
): Promise<SendResult> {
  const { db } = deps.database;
  await requireMembership(db, input.conversation_id, senderId);

  for (let attempt = 0; attempt < 2; attempt++) {
    const existing = await messagesRepository.findMessageBySender(db, senderId, input.message_id);
    if (existing) {
      if (!sameMessage(existing, input)) throw fail.conflict(IDEMPOTENCY_CONFLICT);
      return { message: toMessage(existing), created: false };
    }
    const stored = await db
      .transaction()
      .execute(async (trx) => {
        const now = new Date().toISOString();
        const seq = await conversationsRepository.takeNextSeq(trx, input.conversation_id, now);
        const recipients = await conversationsRepository.listMemberIds(trx, input.conversation_id);
        const pos = await logRepository.takePositions(trx);
        const row: MessageRow = {
          id: randomUUID(),
          conversation_id: input.conversation_id,
          seq,
          pos,
          sender_id: senderId,
          message_id: input.message_id,
          content: input.content,
          created_at: now,
          edited_at: null,
          deleted_at: null,
          kind: 'user',
          system: null,
        };
        // A concurrent send of the same message_id won: roll back the seq and position.
        if (!(await messagesRepository.insertMessage(trx, row))) throw new DuplicateSend();
        return { row, recipients };
      })
      .catch((error: unknown) => {
        if (error instanceof DuplicateSend) return null;
        throw error;
      });
    if (stored) {
      const message = toMessage(stored.row);
      deps.observer.messageStored?.(message);
      deps.bus.publish({ kind: 'message', pos: stored.row.pos, recipients: stored.recipients, message });
      return { message, created: true };
    }
  }
  throw new Error('message send lost two races for the same message_id');
}

class DuplicateSend extends Error {}

export async function listMessages(
  deps: ApiDeps,
  userId: string,
  input: ListMessagesInput,
): Promise<MessagePage> {
  const { db } = deps.database;
  await requireMembership(db, input.conversation_id, userId);
  const page = await messagesRepository.listMessages(db, input.conversation_id, {
    limit: input.limit,
    before: input.cursor ?? undefined,
  });
  const first = page.messages[0];
  return {
    messages: page.messages.map(toMessage),
    next_cursor: page.has_more && first ? first.seq : null,
  };
}
