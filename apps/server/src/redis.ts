import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * A Redis connection for shared state. It retries forever in the background;
 * commands fail fast while it is down (callers fall back or report not ready).
 */
export function connectRedis(
  url: string,
  logger: Logger,
  name: string,
  options: { offlineQueue?: boolean } = {},
): Redis {
  const redis = new Redis(url, {
    connectionName: `pneumatic-${name}`,
    enableOfflineQueue: options.offlineQueue ?? false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let down = false;
  redis.on('error', (err) => {
    if (!down) logger.warn({ event: 'redis down', name, err: err.message }, 'redis unavailable');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ event: 'redis up', name }, 'redis available again');
    down = false;
  });
  return redis;
}

/** Waits (up to `timeoutMs`) for the connection to be usable; starting without Redis is allowed. */
export async function waitUntilReady(redis: Redis, timeoutMs = 5000): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
