/**
 * `@username` mentions. A send resolves them only when its text has an `@`
 * (plain messages cost nothing), against the conversation's members: a name
 * that is nobody's, or not a member's, stays plain text.
 */

/** Distinct names looked up per message, at most: a text of a thousand `@` costs no more. */
export const MAX_MENTIONS = 50;

// An @ not inside a word or an address (alice@example.com), then the characters a username may hold.
const MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]+)/gu;

/** The usernames (lowercased, distinct, in order, at most MAX_MENTIONS) a text mentions. */
export function mentionedNames(content: string): string[] {
  if (!content.includes('@')) return [];
  const names = new Set<string>();
  for (const match of content.matchAll(MENTION)) {
    // A sentence may end right after the name: "thanks @alice."
    const name = match[1]!.replace(/[.-]+$/, '').toLowerCase();
    if (name.length >= 3 && name.length <= 32) names.add(name);
    if (names.size === MAX_MENTIONS) break;
  }
  return [...names];
}

/** The mentioned members' ids as stored (a JSON array), or null when the names mention no member. */
export function storedMentions(
  names: readonly string[],
  idByName: ReadonlyMap<string, string>,
  members: readonly string[],
): string | null {
  const ids = new Set<string>();
  for (const name of names) {
    const id = idByName.get(name);
    if (id !== undefined && members.includes(id)) ids.add(id);
  }
  return ids.size > 0 ? JSON.stringify([...ids]) : null;
}
