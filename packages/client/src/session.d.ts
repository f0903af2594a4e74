/** The two tokens a login holds. `auth.login` and `auth.refresh` return more fields; these are kept. */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
}
/** Where the token pair lives: memory, localStorage, a file, a secrets store… */
export interface TokenStorage {
  read(): TokenPair | null;
  write(pair: TokenPair | null): void;
  /** Calls `listener` when someone else (another tab) changes the stored pair; returns an unsubscribe. */
  onExternalChange?(listener: () => void): () => void;
}
/** Runs `task` while holding an exclusive lock. */
export type Lock = <T>(task: () => Promise<T>) => Promise<T>;
export interface SessionOptions {
  storage: TokenStorage;
  /** Exchanges a refresh token for a new pair (`auth.refresh`); the old refresh token is retired. */
  refresh: (refreshToken: string) => Promise<TokenPair>;
  /** Whether an error means the login is over (the server said UNAUTHORIZED), not a network failure. */
  isRejected: (error: unknown) => boolean;
  /** Called when the login ends without `signOut()`: the refresh was refused, or another tab signed out. */
  onEnded?: (error: SessionEndedError) => void;
  /** Refresh this long before the access token expires, at most half its lifetime. Default 60 000. */
  refreshLeadMs?: number;
  /** Refresh in the background ahead of expiry. Default true. */
  autoRefresh?: boolean;
  /** Wait before trying a background refresh again after a network failure. Default 10 000. */
  retryMs?: number;
  /** Serializes refreshes across tabs, which share one refresh token. Default: Web Locks when present. */
  lock?: Lock;
  now?: () => number;
}
/** The login is over: signed out, or the server refused the refresh token. */
export declare class SessionEndedError extends Error {
  name: string;
}
/**
 * The signed-in user's token pair. Refresh tokens rotate and a retired one
 * revokes the whole login when presented again, so at most one refresh runs
 * at a time: callers share the one in flight, and tabs take turns through a
 * lock, re-reading storage first in case another tab already rotated.
 */
export declare class Session {
  #private;
  constructor(options: SessionOptions);
  get tokens(): TokenPair | null;
  /** The signed-in user's id (the access token's `sub`), or null when signed out. */
  readonly getUserId: () => string | null;
  /** Calls `listener` when the signed-in user changes (sign-in, sign-out, login over). */
  readonly subscribe: (listener: () => void) => () => void;
  signIn(pair: TokenPair): void;
  signOut(): void;
  /** Stops the background refresh and the watch on other tabs; the tokens stay where they are. */
  dispose(): void;
  /**
   * An access token to send now: the current one, or a fresh one when it is
   * about to expire. Null when signed out.
   */
  accessToken(): Promise<string | null>;
  /**
   * After the server refused `token`: the newer token if another call has
   * refreshed meanwhile, else a refresh.
   */
  accessTokenAfterRejection(token: string | null): Promise<string | null>;
  /** Rotates the pair. Concurrent callers share one request. */
  refresh(): Promise<string>;
}
/** Keeps the pair in memory only: the login lasts as long as the process. */
export declare function memoryTokenStorage(initial?: TokenPair | null): TokenStorage;
/** Keeps the pair in the browser's localStorage under `key`, and hears other tabs change it. */
export declare function localTokenStorage(key?: string): TokenStorage;
