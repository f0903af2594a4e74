/** Fields that go with a log line: ids, counts, names. Never tokens, passwords or message text. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/**
 * One line per event, easy to read and to grep:
 * `2026-11-27T23:40:05.123Z INFO  replied command=echo conversation=…`.
 */
export function createLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const line = (level: string, event: string, fields: LogFields = {}) => {
    const pairs = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(
        ([key, value]) =>
          `${key}=${typeof value === 'string' && /\s/.test(value) ? JSON.stringify(value) : value}`,
      );
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${[event, ...pairs].join(' ')}\n`);
  };
  return {
    info: (event, fields) => line('INFO', event, fields),
    warn: (event, fields) => line('WARN', event, fields),
    error: (event, fields) => line('ERROR', event, fields),
  };
}
