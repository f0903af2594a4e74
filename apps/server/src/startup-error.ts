import { findOutage } from '@pneumatic/db';

/** A reason the server cannot start, described in one line for the operator. */
export class StartupError extends Error {
  override name = 'StartupError';
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!.trim();
}

/** Describes a failure to open, migrate or write the database at start-up, naming where it is. */
export function databaseStartupError(location: string, error: unknown): StartupError {
  const found = findOutage(error);
  const outage = found?.outage;
  if (outage === 'read-only')
    return new StartupError(
      `Cannot write the database at ${location}: it is read-only (check the permissions of the file and its folder)`,
    );
  if (outage === 'busy')
    return new StartupError(`Cannot use the database at ${location}: another process holds a lock on it`);
  if (outage === 'unavailable')
    return new StartupError(`Cannot reach the database at ${location}: ${firstLine(found?.error)}`);
  return new StartupError(`Cannot open the database at ${location}: ${firstLine(error)}`);
}
