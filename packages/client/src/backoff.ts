/** Longest wait between reconnect attempts. */
export const MAX_RECONNECT_DELAY_MS = 10_000;

/**
 * Exponential backoff with jitter for reconnects: about 0.5 s, 1 s, 2 s, …
 * capped at 10 s, each scaled by a random factor in [0.5, 1) so that clients
 * dropped together do not all come back at the same instant.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_RECONNECT_DELAY_MS, 500 * 2 ** Math.max(0, attempt));
  return Math.round(base * (0.5 + random() / 2));
}
