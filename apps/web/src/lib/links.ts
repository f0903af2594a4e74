import { LinkifyIt, type Match } from 'linkify-it';
import tlds from 'tlds';

/** A run of message text: plain, or a link with the address it opens. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

/** The only addresses a message may link to; anything else stays text. */
const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

// linkify-it finds the links (balanced brackets, trailing punctuation, bare hosts, e-mail);
// ftp: and protocol-relative links are switched off, and the full TLD list lets bare
// hosts like example.dev count. Bare IPs stay text: they are mostly version numbers.
const linkifier = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: true, fuzzyIP: false })
  .add('ftp:', null)
  .add('//', null)
  .tlds(tlds, true);

/** The address a found link opens, or null when it is not one a message may open. */
function safeHref(match: Match): string | null {
  // A bare host ("www.example.com") comes back as http://; people mean https today.
  const href = match.schema === '' ? `https://${match.raw}` : match.url;
  try {
    return SAFE_PROTOCOLS.has(new URL(href).protocol) ? href : null;
  } catch {
    return null;
  }
}

/** Splits message text into plain text and http(s)/mailto links. Never produces HTML. */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of linkifier.match(text) ?? []) {
    const href = safeHref(match);
    if (!href) continue;
    if (match.index > last) parts.push({ kind: 'text', text: text.slice(last, match.index) });
    parts.push({ kind: 'link', text: match.text, href });
    last = match.lastIndex;
  }
  if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
  return parts;
}
