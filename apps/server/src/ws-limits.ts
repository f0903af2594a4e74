/** Largest frame a client may send; larger closes the socket with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Bytes a socket may have waiting to be sent before its peer is taken as stalled and cut off. */
export const MAX_BUFFERED_BYTES = 2 * 1024 * 1024;
/** Close code for a socket cut off because it stopped reading. */
export const STALLED = { code: 1013, reason: 'client too slow' } as const;
/** Close code for a socket whose access token expired: refresh, then reconnect. */
export const TOKEN_EXPIRED = { code: 4401, reason: 'access token expired' } as const;

/** Cuts off a socket whose send buffer is past the bound; true if it did. */
export function shedIfStalled(socket: { bufferedAmount: number; terminate(): void }): boolean {
  if (socket.bufferedAmount <= MAX_BUFFERED_BYTES) return false;
  socket.terminate();
  return true;
}
/** Most calls in one tRPC batch, over HTTP or a socket. */
export const MAX_BATCH_SIZE = 100;

// setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Closes `socket` with TOKEN_EXPIRED when its access token expires at
 * `expiresAt` (epoch ms), however far away that is. Returns the cancel function.
 */
export function closeAtExpiry(socket: { close(code: number, reason: string): void }, expiresAt: number) {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = expiresAt - Date.now();
    if (left <= 0) return socket.close(TOKEN_EXPIRED.code, TOKEN_EXPIRED.reason);
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  return () => clearTimeout(timer);
}
