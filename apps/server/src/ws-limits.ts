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
