import type { BudgetResult, RequestBudget } from '@pneumatic/api';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterRes,
} from 'rate-limiter-flexible';

export interface BudgetSettings {
  perMinute: number;
  perHour: number;
  /** Shared store for several instances; without it each process counts alone. */
  redis?: Redis;
  /** Called when a request is refused, for metrics. */
  onRefused?: (window: 'minute' | 'hour') => void;
}

/** A window's count for one key, as the result is built from it. */
interface Spent {
  window: 'minute' | 'hour';
  limit: number;
  count: number;
  msBeforeNext: number;
}

/**
 * rate-limiter-flexible's memory store, without its promise, timer and result
 * object per request (every socket send spends the budget): the same fixed
 * windows, each key's starting at its first request and lasting `durationMs`,
 * refused requests counted too. Ended windows are swept once a window's
 * length, where the library kept a timer per key.
 */
class MemoryWindow {
  readonly #counts = new Map<string, { count: number; endsAt: number }>();

  constructor(
    readonly name: 'minute' | 'hour',
    readonly limit: number,
    readonly durationMs: number,
  ) {
    setInterval(() => this.sweep(Date.now()), durationMs).unref();
  }

  spend(key: string, now: number): Spent {
    let entry = this.#counts.get(key);
    if (entry === undefined || entry.endsAt <= now) {
      entry = { count: 0, endsAt: now + this.durationMs };
      this.#counts.set(key, entry);
    }
    entry.count++;
    return { window: this.name, limit: this.limit, count: entry.count, msBeforeNext: entry.endsAt - now };
  }

  sweep(now: number): void {
    for (const [key, entry] of this.#counts) if (entry.endsAt <= now) this.#counts.delete(key);
  }
}

/** A window in Redis, shared by every instance; while Redis is away each instance counts on its own. */
function redisWindow(name: 'minute' | 'hour', points: number, duration: number, redis: Redis) {
  const keyPrefix = name === 'minute' ? 'rl:m' : 'rl:h';
  const limiter: RateLimiterAbstract = new RateLimiterRedis({
    storeClient: redis,
    points,
    duration,
    keyPrefix,
    insuranceLimiter: new RateLimiterMemory({ points, duration, keyPrefix }),
  });
  return async (key: string): Promise<Spent> => {
    let res: RateLimiterRes;
    try {
      res = await limiter.consume(key);
    } catch (error) {
      if (!isLimiterResult(error)) throw error;
      res = error;
    }
    return { window: name, limit: points, count: res.consumedPoints, msBeforeNext: res.msBeforeNext };
  };
}

function isLimiterResult(value: unknown): value is RateLimiterRes {
  return typeof value === 'object' && value !== null && 'msBeforeNext' in value;
}

/** The contract's two windows, per minute and per hour, spent together. */
export class TwoWindowBudget implements RequestBudget {
  readonly #memory: MemoryWindow[] | undefined;
  readonly #redis: ((key: string) => Promise<Spent>)[] | undefined;
  readonly #onRefused: BudgetSettings['onRefused'];

  constructor(settings: BudgetSettings) {
    if (settings.redis) {
      this.#redis = [
        redisWindow('minute', settings.perMinute, 60, settings.redis),
        redisWindow('hour', settings.perHour, 3600, settings.redis),
      ];
    } else {
      this.#memory = [
        new MemoryWindow('minute', settings.perMinute, 60_000),
        new MemoryWindow('hour', settings.perHour, 3_600_000),
      ];
    }
    this.#onRefused = settings.onRefused;
  }

  consume(key: string): BudgetResult | Promise<BudgetResult> {
    if (this.#memory) {
      const now = Date.now();
      const [minute, hour] = this.#memory as [MemoryWindow, MemoryWindow];
      return this.#result(minute.spend(key, now), hour.spend(key, now));
    }
    const [minute, hour] = this.#redis as [(key: string) => Promise<Spent>, (key: string) => Promise<Spent>];
    return Promise.all([minute(key), hour(key)]).then(([m, h]) => this.#result(m, h));
  }

  /** Reports the refused window, or else the one with the fewest requests left. */
  #result(minute: Spent, hour: Spent): BudgetResult {
    const refused = minute.count > minute.limit ? minute : hour.count > hour.limit ? hour : undefined;
    const shown =
      refused ??
      ((hour.limit - hour.count) / hour.limit < (minute.limit - minute.count) / minute.limit ? hour : minute);
    if (refused) this.#onRefused?.(refused.window);
    return {
      allowed: !refused,
      limit: shown.limit,
      remaining: Math.max(0, shown.limit - shown.count),
      resetSeconds: Math.max(1, Math.ceil(shown.msBeforeNext / 1000)),
      message: `Rate limit exceeded: ${shown.limit} requests per ${shown.window}`,
    };
  }
}
