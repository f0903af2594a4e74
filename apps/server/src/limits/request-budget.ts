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

interface Window {
  name: 'minute' | 'hour';
  limit: number;
  limiter: RateLimiterAbstract;
}

function limiter(points: number, duration: number, keyPrefix: string, redis?: Redis): RateLimiterAbstract {
  const memory = new RateLimiterMemory({ points, duration, keyPrefix });
  if (!redis) return memory;
  // While Redis is away each instance counts on its own rather than failing requests.
  return new RateLimiterRedis({ storeClient: redis, points, duration, keyPrefix, insuranceLimiter: memory });
}

function isLimiterResult(value: unknown): value is RateLimiterRes {
  return typeof value === 'object' && value !== null && 'msBeforeNext' in value;
}

/** The contract's two windows, per minute and per hour, spent together. */
export class TwoWindowBudget implements RequestBudget {
  readonly #windows: Window[];
  readonly #onRefused: BudgetSettings['onRefused'];

  constructor(settings: BudgetSettings) {
    this.#windows = [
      {
        name: 'minute',
        limit: settings.perMinute,
        limiter: limiter(settings.perMinute, 60, 'rl:m', settings.redis),
      },
      {
        name: 'hour',
        limit: settings.perHour,
        limiter: limiter(settings.perHour, 3600, 'rl:h', settings.redis),
      },
    ];
    this.#onRefused = settings.onRefused;
  }

  async consume(key: string): Promise<BudgetResult> {
    const outcomes = await Promise.all(
      this.#windows.map(async (window) => {
        try {
          return { window, res: await window.limiter.consume(key), allowed: true };
        } catch (error) {
          if (!isLimiterResult(error)) throw error;
          return { window, res: error, allowed: false };
        }
      }),
    );
    // Report the refused window, or else the one with the fewest requests left.
    const refused = outcomes.find((o) => !o.allowed);
    const shown =
      refused ??
      outcomes.reduce((a, b) =>
        b.res.remainingPoints / b.window.limit < a.res.remainingPoints / a.window.limit ? b : a,
      );
    if (refused) this.#onRefused?.(refused.window.name);
    return {
      allowed: !refused,
      limit: shown.window.limit,
      remaining: Math.max(0, shown.res.remainingPoints),
      resetSeconds: Math.max(1, Math.ceil(shown.res.msBeforeNext / 1000)),
      message: `Rate limit exceeded: ${shown.window.limit} requests per ${shown.window.name}`,
    };
  }
}
