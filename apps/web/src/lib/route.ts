/** The open conversation lives in the URL hash: `#/c/<id>`. */
const ROUTE = /^#\/c\/([0-9a-f-]{36})$/i;

/** The conversation a hash opens, or null. */
export function conversationIdFromHash(hash: string): string | null {
  return ROUTE.exec(hash)?.[1] ?? null;
}

/** The hash that opens a conversation. */
export function conversationHash(conversationId: string): string {
  return `#/c/${conversationId}`;
}
