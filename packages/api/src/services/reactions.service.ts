import { conversationsRepository, logRepository, messagesRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail } from '../errors.ts';
import {
  MAX_REACTIONS_PER_MESSAGE,
  MAX_REACTIONS_PER_USER,
  type MessageReactions,
  type ReactInput,
} from '../schemas/messages.schema.ts';
import { parseReactions, type StoredReaction, toReactions } from './views.ts';

/** The reactions after `userId` puts `emoji` on (or takes it off); null when nothing changes. */
function reacted(
  reactions: StoredReaction[],
  userId: string,
  { emoji, on }: Pick<ReactInput, 'emoji' | 'on'>,
): StoredReaction[] | null {
  const current = reactions.find((r) => r.emoji === emoji);
  if (on === (current?.user_ids.includes(userId) ?? false)) return null;
  if (!on) {
    return reactions
      .map((r) => (r === current ? { emoji, user_ids: r.user_ids.filter((id) => id !== userId) } : r))
      .filter((r) => r.user_ids.length > 0);
  }
  if (reactions.filter((r) => r.user_ids.includes(userId)).length >= MAX_REACTIONS_PER_USER)
    throw fail.badRequest(`At most ${MAX_REACTIONS_PER_USER} reactions of yours on one message`);
  if (!current) {
    if (reactions.length >= MAX_REACTIONS_PER_MESSAGE)
      throw fail.badRequest(`At most ${MAX_REACTIONS_PER_MESSAGE} different reactions on one message`);
    return [...reactions, { emoji, user_ids: [userId] }];
  }
  return reactions.map((r) => (r === current ? { emoji, user_ids: [...r.user_ids, userId] } : r));
}

/**
 * Puts the caller's reaction on a message or takes it back, and tells the
 * members (`reaction`, a log event: a reconnecting client replays it). Only
 * members may react: anyone else gets the answer an unknown id gets.
 */
export async function reactToMessage(
  deps: ApiDeps,
  userId: string,
  input: ReactInput,
): Promise<MessageReactions> {
  const { db } = deps.database;
  const result = await db.transaction().execute(async (trx) => {
    // Locked: two reactions at once must not each miss the other's.
    const row = await messagesRepository.lockMessageById(trx, input.id);
    if (!row || !(await conversationsRepository.isMember(trx, row.conversation_id, userId))) {
      throw fail.notFound('Message not found');
    }
    if (row.deleted_at) throw fail.conflict('Message was deleted');
    const next = reacted(parseReactions(row.reactions), userId, input);
    if (!next) return { row, announce: null };
    const updated = await messagesRepository.setReactions(
      trx,
      row.id,
      next.length > 0 ? JSON.stringify(next) : null,
    );
    const recipients = await conversationsRepository.listMemberIds(trx, row.conversation_id);
    const pos = await logRepository.logMessageChange(trx, 'reaction', row, userId, new Date().toISOString());
    return { row: updated, announce: { pos, recipients } };
  });
  const view = reactionsOf(result.row);
  if (result.announce) deps.bus.publish({ kind: 'reaction', ...result.announce, ...view });
  return view;
}

/** A message's reactions as `messages.react` answers and the `reaction` event carries them. */
export function reactionsOf(row: {
  id: string;
  conversation_id: string;
  reactions: string | null;
}): MessageReactions {
  return { conversation_id: row.conversation_id, message_id: row.id, reactions: toReactions(row.reactions) };
}
