import { describeFailure, type Failure } from '@pneumatic/api';

interface FailureLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * Translates anything an entry point caught (see describeFailure) and logs
 * it as the translation says: a client's mistake not at all, an outage as a
 * warning, anything else as an error with its stack. Each entry point then
 * answers with the returned failure in its own shape.
 */
export function reportFailure(log: FailureLog, error: unknown, fields: object = {}): Failure {
  const failure = describeFailure(error);
  if (failure.log === 'warn') log.warn({ err: error, ...fields }, failure.message);
  else if (failure.log === 'error') log.error({ err: error, ...fields }, 'request failed');
  return failure;
}
