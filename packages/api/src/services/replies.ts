import type { MessageRow, NewMessage } from '@pneumatic/db';

/** Characters of the answered message a reply quotes. */
export const EXCERPT_LENGTH = 120;

/** The start of a message's text as a reply quotes it, on one line. */
export function excerptOf(content: string): string {
  const line = content.replace(/\s+/g, ' ').trim();
  const characters = [...line];
  return characters.length <= EXCERPT_LENGTH ? line : `${characters.slice(0, EXCERPT_LENGTH).join('')}…`;
}

export type Quote = Pick<NewMessage, 'reply_to' | 'reply_sender_id' | 'reply_excerpt'>;

/** What a reply stores of the message it answers; null unless that is a message of the same conversation. */
export function quoteFor(conversationId: string, quoted: MessageRow | undefined): Quote | null {
  if (!quoted || quoted.conversation_id !== conversationId || quoted.kind !== 'user') return null;
  return {
    reply_to: quoted.id,
    reply_sender_id: quoted.sender_id,
    // A message of files alone is quoted by their names.
    reply_excerpt: quoted.deleted_at
      ? null
      : excerptOf(quoted.content || (quoted.attachment_names ?? '').split('\n').join(', ')),
  };
}
