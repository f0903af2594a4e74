import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

const positiveInt = (fallback: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive('must be positive')
    .default(fallback);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number({ error: 'must be a number' }).int().min(0).max(65_535).default(8000),
  HOST: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().min(1).optional(),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt(1800),
  REFRESH_TOKEN_TTL_SECONDS: positiveInt(7 * 24 * 3600),
  PASSWORD_MIN_LENGTH: z.coerce.number({ error: 'must be a number' }).int().min(1).max(1024).default(8),
  CORS_ORIGINS: z.string().default(''),
  RATE_LIMIT_PER_MINUTE: positiveInt(60),
  RATE_LIMIT_PER_HOUR: positiveInt(1000),
  TRUST_PROXY: z.string().default('false'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url('must be a URL').optional(),
  SQLITE_SYNCHRONOUS: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
  REPLAY_LIMIT: positiveInt(1000),
  PRESENCE_GRACE_MS: z.coerce.number({ error: 'must be a number' }).int().min(0).max(300_000).default(5000),
  WEB_DIST: z.string().optional(),
  HTTP_HEADERS_TIMEOUT_MS: positiveInt(10_000),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(30_000),
  HTTP_IDLE_TIMEOUT_MS: positiveInt(10_000),
  SOCKET_AUTH_TIMEOUT_MS: positiveInt(10_000),
  SOCKET_SESSION_CHECK_MS: positiveInt(60_000),
  MAX_SOCKETS_PER_USER: positiveInt(20),
  MAX_SOCKETS_PER_ADDRESS: positiveInt(100),
});

export type Config = {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  secretKey: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  passwordMinLength: number;
  corsOrigins: string[];
  rateLimitPerMinute: number;
  rateLimitPerHour: number;
  /** Passed to fastify's trustProxy: false, true, or trusted addresses (comma-separated). */
  trustProxy: boolean | string | ((address: string, hop: number) => boolean);
  redisUrl: string | undefined;
  logLevel: string;
  otlpEndpoint: string | undefined;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  replayLimit: number;
  /** How long a user stays online after their last device leaves. */
  presenceGraceMs: number;
  webDist: string | undefined;
  /** A client must finish sending request headers within this; else 408 and the connection closes. Default 10 s. */
  httpHeadersTimeoutMs: number;
  /** A client must finish sending a whole request (headers and body) within this. Default 30 s. */
  httpRequestTimeoutMs: number;
  /** A connection with no traffic for this long is closed (WebSockets excepted). Default 10 s. */
  httpIdleTimeoutMs: number;
  /** A tRPC socket must present its token (connectionParams) within this; else 1008. Default 10 s. */
  socketAuthTimeoutMs: number;
  /** How often live sockets re-check their login (a user deleted, a session revoked in the database). Default 60 s. */
  socketSessionCheckMs: number;
  /** Open sockets (tRPC and /ws together) one user may hold on one instance. Default 20. */
  maxSocketsPerUser: number;
  /** Open sockets one client address may hold on one instance, authenticated or not. Default 100. */
  maxSocketsPerAddress: number;
};

/** A configuration problem, described in one line naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseTrustProxy(value: string): Config['trustProxy'] {
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value;
}

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

/** Reads and validates the environment. The only place that reads process.env. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
  }
  const e = parsed.data;
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError(
      'Invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS',
    );
  }
  const dataDir = resolve(e.DATA_DIR);
  if (e.NODE_ENV === 'production' && !e.SECRET_KEY) {
    throw new ConfigError(
      'Invalid configuration: SECRET_KEY is required in production (at least 32 characters)',
    );
  }
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST ?? (e.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
    dataDir,
    databaseUrl: e.DATABASE_URL ?? join(dataDir, 'pneumatic.db'),
    secretKey: e.SECRET_KEY ?? developmentSecret(dataDir),
    accessTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
    passwordMinLength: e.PASSWORD_MIN_LENGTH,
    corsOrigins: e.CORS_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    rateLimitPerHour: e.RATE_LIMIT_PER_HOUR,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    redisUrl: e.REDIS_URL,
    logLevel: e.LOG_LEVEL,
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
    sqliteSynchronous: e.SQLITE_SYNCHRONOUS,
    replayLimit: e.REPLAY_LIMIT,
    presenceGraceMs: e.PRESENCE_GRACE_MS,
    webDist: e.WEB_DIST,
    httpHeadersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    httpIdleTimeoutMs: e.HTTP_IDLE_TIMEOUT_MS,
    socketAuthTimeoutMs: e.SOCKET_AUTH_TIMEOUT_MS,
    socketSessionCheckMs: e.SOCKET_SESSION_CHECK_MS,
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    maxSocketsPerAddress: e.MAX_SOCKETS_PER_ADDRESS,
  };
}
