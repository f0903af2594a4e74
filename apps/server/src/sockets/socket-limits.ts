/**
 * What a socket may do, and the close codes and reasons it hears when it
 * oversteps or its time is up: one table for /trpc and /ws.
 */

/** Largest frame a client may send; larger closes the socket with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Bytes a socket may have waiting to be sent before its peer is taken as stalled and cut off. */
export const MAX_BUFFERED_BYTES = 2 * 1024 * 1024;
/** Most calls in one tRPC batch, over HTTP or a socket. */
export const MAX_BATCH_SIZE = 100;
/** Most subscriptions open at once on one tRPC socket (the event stream carries everything: apps open one). */
export const MAX_SUBSCRIPTIONS_PER_SOCKET = 10;

/** A socket cut off because it stopped reading. */
export const STALLED = { code: 1013, reason: 'client too slow' } as const;
/** A socket whose access token expired: refresh, then reconnect. */
export const TOKEN_EXPIRED = { code: 4401, reason: 'access token expired' } as const;
/** A socket whose login was revoked (logout, token reuse, a user gone). */
export const SESSION_REVOKED = { code: 4403, reason: 'session revoked' } as const;
/** A tRPC socket that never presented its token. */
export const AUTH_TIMEOUT = { code: 1008, reason: 'Authentication timeout' } as const;
/** A socket over its user's cap. */
export const TOO_MANY_USER_SOCKETS = { code: 1008, reason: 'Too many sockets for this user' } as const;
/** A socket with too many frames waiting to be handled: the client is flooding. */
export const TOO_BUSY = { code: 1013, reason: 'too many frames in flight' } as const;
/** Every socket when the server stops: clients reconnect elsewhere. */
export const SHUTTING_DOWN = { code: 1001, reason: 'server shutting down' } as const;
/** Answer to an upgrade from an address over its cap. */
export const TOO_MANY_ADDRESS_SOCKETS = {
  status: 429,
  detail: 'Too many sockets from this address',
} as const;

/** Cuts off a socket whose send buffer is past the bound; true if it did. */
export function shedIfStalled(socket: { bufferedAmount: number; terminate(): void }): boolean {
  if (socket.bufferedAmount <= MAX_BUFFERED_BYTES) return false;
  socket.terminate();
  return true;
}
