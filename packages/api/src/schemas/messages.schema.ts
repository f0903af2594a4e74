import { z } from 'zod';
import { Id, Timestamp, text } from './common.ts';

export const MessageContent = text({ min: 1, max: 4000, multiline: true });

export const ClientMessageId = z
  .string()
  .min(1, 'Must not be empty')
  .max(128, 'Must be at most 128 characters')
  .refine((value) => value.isWellFormed(), 'Contains an unpaired surrogate');

export const SendMessageInput = z.object({
  message_id: ClientMessageId,
  conversation_id: Id,
  content: MessageContent,
});
export type SendMessageInput = z.infer<typeof SendMessageInput>;

export const ListMessagesInput = z.object({
  conversation_id: Id,
  limit: z.number().int().min(1).max(200).default(50),
  /** Return messages with a seq below this one (the `seq` of the oldest message already shown). */
  cursor: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullish(),
});
export type ListMessagesInput = z.infer<typeof ListMessagesInput>;

export const Message = z
  .object({
    id: Id,
    message_id: z.string(),
    sender_id: Id,
    conversation_id: Id,
    content: z.string(),
    created_at: Timestamp,
    /** Position in the conversation: strictly increasing, no gaps. */
    seq: z.number().int(),
  })
  .meta({ id: 'Message' });
export type Message = z.infer<typeof Message>;

export const MessagePage = z
  .object({
    messages: z.array(Message),
    /** Pass as `cursor` (tRPC) or `before` (REST) for the previous page; null at the start. */
    next_cursor: z.number().int().nullable(),
  })
  .meta({ id: 'MessagePage' });
export type MessagePage = z.infer<typeof MessagePage>;
