import { type Logger, pino } from 'pino';

/** Paths never written to the log: credentials, tokens, message content. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.query.token',
  '*.password',
  '*.access_token',
  '*.refresh_token',
  '*.token',
  '*.content',
  '*.password_hash',
];

export function createLogger(level: string, pretty = false): Logger {
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(pretty ? {} : { timestamp: pino.stdTimeFunctions.isoTime }),
  });
}
