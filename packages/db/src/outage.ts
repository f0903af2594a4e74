/**
 * Failures that say the database cannot serve right now (busy, read-only,
 * unreachable) rather than that the request or the code is wrong. Clients
 * get 503 with one of these texts and may retry; nothing is stored.
 */
export type DatabaseOutage = 'busy' | 'read-only' | 'unavailable';

export const OUTAGE_MESSAGES: Record<DatabaseOutage, string> = {
  busy: 'Database busy, try again shortly',
  'read-only': 'Database is read-only',
  unavailable: 'Database unavailable, try again shortly',
};

/**
 * A failure of the connection to the database rather than of a statement:
 * node-postgres reports a lost, refused or ended connection as a plain Error
 * without a SQLSTATE, so the pool wrapper (create-database.ts) wraps every
 * error that did not come from the server in this.
 */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
  readonly code = 'DB_UNAVAILABLE';
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : 'database connection failed', { cause });
  }
}

// SQLSTATE classes and codes of PostgreSQL that mean "not now" rather than "not this".
const PG_UNAVAILABLE = /^(08|53|57P0[123])/;
const PG_BUSY = new Set(['40001', '40P01', '55P03']);
const NETWORK_CODES = new Set([
  'DB_UNAVAILABLE',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

function classify(error: object): DatabaseOutage | null {
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code.startsWith('SQLITE_READONLY') || code === '25006') return 'read-only';
  if (/^SQLITE_(IOERR|FULL|CANTOPEN|NOTADB|CORRUPT)/.test(code)) return 'unavailable';
  if (PG_BUSY.has(code)) return 'busy';
  if (PG_UNAVAILABLE.test(code) || NETWORK_CODES.has(code)) return 'unavailable';
  return null;
}

/** The outage behind an error (looking through causes and aggregated errors), or null. */
export function databaseOutage(error: unknown): DatabaseOutage | null {
  return findOutage(error)?.outage ?? null;
}

/** Like databaseOutage, with the error (a cause, perhaps) that showed it. */
export function findOutage(error: unknown): { outage: DatabaseOutage; error: object } | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 16) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const outage = classify(current);
    if (outage) return { outage, error: current };
    if ('cause' in current) queue.push(current.cause);
    if ('errors' in current && Array.isArray(current.errors)) queue.push(...current.errors);
  }
  return null;
}
