import type { LoginThrottle } from '@pneumatic/api';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';

/** Failures allowed for one account from one address before a pause. */
const FAILURES_PER_ACCOUNT_AND_ADDRESS = 5;
/** Failures allowed from one address across all accounts (credential stuffing). */
const FAILURES_PER_ADDRESS = 100;
const WINDOW_SECONDS = 15 * 60;
const BLOCK_SECONDS = 15 * 60;

function limiter(points: number, keyPrefix: string, redis?: Redis): RateLimiterAbstract {
  const options = { points, duration: WINDOW_SECONDS, blockDuration: BLOCK_SECONDS, keyPrefix };
  const memory = new RateLimiterMemory(options);
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
}

/**
 * Counts failed logins per (account, address) and per address. The owner
 * logging in from their own address is never blocked by someone else's
 * guesses, and a success clears that pair's count.
 */
export class FailedLoginThrottle implements LoginThrottle {
  readonly #byAccountAndAddress: RateLimiterAbstract;
  readonly #byAddress: RateLimiterAbstract;

  constructor(redis?: Redis) {
    this.#byAccountAndAddress = limiter(FAILURES_PER_ACCOUNT_AND_ADDRESS, 'login:ua', redis);
    this.#byAddress = limiter(FAILURES_PER_ADDRESS, 'login:a', redis);
  }

  async blockedFor(usernameLower: string, ip: string): Promise<number> {
    const [pair, address] = await Promise.all([
      this.#byAccountAndAddress.get(`${usernameLower}|${ip}`),
      this.#byAddress.get(ip),
    ]);
    let wait = 0;
    if (pair && pair.consumedPoints > FAILURES_PER_ACCOUNT_AND_ADDRESS) wait = pair.msBeforeNext;
    if (address && address.consumedPoints > FAILURES_PER_ADDRESS) wait = Math.max(wait, address.msBeforeNext);
    return Math.ceil(wait / 1000);
  }

  async failed(usernameLower: string, ip: string): Promise<void> {
    await Promise.all([
      this.#byAccountAndAddress.consume(`${usernameLower}|${ip}`).catch(ignoreRefusal),
      this.#byAddress.consume(ip).catch(ignoreRefusal),
    ]);
  }

  async succeeded(usernameLower: string, ip: string): Promise<void> {
    await this.#byAccountAndAddress.delete(`${usernameLower}|${ip}`);
  }
}

function ignoreRefusal(error: unknown): void {
  if (!(error instanceof RateLimiterRes)) throw error;
}
