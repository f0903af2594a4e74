/** Longest wait between reconnect attempts. */
export declare const MAX_RECONNECT_DELAY_MS = 10000;
/**
 * Exponential backoff with jitter for reconnects: about 0.5 s, 1 s, 2 s, …
 * capped at 10 s, each scaled by a random factor in [0.5, 1) so that clients
 * dropped together do not all come back at the same instant.
 */
export declare function reconnectDelay(attempt: number, random?: () => number): number;
