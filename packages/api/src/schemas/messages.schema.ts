import { z } from 'zod';
import { CONTROL, Id, MAX_SEQ, Timestamp, text } from './common.ts';
import { Attachment, AttachmentIds } from './files.schema.ts';

export const MessageContent = text({ min: 1, max: 4000, multiline: true });

export const ClientMessageId = z
  .string()
  .min(1, 'Must not be empty')
  .max(128, 'Must be at most 128 characters')
  .refine((value) => value.isWellFormed(), 'Contains an unpaired surrogate')
  .refine((value) => !CONTROL.test(value), 'Contains a control character');

/** A send's fields, for adapters that extend them; check them with `contentOrFiles` too. */
export const SendMessageFields = z.object({
  message_id: ClientMessageId,
  conversation_id: Id,
  /** 1–4000 characters; may be empty when the message carries files. */
  content: text({ min: 0, max: 4000, multiline: true }),
  /** Ids from `POST /files`: the sender's pending uploads to this conversation. */
  attachment_ids: AttachmentIds,
  /** The id of the message this one answers, of the same conversation. */
  reply_to: Id.nullish(),
});

/** A message says something, in text or in files. */
export function contentOrFiles(
  input: { content: string; attachment_ids?: string[] | undefined },
  ctx: z.RefinementCtx,
) {
  if (input.content.length === 0 && !input.attachment_ids?.length)
    ctx.addIssue({
      code: 'too_small',
      origin: 'string',
      minimum: 1,
      inclusive: true,
      input: '',
      path: ['content'],
      message: 'Must not be empty',
    });
}

export const SendMessageInput = SendMessageFields.superRefine(contentOrFiles);
export type SendMessageInput = z.infer<typeof SendMessageInput>;

export const ListMessagesInput = z.object({
  conversation_id: Id,
  limit: z.number().int().min(1).max(200).default(50),
  /** Return messages with a seq below this one (the `seq` of the oldest message already shown). */
  cursor: z.number().int().min(1).max(MAX_SEQ).nullish(),
});
export type ListMessagesInput = z.infer<typeof ListMessagesInput>;

/** What a system line records. */
export const SystemEvent = z
  .object({
    action: z.enum(['added', 'left', 'renamed', 'removed', 'role_changed']),
    /** Who was added, left, was removed or had their role changed. */
    user_ids: z.array(Id).optional(),
    /** The new title, for a rename. */
    title: z.string().optional(),
    /** Their new role, for `role_changed`. */
    role: z.enum(['admin', 'member']).optional(),
    /** Who owns the group now, when its owner left or was deleted and ownership passed on. */
    owner_id: Id.optional(),
  })
  .meta({ id: 'SystemEvent' });
export type SystemEvent = z.infer<typeof SystemEvent>;

// Replies, reactions and mentions: the pieces a message carries.

/** The message a reply answers, as the reply quotes it. */
export const MessageQuote = z
  .object({
    id: Id,
    sender_id: Id,
    /** The start of its text; null once it was deleted. */
    excerpt: z.string().nullable(),
    deleted: z.boolean(),
  })
  .meta({ id: 'MessageQuote' });
export type MessageQuote = z.infer<typeof MessageQuote>;

/** One emoji on a message: who reacted with it, in the order they did. */
export const Reaction = z
  .object({ emoji: z.string(), count: z.number().int(), user_ids: z.array(Id) })
  .meta({ id: 'Reaction' });
export type Reaction = z.infer<typeof Reaction>;

/** Different emoji on one message, at most. */
export const MAX_REACTIONS_PER_MESSAGE = 20;
/** Emoji one user may put on one message, at most. */
export const MAX_REACTIONS_PER_USER = 10;

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
// One RGI emoji (a recommended sequence: skin tones, flags, ZWJ families), nothing else.
// biome-ignore lint/complexity/useRegexLiterals: the `v` flag is ES2024, past the shared compile target (Node 20 and browsers have it).
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');

/**
 * The emoji `value` is, or null: exactly one grapheme that is an RGI emoji.
 * A symbol written without its emoji selector (❤) gains it (❤️), so both spellings count as one.
 */
export function asEmoji(value: string): string | null {
  let count = 0;
  for (const _ of graphemes.segment(value)) if (++count > 1) return null;
  if (RGI_EMOJI.test(value)) return value;
  const presented = `${value}\uFE0F`;
  return !value.includes('\uFE0F') && RGI_EMOJI.test(presented) ? presented : null;
}

/** One emoji; the longest RGI sequences are 15 UTF-16 units. */
export const Emoji = z
  .string()
  .max(32, 'Must be one emoji')
  .transform((value, ctx) => {
    const emoji = asEmoji(value);
    if (emoji === null) ctx.addIssue({ code: 'custom', message: 'Must be one emoji' });
    return emoji ?? value;
  });

export const ReactInput = z.object({
  /** The message. */
  id: Id,
  emoji: Emoji,
  /** true adds the caller's reaction, false takes it back; either is a no-op when already so. */
  on: z.boolean(),
});
export type ReactInput = z.infer<typeof ReactInput>;

/** A message's reactions, as `messages.react` answers and the `reaction` event says. */
export const MessageReactions = z
  .object({ conversation_id: Id, message_id: Id, reactions: z.array(Reaction) })
  .meta({ id: 'MessageReactions' });
export type MessageReactions = z.infer<typeof MessageReactions>;

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
    /** `system` for lines the server writes: members added or gone, renames. */
    kind: z.enum(['user', 'system']),
    /** For system lines: what happened. */
    system: SystemEvent.nullable(),
    /** Set when the sender edited the text. */
    edited_at: Timestamp.nullable(),
    /** Set when the sender deleted it; the content is then empty. */
    deleted_at: Timestamp.nullable(),
    /** The message this one answers, quoted; null for none. */
    reply_to: MessageQuote.nullable(),
    /** The members this message mentions (`@username`, resolved when sent or edited). */
    mentions: z.array(Id),
    /** Its reactions, in the order first used. */
    reactions: z.array(Reaction),
    /** Files it carries, in the order given; empty for none and once deleted. */
    attachments: z.array(Attachment),
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

export const EditMessageInput = z.object({ id: Id, content: MessageContent });
export type EditMessageInput = z.infer<typeof EditMessageInput>;

export const DeleteMessageInput = z.object({ id: Id });

export const SearchMessagesInput = z.object({
  /** Words to find; every word must match (the last one as a prefix). */
  query: text({ min: 1, max: 200 }),
  /** Search one conversation only. */
  conversation_id: Id.nullish(),
  limit: z.number().int().min(1).max(50).default(20),
  /** `next_cursor` of the previous page. */
  cursor: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).nullish(),
});
export type SearchMessagesInput = z.infer<typeof SearchMessagesInput>;

/** Marks around matched words in a snippet (private-use characters, never HTML). */
export const HIGHLIGHT_START = '\uE000';
export const HIGHLIGHT_END = '\uE001';

export const SearchResults = z
  .object({
    results: z.array(
      z.object({
        message: Message,
        /** An excerpt with matches between HIGHLIGHT_START (U+E000) and HIGHLIGHT_END (U+E001). */
        snippet: z.string(),
      }),
    ),
    next_cursor: z.number().int().nullable(),
  })
  .meta({ id: 'SearchResults' });
export type SearchResults = z.infer<typeof SearchResults>;
