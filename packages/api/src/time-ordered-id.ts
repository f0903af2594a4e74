import { randomUUID } from 'node:crypto';

/**
 * A UUIDv7: the milliseconds since the epoch first, so ids sort by time and
 * each insert lands at the end of an id index rather than on a random page;
 * the rest is random. Built on randomUUID, whose randomness comes from a
 * pool it refills in bulk (asking the system for 16 bytes per id cost the
 * send path a few percent of its time).
 */
export function timeOrderedId(now = Date.now()): string {
  const random = randomUUID();
  const ms = now.toString(16).padStart(12, '0');
  // random: xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx (V holds the variant bits, kept as they are).
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}
