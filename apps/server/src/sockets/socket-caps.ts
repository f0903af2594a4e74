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

  /** The address each admitted connection counts against, until it closes. */
  readonly #addressOf = new WeakMap<object, string>();
  /** One close listener for every connection (`this` is the connection): none keeps a closure of its own. */
  readonly #released: (this: object) => void;

  constructor(settings: SocketCapSettings) {
    this.#settings = settings;
    const byAddress = this.#byAddress;
    const addressOf = this.#addressOf;
    this.#released = function (this: object) {
      const address = addressOf.get(this);
      if (address === undefined) return;
      addressOf.delete(this);
      release(byAddress, address);
    };
  }

  /**
   * Admits an upgrade from `address` unless the address is at its cap. The
   * connection counts until it closes, whether or not the upgrade succeeds.
   */
  admitAddress(address: string, connection: { on(event: 'close', listener: () => void): unknown }): boolean {
    if (this.#addressOf.has(connection)) return true;
    if (!this.#take(this.#byAddress, address, this.#settings.perAddress, 'address')) return false;
    this.#addressOf.set(connection, address);
    connection.on('close', this.#released);
    return true;
  }

  /** Counts an authenticated socket of `userId` unless the user is at its cap; `releaseUser` when it closes. */
  admitUser(userId: string): boolean {
    return this.#take(this.#byUser, userId, this.#settings.perUser, 'user');
  }

  releaseUser(userId: string): void {
    release(this.#byUser, userId);
  }

  /** Open sockets counted for an address or a user, for tests and metrics. */
  count(kind: 'user' | 'address', key: string): number {
    return (kind === 'user' ? this.#byUser : this.#byAddress).get(key) ?? 0;
  }

  #take(counts: Map<string, number>, key: string, cap: number, reason: 'user' | 'address'): boolean {
    const open = counts.get(key) ?? 0;
    if (open >= cap) {
      this.#settings.onRefused?.(reason);
      return false;
    }
    counts.set(key, open + 1);
    return true;
  }
}

function release(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left <= 0) counts.delete(key);
  else counts.set(key, left);
}
