import type { EventBus } from './event-bus.ts';

/** Where "who is online" lives: this process alone, or Redis for several instances. */
export interface PresenceStore {
  /** Marks the user online on this instance; true if they were offline everywhere before. */
  setOnline(userId: string): Promise<boolean>;
  /** Marks the user offline on this instance; true if they are now offline everywhere. */
  setOffline(userId: string): Promise<boolean>;
  /** Which of `userIds` are online anywhere. */
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>;
  /** Keeps this instance's claims alive (they expire if the instance dies). */
  refresh(userIds: readonly string[]): Promise<void>;
}

export class InMemoryPresenceStore implements PresenceStore {
  readonly #online = new Set<string>();

  async setOnline(userId: string): Promise<boolean> {
    const was = this.#online.has(userId);
    this.#online.add(userId);
    return !was;
  }

  async setOffline(userId: string): Promise<boolean> {
    this.#online.delete(userId);
    return true;
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.#online.has(id)));
  }

  async refresh(): Promise<void> {}
}

/** Who hears that each of `userIds` came online or went offline: their contacts, by user. */
export type PresenceAudience = (userIds: readonly string[]) => Promise<Map<string, string[]>>;

export interface PresenceOptions {
  /** How long a user stays online after their last device leaves. Default 5 s. */
  graceMs?: number;
  /** How often this instance renews its claims and looks for users whose instance died. Default 15 s. */
  refreshMs?: number;
  /** Changes within this long of the first are announced together. Default 20 ms. */
  batchMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * A user is online while any of their devices is connected to any instance,
 * and offline a grace period after the last one leaves. Changes go out on
 * the bus as `presence` events.
 *
 * Changes are announced in batches, `batchMs` after the first: one audience
 * query for the batch, and the batch's events published together, so a
 * contact's socket gets them in one write. When many users connect at once
 * (a restart, a network back), that is one query and one write per socket
 * for every few dozen users, not one each.
 */
export class Presence {
  readonly #local = new Set<string>();
  readonly #leaving = new Map<string, NodeJS.Timeout>();
  /** Users this instance announced or heard as online: checked now and then in case their instance died. */
  readonly #believedOnline = new Set<string>();
  readonly #graceMs: number;
  readonly #batchMs: number;
  /** Changes waiting for the batch, in the order they happened. */
  #changes: [userId: string, online: boolean][] = [];
  #batchTimer: NodeJS.Timeout | undefined;
  /** The batch being stored and announced: the next one waits for it, so changes go out in order. */
  #announcing: Promise<void> = Promise.resolve();
  readonly #onError: (error: unknown) => void;
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;

  constructor(
    readonly store: PresenceStore,
    readonly bus: EventBus,
    readonly audienceOf: PresenceAudience,
    options: PresenceOptions = {},
  ) {
    this.#graceMs = options.graceMs ?? 5000;
    this.#batchMs = options.batchMs ?? 20;
    this.#onError = options.onError ?? (() => {});
    this.#timer = setInterval(() => void this.#refresh().catch(this.#onError), options.refreshMs ?? 15_000);
    this.#timer.unref();
    this.#unsubscribe = bus.subscribe((event) => {
      if (event.kind !== 'presence') return;
      if (event.online) this.#believedOnline.add(event.user_id);
      else this.#believedOnline.delete(event.user_id);
    });
  }

  /** The user's first live connection on this instance opened. */
  connected(userId: string): void {
    const leaving = this.#leaving.get(userId);
    if (leaving) {
      clearTimeout(leaving);
      this.#leaving.delete(userId);
    }
    if (this.#local.has(userId)) return;
    this.#local.add(userId);
    this.#change(userId, true);
  }

  /** The user's last live connection on this instance closed. */
  disconnected(userId: string): void {
    if (!this.#local.has(userId) || this.#leaving.has(userId)) return;
    const timer = setTimeout(() => {
      this.#leaving.delete(userId);
      this.#local.delete(userId);
      this.#change(userId, false);
    }, this.#graceMs);
    timer.unref();
    this.#leaving.set(userId, timer);
  }

  onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    return this.store.onlineAmong(userIds);
  }

  close(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#batchTimer);
    for (const timer of this.#leaving.values()) clearTimeout(timer);
    this.#unsubscribe();
  }

  /** Queues a change of this instance's users for the next batch. */
  #change(userId: string, online: boolean): void {
    this.#changes.push([userId, online]);
    this.#batchTimer ??= setTimeout(() => {
      this.#batchTimer = undefined;
      const changes = this.#changes;
      this.#changes = [];
      this.#announcing = this.#announcing.then(() => this.#store(changes)).catch(this.#onError);
    }, this.#batchMs);
  }

  /**
   * Records a batch of changes in the store, then announces those that
   * changed anything. Users are recorded side by side (with Redis, a round
   * trip each), one user's changes in the order they happened.
   */
  async #store(changes: [userId: string, online: boolean][]): Promise<void> {
    const byUser = new Map<string, boolean[]>();
    for (const [userId, online] of changes) {
      const states = byUser.get(userId);
      if (states) states.push(online);
      else byUser.set(userId, [online]);
    }
    const changed: [userId: string, online: boolean][] = [];
    await Promise.all(
      [...byUser].map(async ([userId, states]) => {
        for (const online of states) {
          try {
            if (await (online ? this.store.setOnline(userId) : this.store.setOffline(userId)))
              changed.push([userId, online]);
          } catch (error) {
            this.#onError(error);
          }
        }
      }),
    );
    await this.#announce(changed);
  }

  async #refresh(): Promise<void> {
    await this.store.refresh([...this.#local]);
    const candidates = [...this.#believedOnline].filter((id) => !this.#local.has(id));
    if (candidates.length === 0) return;
    const online = await this.store.onlineAmong(candidates);
    await this.#announce(
      candidates.filter((id) => !online.has(id)).map((id) => [id, false] as [string, boolean]),
    );
  }

  /**
   * Tells the people who share a conversation with each user, not everyone
   * connected: a connect costs one event per contact, not one per user
   * online. The audiences come from one query, and the events are published
   * in one go.
   */
  async #announce(changes: readonly [userId: string, online: boolean][]): Promise<void> {
    if (changes.length === 0) return;
    const audiences = await this.audienceOf([...new Set(changes.map(([userId]) => userId))]);
    for (const [userId, online] of changes) {
      this.bus.publish({
        kind: 'presence',
        recipients: audiences.get(userId) ?? [],
        user_id: userId,
        online,
      });
    }
  }
}
