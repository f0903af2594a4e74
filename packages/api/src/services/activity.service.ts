import { conversationsRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import type { MarkReadInput } from '../schemas/conversations.schema.ts';
import { requireMembership } from './conversations.service.ts';

/** How long a typing indicator shows without renewal. */
export const TYPING_EXPIRES_MS = 6000;
/**
 * How often a client announces typing while its user types (the web app's composer does so). The
 * server drops announcements closer than `TYPING_MIN_GAP_MS`, which is shorter by half a second:
 * two requests sent 2.5 s apart can arrive closer than that, and dropping the second would leave
 * the indicator dark until the client speaks again, 2.5 s later still.
 */
export const TYPING_ANNOUNCE_EVERY_MS = 2500;
export const TYPING_MIN_GAP_MS = 2000;
const lastTyping = new Map<string, number>();

/**
 * Moves the caller's read position forward and tells the members (their own
 * other devices update unread counts; the others can show "seen").
 */
export async function markRead(
  deps: ApiDeps,
  userId: string,
  input: MarkReadInput,
): Promise<{ last_read_seq: number }> {
  const { db } = deps.database;
  await requireMembership(db, input.conversation_id, userId);
  const moved = await conversationsRepository.advanceReadSeq(db, input.conversation_id, userId, input.seq);
  if (moved === null) {
    const members = await conversationsRepository.listMemberReads(db, input.conversation_id);
    return { last_read_seq: members.get(userId) ?? 0 };
  }
  const recipients = await conversationsRepository.listMemberIds(db, input.conversation_id);
  deps.bus.publish({
    kind: 'read',
    recipients,
    conversation_id: input.conversation_id,
    user_id: userId,
    last_read_seq: moved,
  });
  return { last_read_seq: moved };
}

/** Tells the other members that the caller is typing. Never stored; throttled per user and conversation. */
export async function announceTyping(deps: ApiDeps, userId: string, conversationId: string): Promise<void> {
  const key = `${userId}:${conversationId}`;
  const now = Date.now();
  if (now - (lastTyping.get(key) ?? 0) < TYPING_MIN_GAP_MS) return;
  const { db } = deps.database;
  await requireMembership(db, conversationId, userId);
  lastTyping.set(key, now);
  if (lastTyping.size > 50_000) {
    for (const [k, at] of lastTyping) if (now - at > TYPING_MIN_GAP_MS) lastTyping.delete(k);
  }
  const recipients = (await conversationsRepository.listMemberIds(db, conversationId)).filter(
    (id) => id !== userId,
  );
  deps.bus.publish({
    kind: 'typing',
    recipients,
    conversation_id: conversationId,
    user_id: userId,
    expires_in_ms: TYPING_EXPIRES_MS,
  });
}
