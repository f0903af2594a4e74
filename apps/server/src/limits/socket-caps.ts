/** Close code and reason for a socket over its user's cap. */
export const TOO_MANY_USER_SOCKETS = { code: 1008, reason: 'Too many sockets for this user' } as const;
/** Answer to an upgrade from an address over its cap. */
export const TOO_MANY_ADDRESS_SOCKETS = {
  status: 429,
  detail: 'Too many sockets from this address',
} as const;

/** Something that ends once: a TCP connection or a WebSocket. */
interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

export interface SocketCapSettings {
  /** Open sockets (tRPC and /ws together) one user may hold. */
  perUser: number;
  /** Open sockets, authenticated or not, one address may hold. */
  perAddress: number;
  /** Told of each refusal, for metrics. */
  onRefused?: (reason: 'user' | 'address') => void;
}

/**
 * Counts this instance's open sockets per client address (from the upgrade
 * on, before any token is checked) and per authenticated user, so one party
 * cannot hold an unbounded share of connections, memory and file handles.
 */
export class SocketCaps {
  readonly #byAddress = new Map<string, number>();
  readonly #byUser = new Map<string, number>();
  readonly #settings: SocketCapSettings;

  constructor(settings: SocketCapSettings) {
    this.#settings = settings;
  }

  /**
   * Admits an upgrade from `address` unless the address is at its cap. The
   * connection counts until it closes, whether or not the upgrade succeeds.
   */
  admitAddress(address: string, connection: Closable): boolean {
    return this.#admit(this.#byAddress, address, this.#settings.perAddress, connection, 'address');
  }

  /** Admits an authenticated socket of `userId` unless the user is at its cap. */
  admitUser(userId: string, socket: Closable): boolean {
    return this.#admit(this.#byUser, userId, this.#settings.perUser, socket, 'user');
  }

  /** Open sockets counted for an address or a user, for tests and metrics. */
  count(kind: 'user' | 'address', key: string): number {
    return (kind === 'user' ? this.#byUser : this.#byAddress).get(key) ?? 0;
  }

  #admit(
    counts: Map<string, number>,
    key: string,
    cap: number,
    closable: Closable,
    reason: 'user' | 'address',
  ): boolean {
    const open = counts.get(key) ?? 0;
    if (open >= cap) {
      this.#settings.onRefused?.(reason);
      return false;
    }
    counts.set(key, open + 1);
    closable.once('close', () => {
      const left = (counts.get(key) ?? 1) - 1;
      if (left <= 0) counts.delete(key);
      else counts.set(key, left);
    });
    return true;
  }
}
