import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const positiveInt = (fallback: number) => int(1, Number.MAX_SAFE_INTEGER).default(fallback);
/** Milliseconds a timer may take: setTimeout fires at once past 2^31 - 1. */
const millis = (fallback: number) => int(1, 2 ** 31 - 1).default(fallback);

/** `true`, a hop count, or trusted proxy addresses (comma-separated), as fastify's trustProxy takes them. */
const TrustProxy = z
  .string()
  .default('false')
  .transform((value): boolean | string | ((address: string, hop: number) => boolean) => {
    if (value === 'true') return true;
    if (value === 'false' || value === '') return false;
    if (/^\d+$/.test(value)) {
      const hops = Number(value);
      return (_address, hop) => hop < hops;
    }
    return value;
  });

/**
 * Every setting of the server, named as in the environment, with its
 * default. The README's configuration table lists the same.
 */
const Settings = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65_535).default(8000),
  /** Listening address. Default 127.0.0.1, or 0.0.0.0 in production. */
  HOST: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  /** Default: a SQLite file in DATA_DIR. */
  DATABASE_URL: z.string().min(1).optional(),
  /** Default in development: generated once and kept in DATA_DIR; required in production. */
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt(1800),
  REFRESH_TOKEN_TTL_SECONDS: positiveInt(7 * 24 * 3600),
  PASSWORD_MIN_LENGTH: int(1, 1024).default(8),
  /** Comma-separated origins allowed to call the API from a browser. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  RATE_LIMIT_PER_MINUTE: positiveInt(60),
  RATE_LIMIT_PER_HOUR: positiveInt(1000),
  TRUST_PROXY: TrustProxy,
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url('must be a URL').optional(),
  /** NORMAL survives a crash of the process; FULL also survives power loss. */
  SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL']).default('FULL'),
  /** Most events replayed to a reconnecting stream before it is told to resync. */
  REPLAY_LIMIT: positiveInt(1000),
  /** How long a user shows online after their last device leaves. */
  PRESENCE_GRACE_MS: int(0, 300_000).default(5000),
  /** Folder of the built web app. Default apps/web/dist. */
  WEB_DIST: z.string().optional(),
  /** A client must finish sending request headers within this; else 408 and the connection closes. */
  HTTP_HEADERS_TIMEOUT_MS: millis(10_000),
  /** A client must finish sending a whole request (headers and body) within this; an upload, within UPLOAD_TIMEOUT_MS. */
  HTTP_REQUEST_TIMEOUT_MS: millis(30_000),
  /** A connection with no traffic for this long is closed (WebSockets excepted). */
  HTTP_IDLE_TIMEOUT_MS: millis(10_000),
  /** A tRPC socket must present its token (connectionParams) within this; else 1008. */
  SOCKET_AUTH_TIMEOUT_MS: millis(10_000),
  /** How often live sockets re-check their login (a user deleted, a session revoked in the database). */
  SOCKET_SESSION_CHECK_MS: millis(60_000),
  /** How often the server pings every socket (tRPC's "PING" on /trpc, a ping frame on /ws). */
  SOCKET_PING_MS: millis(30_000),
  /** A socket that has not answered a ping within this is terminated. */
  SOCKET_PONG_TIMEOUT_MS: millis(10_000),
  /** Open sockets (tRPC and /ws together) one user may hold on one instance. */
  MAX_SOCKETS_PER_USER: positiveInt(20),
  /** Open sockets one client address may hold on one instance, authenticated or not. */
  MAX_SOCKETS_PER_ADDRESS: positiveInt(100),
  /** Largest upload, in bytes (413 past it). Default 25 MiB. */
  MAX_UPLOAD_BYTES: positiveInt(25 * 1024 * 1024),
  /** Bytes one user may upload in any 24 hours (429 past it). Default 500 MiB. */
  UPLOAD_QUOTA_BYTES_PER_DAY: positiveInt(500 * 1024 * 1024),
  /** Uploads that no message carries are removed after this. */
  UPLOAD_PENDING_TTL_SECONDS: positiveInt(3600),
  /** An upload that sends nothing for this long is dropped (408) and its bytes removed. */
  UPLOAD_STALL_TIMEOUT_MS: millis(10_000),
  /**
   * A whole upload must arrive within this (408 past it, its bytes removed). Default 15 minutes:
   * the largest upload at 256 kbit/s.
   */
  UPLOAD_TIMEOUT_MS: millis(15 * 60_000),
  /**
   * Uploads one user may have in progress at once on one instance (429 past it). Default 10: the
   * attachments a message may carry, which the web app uploads side by side.
   */
  MAX_UPLOADS_PER_USER: positiveInt(10),
  /** How long a signed download link (`files.link`, for <img> tags) works. */
  FILE_LINK_TTL_SECONDS: positiveInt(3600),
  /**
   * Where file bytes live: `disk` (DATA_DIR/files, one machine) or `database`
   * (chunks in the database, any instance serves any file). Default: disk with
   * SQLite, database with PostgreSQL.
   */
  FILE_STORAGE: z.enum(['disk', 'database']).optional(),
  /** `false` closes sign-up (tRPC and REST answer 403); the CLI's `create-user` still works. Default true. */
  ALLOW_SIGNUP: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default('true')
    .transform((value) => value === 'true' || value === '1'),
  /** How often a serving instance prunes expired logins and old events (as `pneumatic prune`); 0 never. Default hourly. */
  PRUNE_INTERVAL_MS: int(0, 2 ** 31 - 1).default(3_600_000),
});

/**
 * The development secret: generated once and kept in the data directory, so
 * tokens survive a restart. Production must set SECRET_KEY.
 */
function developmentSecret(dataDir: string): string {
  const file = join(dataDir, 'secret-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

const ConfigSchema = Settings.superRefine((e, ctx) => {
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS)
    ctx.addIssue({
      code: 'custom',
      path: ['HTTP_HEADERS_TIMEOUT_MS'],
      message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS',
    });
  if (e.UPLOAD_TIMEOUT_MS < e.HTTP_REQUEST_TIMEOUT_MS)
    ctx.addIssue({
      code: 'custom',
      path: ['UPLOAD_TIMEOUT_MS'],
      message: 'must not be below HTTP_REQUEST_TIMEOUT_MS',
    });
  if (e.NODE_ENV === 'production' && !e.SECRET_KEY)
    ctx.addIssue({
      code: 'custom',
      path: ['SECRET_KEY'],
      message: 'is required in production (at least 32 characters)',
    });
}).transform((e) => {
  const dataDir = resolve(e.DATA_DIR);
  return {
    ...e,
    HOST: e.HOST ?? (e.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
    DATA_DIR: dataDir,
    DATABASE_URL: e.DATABASE_URL ?? join(dataDir, 'pneumatic.db'),
    FILE_STORAGE: e.FILE_STORAGE ?? (/^postgres(ql)?:\/\//i.test(e.DATABASE_URL ?? '') ? 'database' : 'disk'),
    SECRET_KEY: e.SECRET_KEY ?? developmentSecret(dataDir),
  };
});

export type Config = z.output<typeof ConfigSchema>;

/** A configuration problem, described in one line naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment. The only place that reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  return parsed.data;
}
