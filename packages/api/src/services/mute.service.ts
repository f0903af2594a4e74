import { conversationsRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import type { MuteState, SetMutedInput } from '../schemas/conversations.schema.ts';
import { requireMembership } from './conversations.service.ts';

/**
 * Mutes or unmutes a conversation for the caller, on the server so that all
 * their devices agree. Only the caller's own devices are told (`mute`):
 * the other members never learn who muted what.
 */
export async function setMuted(deps: ApiDeps, userId: string, input: SetMutedInput): Promise<MuteState> {
  const { db } = deps.database;
  await requireMembership(db, input.conversation_id, userId);
  const mutedAt = input.muted ? new Date().toISOString() : null;
  const changed = await conversationsRepository.setMutedAt(db, input.conversation_id, userId, mutedAt);
  if (changed) {
    deps.bus.publish({
      kind: 'mute',
      recipients: [userId],
      conversation_id: input.conversation_id,
      muted: input.muted,
    });
  }
  return { conversation_id: input.conversation_id, muted: input.muted };
}
