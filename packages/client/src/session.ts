import { readTokenClaims } from './jwt.ts';

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
export class SessionEndedError extends Error {
  override name = 'SessionEndedError';
}

const LOCK_NAME = 'pneumatic-token-refresh';
const MAX_TIMER_MS = 2 ** 31 - 1;

function defaultLock(): Lock {
  const locks = globalThis.navigator?.locks;
  if (!locks) return (task) => task();
  return (task) => locks.request(LOCK_NAME, task);
}

/** A timer that does not keep a Node process alive on its own (a no-op in browsers). */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

/**
 * The signed-in user's token pair. Refresh tokens rotate and a retired one
 * revokes the whole login when presented again, so at most one refresh runs
 * at a time: callers share the one in flight, and tabs take turns through a
 * lock, re-reading storage first in case another tab already rotated.
 */
export class Session {
  readonly #storage: TokenStorage;
  readonly #refresh: SessionOptions['refresh'];
  readonly #isRejected: SessionOptions['isRejected'];
  readonly #onEnded: SessionOptions['onEnded'];
  readonly #lock: Lock;
  readonly #now: () => number;
  readonly #leadMs: number;
  readonly #retryMs: number;
  readonly #autoRefresh: boolean;
  readonly #listeners = new Set<() => void>();
  readonly #stopWatching: () => void;
  #tokens: TokenPair | null = null;
  #userId: string | null = null;
  /** Bumped on sign-in and sign-out, so a refresh that straddles one is dropped. */
  #generation = 0;
  #inflight: Promise<string> | null = null;
  /** An access token the server refused before it expired (revoked, or clocks disagree). */
  #refused: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(options: SessionOptions) {
    this.#storage = options.storage;
    this.#refresh = options.refresh;
    this.#isRejected = options.isRejected;
    this.#onEnded = options.onEnded;
    this.#lock = options.lock ?? defaultLock();
    this.#now = options.now ?? Date.now;
    this.#leadMs = options.refreshLeadMs ?? 60_000;
    this.#retryMs = options.retryMs ?? 10_000;
    this.#autoRefresh = options.autoRefresh ?? true;
    this.#set(this.#storage.read(), false);
    this.#stopWatching =
      this.#storage.onExternalChange?.(() => {
        const stored = this.#storage.read();
        if (stored?.refresh_token === this.#tokens?.refresh_token) return;
        if (stored?.access_token && readTokenClaims(stored.access_token)?.sub !== this.#userId)
          this.#generation++;
        this.#set(stored, false);
      }) ?? (() => {});
  }

  get tokens(): TokenPair | null {
    return this.#tokens;
  }

  /** The signed-in user's id (the access token's `sub`), or null when signed out. */
  readonly getUserId = (): string | null => this.#userId;

  /** Calls `listener` when the signed-in user changes (sign-in, sign-out, login over). */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  signIn(pair: TokenPair): void {
    this.#generation++;
    this.#set({ access_token: pair.access_token, refresh_token: pair.refresh_token }, true);
  }

  signOut(): void {
    this.#generation++;
    this.#set(null, true);
  }

  /** Stops the background refresh and the watch on other tabs; the tokens stay where they are. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#stopWatching();
  }

  /**
   * An access token to send now: the current one, or a fresh one when it is
   * about to expire. Null when signed out.
   */
  async accessToken(): Promise<string | null> {
    const tokens = this.#tokens;
    if (!tokens) return null;
    if (tokens.access_token !== this.#refused && !this.#expiresSoon(tokens.access_token)) {
      return tokens.access_token;
    }
    try {
      return await this.refresh();
    } catch (error) {
      // Could not reach the server: the current token may still do for a while.
      const current = this.#tokens;
      if (current && !(error instanceof SessionEndedError) && !this.#expired(current.access_token)) {
        return current.access_token;
      }
      throw error;
    }
  }

  /**
   * After the server refused `token`: the newer token if another call has
   * refreshed meanwhile, else a refresh.
   */
  async accessTokenAfterRejection(token: string | null): Promise<string | null> {
    const tokens = this.#tokens;
    if (!tokens) return null;
    if (token !== null && tokens.access_token !== token) return tokens.access_token;
    this.#refused = tokens.access_token;
    return this.refresh();
  }

  /** Rotates the pair. Concurrent callers share one request. */
  refresh(): Promise<string> {
    if (!this.#inflight) {
      const run = this.#rotate();
      this.#inflight = run;
      const clear = () => {
        if (this.#inflight === run) this.#inflight = null;
      };
      run.then(clear, clear);
    }
    return this.#inflight;
  }

  async #rotate(): Promise<string> {
    const generation = this.#generation;
    const before = this.#tokens;
    if (!before) throw new SessionEndedError('Signed out');
    return this.#lock(async () => {
      if (generation !== this.#generation) throw new SessionEndedError('Signed out');
      const stored = this.#storage.read();
      if (!stored) {
        const ended = new SessionEndedError('Signed out in another tab');
        this.#end(ended, false);
        throw ended;
      }
      if (stored.refresh_token !== before.refresh_token) {
        // Another tab rotated while this one waited for the lock: its pair is the current one.
        this.#set(stored, false);
        return stored.access_token;
      }
      let pair: TokenPair;
      try {
        pair = await this.#refresh(stored.refresh_token);
      } catch (error) {
        if (this.#isRejected(error) && generation === this.#generation) {
          const ended = new SessionEndedError('Login expired', { cause: error });
          this.#end(ended, true);
          throw ended;
        }
        throw error;
      }
      if (generation !== this.#generation) throw new SessionEndedError('Signed out');
      this.#set({ access_token: pair.access_token, refresh_token: pair.refresh_token }, true);
      return pair.access_token;
    });
  }

  #end(error: SessionEndedError, persist: boolean): void {
    this.#generation++;
    this.#set(null, persist);
    this.#onEnded?.(error);
  }

  #set(pair: TokenPair | null, persist: boolean): void {
    const previousUser = this.#userId;
    this.#tokens = pair;
    this.#userId = pair ? (readTokenClaims(pair.access_token)?.sub ?? 'unknown') : null;
    if (persist) this.#storage.write(pair);
    this.#schedule(this.#refreshDueIn());
    if (previousUser !== this.#userId) for (const listener of this.#listeners) listener();
  }

  #claims(token: string) {
    const claims = readTokenClaims(token);
    if (claims?.exp === undefined) return null;
    const expiresAt = claims.exp * 1000;
    const lifetime = claims.iat === undefined ? Number.POSITIVE_INFINITY : expiresAt - claims.iat * 1000;
    return { expiresAt, lead: Math.min(this.#leadMs, lifetime / 2) };
  }

  #expiresSoon(token: string): boolean {
    const claims = this.#claims(token);
    return claims !== null && this.#now() >= claims.expiresAt - claims.lead;
  }

  #expired(token: string): boolean {
    const claims = this.#claims(token);
    return claims !== null && this.#now() >= claims.expiresAt;
  }

  #refreshDueIn(): number | null {
    const claims = this.#tokens && this.#claims(this.#tokens.access_token);
    return claims ? Math.max(0, claims.expiresAt - claims.lead - this.#now()) : null;
  }

  #schedule(delay: number | null): void {
    clearTimeout(this.#timer);
    if (!this.#autoRefresh || this.#disposed || delay === null || !this.#tokens) return;
    this.#timer = setTimeout(
      () => {
        this.refresh().catch((error: unknown) => {
          if (!(error instanceof SessionEndedError)) this.#schedule(this.#retryMs);
        });
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    unref(this.#timer);
  }
}

/** Keeps the pair in memory only: the login lasts as long as the process. */
export function memoryTokenStorage(initial: TokenPair | null = null): TokenStorage {
  let pair = initial;
  return {
    read: () => pair,
    write(next) {
      pair = next;
    },
  };
}

/** Keeps the pair in the browser's localStorage under `key`, and hears other tabs change it. */
export function localTokenStorage(key = 'pneumatic.session'): TokenStorage {
  return {
    read() {
      try {
        const raw = localStorage.getItem(key);
        if (!raw) return null;
        const value: unknown = JSON.parse(raw);
        if (typeof value !== 'object' || value === null) return null;
        const { access_token, refresh_token } = value as Record<string, unknown>;
        return typeof access_token === 'string' && typeof refresh_token === 'string'
          ? { access_token, refresh_token }
          : null;
      } catch {
        return null;
      }
    },
    write(pair) {
      if (pair) localStorage.setItem(key, JSON.stringify(pair));
      else localStorage.removeItem(key);
    },
    onExternalChange(listener) {
      const onStorage = (event: StorageEvent) => {
        if (event.key === key || event.key === null) listener();
      };
      window.addEventListener('storage', onStorage);
      return () => window.removeEventListener('storage', onStorage);
    },
  };
}
