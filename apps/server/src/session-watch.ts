import { type ApiDeps, SESSION_REVOKED } from '@pneumatic/api';

/** What the watch needs of a socket. */
interface WatchedSocket {
  close(code: number, reason: string): void;
}

/** Session ids asked about in one query. */
const CHUNK = 500;

/**
 * Checks now and then that the login behind every live socket still stands.
 * Logout and refresh-token reuse close sockets at once through the bus; this
 * catches what the bus never announces: a user deleted, or a session revoked
 * or expired, in the database directly. A database that does not answer
 * closes nothing.
 */
export class SessionWatch {
  readonly #sockets = new Map<string, Set<WatchedSocket>>();
  readonly #timer: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(
    private readonly deps: Pick<ApiDeps, 'database'>,
    intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    if (intervalMs > 0) {
      this.#timer = setInterval(() => void this.check(), intervalMs);
      this.#timer.unref();
    }
  }

  /** Watches `socket` until it closes. */
  watch(sessionId: string, socket: WatchedSocket & { once(event: 'close', listener: () => void): unknown }) {
    const set = this.#sockets.get(sessionId) ?? new Set<WatchedSocket>();
    this.#sockets.set(sessionId, set);
    set.add(socket);
    socket.once('close', () => {
      set.delete(socket);
      if (set.size === 0 && this.#sockets.get(sessionId) === set) this.#sockets.delete(sessionId);
    });
  }

  /** Closes the sockets of sessions that no longer stand. */
  async check(): Promise<void> {
    if (this.#checking || this.#sockets.size === 0) return;
    this.#checking = true;
    try {
      const ids = [...this.#sockets.keys()];
      const now = new Date().toISOString();
      for (let i = 0; i < ids.length; i += CHUNK) {
        const chunk = ids.slice(i, i + CHUNK);
        const live = await this.deps.database.db
          .selectFrom('sessions')
          .innerJoin('users', 'users.id', 'sessions.user_id')
          .select('sessions.id')
          .where('sessions.id', 'in', chunk)
          .where('sessions.revoked_at', 'is', null)
          .where('sessions.expires_at', '>', now)
          .execute();
        const standing = new Set(live.map((row) => row.id));
        for (const id of chunk) {
          if (standing.has(id)) continue;
          for (const socket of [...(this.#sockets.get(id) ?? [])])
            socket.close(SESSION_REVOKED.code, SESSION_REVOKED.reason);
        }
      }
    } catch (error) {
      this.onError(error);
    } finally {
      this.#checking = false;
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
