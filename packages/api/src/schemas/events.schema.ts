import type { EventKind } from '@pneumatic/db';
import { z } from 'zod';
import { Id, PublicUser } from './common.ts';
import { Conversation } from './conversations.schema.ts';
import { Message, Reaction } from './messages.schema.ts';

export const EventStreamInput = z.object({
  /** Set by tRPC's tracked() on reconnect: the id of the last event received. */
  lastEventId: z
    .string()
    .regex(/^\d{1,15}$/, 'Must be an event id')
    .nullish(),
});

/**
 * A stream event's `type`: the event kinds everything else uses, plus
 * `resync`, which only the stream has. The web app and the SDK match on
 * these names, so they never change.
 */
const named = <const T extends EventKind | 'resync'>(type: T) => z.literal(type);

/** What the per-user stream yields. */
export const StreamEvent = z.discriminatedUnion('type', [
  z.object({ type: named('message'), message: Message }),
  /** A message was edited or deleted: the new state. */
  z.object({ type: named('message_updated'), message: Message }),
  /** A message's reactions changed: all of them, as they are now. */
  z.object({ type: named('reaction'), conversation_id: Id, message_id: Id, reactions: z.array(Reaction) }),
  /** A conversation was created, renamed, or its members changed: the new state. */
  z.object({ type: named('conversation'), conversation: Conversation }),
  /** A member's read position moved. */
  z.object({
    type: named('read'),
    conversation_id: Id,
    user_id: Id,
    last_read_seq: z.number().int(),
  }),
  /** A member is typing; show it for `expires_in_ms` unless renewed. */
  z.object({ type: named('typing'), conversation_id: Id, user_id: Id, expires_in_ms: z.number().int() }),
  /** I muted or unmuted a conversation (on any of my devices); only ever sent to my own. */
  z.object({ type: named('mute'), conversation_id: Id, muted: z.boolean() }),
  /** A user came online or went offline. */
  z.object({ type: named('presence'), user_id: Id, online: z.boolean() }),
  /** A contact (or I) changed their display name: their new public details. */
  z.object({ type: named('user'), user: PublicUser }),
  /** The client missed more than the replay bound: refetch conversations and history. */
  z.object({ type: named('resync') }),
]);
export type StreamEvent = z.infer<typeof StreamEvent>;
