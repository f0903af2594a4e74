import { z } from 'zod';
import { Conversation } from './conversations.schema.ts';
import { Message } from './messages.schema.ts';

export const EventStreamInput = z.object({
  /** Set by tRPC's tracked() on reconnect: the id of the last event received. */
  lastEventId: z
    .string()
    .regex(/^\d{1,15}$/, 'Must be an event id')
    .nullish(),
});

/** What the per-user stream yields. */
export const StreamEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message'), message: Message }),
  z.object({ type: z.literal('conversation'), conversation: Conversation }),
  /** The client missed more than the replay bound: refetch conversations and history. */
  z.object({ type: z.literal('resync') }),
]);
export type StreamEvent = z.infer<typeof StreamEvent>;
