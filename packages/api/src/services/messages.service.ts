import { messagesRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail, unknownId } from '../errors.ts';
import type { ListMessagesInput, MessagePage, SendMessageInput } from '../schemas/messages.schema.ts';
import { requireMembership } from './conversations.service.ts';
import { claimAttachments } from './files.service.ts';
import type { SendResult } from './message-writer.ts';
import { toMessage } from './views.ts';

export type { SendResult };

/**
 * Stores a message from `senderId` and announces it to the members. Sending
 * a message_id again returns the stored message and delivers nothing.
 * Checks, in order: the conversation exists (404), the sender is a member (403).
 * Files in `attachment_ids` are claimed for the message first (see
 * claimAttachments); the content may then be empty.
 */
export async function sendMessage(
  deps: ApiDeps,
  senderId: string,
  input: SendMessageInput,
): Promise<SendResult> {
  const ids = input.attachment_ids ?? [];
  if (ids.length === 0) return deps.writer.send(senderId, input);
  let files: Awaited<ReturnType<typeof claimAttachments>>;
  try {
    files = await claimAttachments(deps, senderId, input.conversation_id, input.message_id, ids);
  } catch (error) {
    // Who may send here is answered before anything about the files.
    await requireMembership(deps.database.db, input.conversation_id, senderId);
    throw error;
  }
  return deps.writer.send(senderId, input, files);
}

export async function listMessages(
  deps: ApiDeps,
  userId: string,
  input: ListMessagesInput,
): Promise<MessagePage> {
  const page = await messagesRepository.listMessagesForMember(
    deps.database.db,
    input.conversation_id,
    userId,
    {
      limit: input.limit,
      before: input.cursor ?? undefined,
    },
  );
  if (page.access === 'not-found') throw unknownId.conversation();
  if (page.access === 'not-member') throw fail.notMember();
  const first = page.messages[0];
  return {
    messages: page.messages.map(toMessage),
    next_cursor: page.has_more && first ? first.seq : null,
  };
}
