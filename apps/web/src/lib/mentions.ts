/** A piece of message text: plain, or a mention of a member the server resolved. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'mention'; text: string; username: string };

// As the server finds them: an @ not inside a word or an address, then what a username may hold.
const MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]+)/gu;

/**
 * Splits `text` at the mentions of `usernames` (lowercased: the people the
 * server says the message mentions). Any other `@name` stays text.
 */
export function splitMentions(text: string, usernames: ReadonlySet<string>): TextPart[] {
  if (usernames.size === 0 || !text.includes('@')) return [{ kind: 'text', text }];
  const parts: TextPart[] = [];
  let at = 0;
  for (const match of text.matchAll(MENTION)) {
    // "thanks @alice." mentions alice: the trailing dot is the sentence's.
    const name = match[1]!.replace(/[.-]+$/, '');
    const username = name.toLowerCase();
    if (!usernames.has(username)) continue;
    const start = match.index;
    if (start > at) parts.push({ kind: 'text', text: text.slice(at, start) });
    parts.push({ kind: 'mention', text: `@${name}`, username });
    at = start + 1 + name.length;
  }
  if (at < text.length) parts.push({ kind: 'text', text: text.slice(at) });
  return parts;
}
