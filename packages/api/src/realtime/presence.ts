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

/** Who hears that `userId` came online or went offline. */
export type PresenceAudience = (userId: string) => Promise<string[]>;

export interface PresenceOptions {
  /** How long a user stays online after their last device leaves. Default 5 s. */
  graceMs?: number;
  /** How often this instance renews its claims and looks for users whose instance died. Default 15 s. */
  refreshMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * A user is online while any of their devices is connected to any instance,
 * and offline a grace period after the last one leaves. Changes go out on
 * the bus as `presence` events.
 */
export class Presence {
  readonly #local = new Set<string>();
  readonly #leaving = new Map<string, NodeJS.Timeout>();
  /** Users this instance announced or heard as online: checked now and then in case their instance died. */
  readonly #believedOnline = new Set<string>();
  readonly #graceMs: number;
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
    void this.store
      .setOnline(userId)
      .then((cameOnline) => {
        if (cameOnline) return this.#announce(userId, true);
      })
      .catch(this.#onError);
  }

  /** The user's last live connection on this instance closed. */
  disconnected(userId: string): void {
    if (!this.#local.has(userId) || this.#leaving.has(userId)) return;
    const timer = setTimeout(() => {
      this.#leaving.delete(userId);
      this.#local.delete(userId);
      void this.store
        .setOffline(userId)
        .then((wentOffline) => {
          if (wentOffline) return this.#announce(userId, false);
        })
        .catch(this.#onError);
    }, this.#graceMs);
    timer.unref();
    this.#leaving.set(userId, timer);
  }

  onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    return this.store.onlineAmong(userIds);
  }

  close(): void {
    clearInterval(this.#timer);
    for (const timer of this.#leaving.values()) clearTimeout(timer);
    this.#unsubscribe();
  }

  async #refresh(): Promise<void> {
    await this.store.refresh([...this.#local]);
    const candidates = [...this.#believedOnline].filter((id) => !this.#local.has(id));
    if (candidates.length === 0) return;
    const online = await this.store.onlineAmong(candidates);
    for (const id of candidates) {
      if (!online.has(id)) await this.#announce(id, false);
    }
  }

  /**
   * Tells the people who share a conversation with the user, not everyone
   * connected: a connect costs one event per contact, not one per user online.
   */
  async #announce(userId: string, online: boolean): Promise<void> {
    const recipients = await this.audienceOf(userId);
    this.bus.publish({ kind: 'presence', recipients, user_id: userId, online });
  }
}
