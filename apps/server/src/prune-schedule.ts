import { type ApiDeps, describeFailure, pruneExpired } from '@pneumatic/api';
import type { Logger } from 'pino';

/**
 * Prunes expired logins and old events every `intervalMs` (0: never), as
 * `pneumatic prune` does. Several instances may prune at once: deleting
 * what is already gone is harmless. Returns the stop function.
 */
export function schedulePrune(deps: ApiDeps, intervalMs: number, logger: Logger): () => void {
  if (intervalMs <= 0) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    pruneExpired(deps)
      .then((report) => logger.info({ event: 'prune', ...report }, 'pruned'))
      .catch((err: unknown) => {
        const level = describeFailure(err).log === 'warn' ? 'warn' : 'error';
        logger[level]({ event: 'prune', err }, 'prune failed');
      })
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
