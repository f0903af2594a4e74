const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * A fresh `message_id` for `messages.send`: a UUIDv7 (RFC 9562), the time in
 * milliseconds then 74 random bits. The server keeps one message per sender
 * and message_id, so a send retried with the same id is stored once. Ids
 * that grow with time land together at the end of the server's index of
 * them, where random ones each land on a page of their own: a server writes
 * less for them (docs/benchmarks.md). Built from getRandomValues, which
 * browsers have on plain HTTP pages too (randomUUID needs a secure context).
 */
export function newMessageId(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => HEX[b]!).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
