import { type DestinationStream, type Logger, pino } from 'pino';

/** Paths never written to the log: credentials, tokens, message content. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  '*.password',
  '*.access_token',
  '*.refresh_token',
  '*.token',
  '*.content',
  '*.password_hash',
];

/** A URL with the values of token-like query parameters replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token|refresh_token)=)[^&#]*/gi, '$1[redacted]');
}

interface RequestLike {
  method?: string;
  url?: string;
  ip?: string;
  id?: string | number;
}

export function createLogger(
  level: string,
  options: { pretty?: boolean; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: {
        req: (req: RequestLike) => ({
          method: req.method,
          url: req.url ? redactUrl(req.url) : undefined,
          ip: req.ip,
        }),
      },
      ...(options.pretty
        ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l' } } }
        : {}),
    },
    options.destination,
  );
}
