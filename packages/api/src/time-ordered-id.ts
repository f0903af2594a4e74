import { randomFillSync } from 'node:crypto';

/** Two hex digits per byte value. */
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
/** Random bytes an id takes: 74 random bits, rounded up. */
const ID_BYTES = 10;
/** Random bytes asked of the system at once: one call per 819 ids (a call per id cost the send path a few percent). */
const pool = Buffer.alloc(ID_BYTES * 819);
let taken = pool.length;
/** The time part of the last id made, kept while the millisecond lasts (ids come several a millisecond under load). */
let prefixMs = -1;
let prefix = '';

/**
 * A UUIDv7: the milliseconds since the epoch first, so ids sort by time and
 * each insert lands at the end of an id index rather than on a random page;
 * the other 74 bits random. Made from a pool of random bytes and a table of
 * hex digits: built on `randomUUID` and cut up, an id cost 1.8–2.0 µs, a percent
 * of the event loop’s time per message (0.5 µs now).
 */
export function timeOrderedId(now = Date.now()): string {
  if (now !== prefixMs) {
    const ms = now.toString(16).padStart(12, '0');
    prefix = `${ms.slice(0, 8)}-${ms.slice(8)}-7`;
    prefixMs = now;
  }
  if (taken + ID_BYTES > pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const r = taken;
  taken += ID_BYTES;
  // xxxxxxxx-xxxx-7rrr-Vrrr-rrrrrrrrrrrr: version 7, then V's top two bits the RFC variant (10).
  return (
    prefix +
    HEX[pool[r]! & 0x0f]![1] +
    HEX[pool[r + 1]!] +
    '-' +
    HEX[(pool[r + 2]! & 0x3f) | 0x80] +
    HEX[pool[r + 3]!] +
    '-' +
    HEX[pool[r + 4]!] +
    HEX[pool[r + 5]!] +
    HEX[pool[r + 6]!] +
    HEX[pool[r + 7]!] +
    HEX[pool[r + 8]!] +
    HEX[pool[r + 9]!]
  );
}
