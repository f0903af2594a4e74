import { randomUUID } from 'node:crypto';
import type { PresenceStore } from '@pneumatic/api';
import type { Redis } from 'ioredis';

/** How long an instance's claim that a user is online lasts without renewal. */
const CLAIM_MS = 45_000;

/**
 * Presence shared by instances: one hash per user, a field per instance
 * holding when its claim expires. A user is online while any claim is fresh;
 * a crashed instance's claims simply run out.
 */
export class RedisPresenceStore implements PresenceStore {
  readonly #instance = randomUUID();
  readonly #prefix: string;

  constructor(
    readonly redis: Redis,
    clusterId: string,
  ) {
    this.#prefix = `pneumatic:${clusterId}:presence:`;
  }

  async setOnline(userId: string): Promise<boolean> {
    const key = this.#prefix + userId;
    const [[, claims]] = (await this.redis
      .multi()
      .hgetall(key)
      .hset(key, this.#instance, String(Date.now() + CLAIM_MS))
      .pexpire(key, CLAIM_MS * 2)
      .exec()) as [[null, Record<string, string>], ...unknown[]];
    return !this.#anyFresh(claims, this.#instance);
  }

  async setOffline(userId: string): Promise<boolean> {
    const key = this.#prefix + userId;
    const [, [, claims]] = (await this.redis.multi().hdel(key, this.#instance).hgetall(key).exec()) as [
      unknown,
      [null, Record<string, string>],
    ];
    return !this.#anyFresh(claims);
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.hgetall(this.#prefix + id);
    const results = (await pipeline.exec()) ?? [];
    const online = new Set<string>();
    results.forEach(([error, claims], i) => {
      if (!error && this.#anyFresh(claims as Record<string, string>)) online.add(userIds[i]!);
    });
    return online;
  }

  async refresh(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const until = String(Date.now() + CLAIM_MS);
    const pipeline = this.redis.pipeline();
    for (const id of userIds) {
      pipeline.hset(this.#prefix + id, this.#instance, until);
      pipeline.pexpire(this.#prefix + id, CLAIM_MS * 2);
    }
    await pipeline.exec();
  }

  #anyFresh(claims: Record<string, string> | null | undefined, except?: string): boolean {
    const now = Date.now();
    return Object.entries(claims ?? {}).some(
      ([instance, until]) => instance !== except && Number(until) > now,
    );
  }
}
