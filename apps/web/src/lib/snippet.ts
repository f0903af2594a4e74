/** Where the server's search snippets mark a match (private-use characters, never HTML). */
export const HIGHLIGHT_START = '\uE000';
export const HIGHLIGHT_END = '\uE001';

export interface SnippetPart {
  text: string;
  /** Part of a match: shown as `<mark>`. */
  match: boolean;
}

/**
 * Splits a search snippet into plain and matched text, to render as text
 * nodes (never as HTML). Unbalanced marks are tolerated: a stray end is
 * dropped, an unclosed start marks the rest.
 */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let match = false;
  let text = '';
  const flush = () => {
    if (!text) return;
    const last = parts.at(-1);
    if (last && last.match === match) last.text += text;
    else parts.push({ text, match });
    text = '';
  };
  for (const char of snippet) {
    if (char === HIGHLIGHT_START || char === HIGHLIGHT_END) {
      flush();
      match = char === HIGHLIGHT_START;
    } else {
      text += char;
    }
  }
  flush();
  return parts;
}
