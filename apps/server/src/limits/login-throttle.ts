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
/** Failures allowed for one account from all addresses together (guessing from many addresses). */
const FAILURES_PER_ACCOUNT = 30;
/** Failures allowed from one address across all accounts (credential stuffing). */
const FAILURES_PER_ADDRESS = 100;
const WINDOW_SECONDS = 15 * 60;
const BLOCK_SECONDS = 15 * 60;
/**
 * How long an address stays known for an account after a successful login
 * there. The memory store expires keys with setTimeout: keep it under 24 days.
 */
const KNOWN_ADDRESS_SECONDS = 14 * 24 * 3600;

function limiter(
  points: number,
  keyPrefix: string,
  redis?: Redis,
  duration = WINDOW_SECONDS,
  blockDuration = BLOCK_SECONDS,
): RateLimiterAbstract {
  const options = { points, duration, blockDuration, keyPrefix };
  const memory = new RateLimiterMemory(options);
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
}

/**
 * Counts failed logins per (account, address), per account and per address.
 * Guesses against one account are slowed however many addresses they come
 * from, yet the owner is not locked out by them: the per-account pause spares
 * addresses the account logged in from before, and someone else's guesses
 * never count against the owner's own (account, address) pair. A success
 * clears that pair's count.
 */
export class FailedLoginThrottle implements LoginThrottle {
  readonly #byAccountAndAddress: RateLimiterAbstract;
  readonly #byAccount: RateLimiterAbstract;
  readonly #byAddress: RateLimiterAbstract;
  /** (account, address) pairs that logged in successfully: a set with expiry. */
  readonly #known: RateLimiterAbstract;

  constructor(redis?: Redis) {
    this.#byAccountAndAddress = limiter(FAILURES_PER_ACCOUNT_AND_ADDRESS, 'login:ua', redis);
    this.#byAccount = limiter(FAILURES_PER_ACCOUNT, 'login:u', redis);
    this.#byAddress = limiter(FAILURES_PER_ADDRESS, 'login:a', redis);
    this.#known = limiter(1, 'login:known', redis, KNOWN_ADDRESS_SECONDS, 0);
  }

  async blockedFor(usernameLower: string, ip: string): Promise<number> {
    const pairKey = `${usernameLower}|${ip}`;
    const [pair, account, address, known] = await Promise.all([
      this.#byAccountAndAddress.get(pairKey),
      this.#byAccount.get(usernameLower),
      this.#byAddress.get(ip),
      this.#known.get(pairKey),
    ]);
    let wait = 0;
    if (pair && pair.consumedPoints > FAILURES_PER_ACCOUNT_AND_ADDRESS) wait = pair.msBeforeNext;
    if (account && account.consumedPoints > FAILURES_PER_ACCOUNT && !known)
      wait = Math.max(wait, account.msBeforeNext);
    if (address && address.consumedPoints > FAILURES_PER_ADDRESS) wait = Math.max(wait, address.msBeforeNext);
    return Math.ceil(wait / 1000);
  }

  async failed(usernameLower: string, ip: string): Promise<void> {
    await Promise.all([
      this.#byAccountAndAddress.consume(`${usernameLower}|${ip}`).catch(ignoreRefusal),
      this.#byAccount.consume(usernameLower).catch(ignoreRefusal),
      this.#byAddress.consume(ip).catch(ignoreRefusal),
    ]);
  }

  async succeeded(usernameLower: string, ip: string): Promise<void> {
    const pairKey = `${usernameLower}|${ip}`;
    await Promise.all([
      this.#byAccountAndAddress.delete(pairKey),
      this.#known.set(pairKey, 1, KNOWN_ADDRESS_SECONDS),
    ]);
  }
}

function ignoreRefusal(error: unknown): void {
  if (!(error instanceof RateLimiterRes)) throw error;
}
