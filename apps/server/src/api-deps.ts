import { join } from 'node:path';
import {
  type ApiDeps,
  type ApiObserver,
  ConnectionHub,
  type EventBus,
  FileLinks,
  followLogOf,
  InMemoryPresenceStore,
  InProcessEventBus,
  MessageWriter,
  Presence,
  TokenService,
} from '@pneumatic/api';
import {
  conversationsRepository,
  createDatabase,
  type DatabaseHandle,
  type DatabaseOptions,
  databaseFileStore,
  diskFileStore,
  logRepository,
  migrateToLatest,
  parseDatabaseUrl,
  pendingMigrations,
  SqliteWriter,
} from '@pneumatic/db';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { FailedLoginThrottle } from './limits/login-throttle.ts';
import { TwoWindowBudget } from './limits/request-budget.ts';
import { createLogger } from './logger.ts';
import type { RedisEventBus } from './redis-event-bus.ts';
import { databaseStartupError } from './startup-error.ts';

export interface ApiRuntime {
  deps: ApiDeps;
  /** Set when REDIS_URL is: the connection for shared state (presence, budgets, throttles). */
  redis: Redis | undefined;
  /** Set when REDIS_URL is: the bus between instances. */
  redisBus: RedisEventBus | undefined;
  /** Writes the sends in flight, then closes the hub, presence, bus, Redis and the database. */
  close(): Promise<void>;
}

export interface ApiRuntimeOptions {
  logger: Logger;
  /**
   * A serving process: Redis for state shared between instances, SQLite's
   * writer thread (messages and their search indexing) and background
   * checkpoints, rate limits and login throttles. A CLI command gets none of
   * these: it works on the database and exits (running servers catch up
   * from the database).
   */
  serving: boolean;
  /**
   * A CLI command whose changes running servers must hear of at once (a
   * disabled user's sockets closed, a group's members changed): with
   * REDIS_URL, it publishes on the instances' bus. Without Redis, servers
   * see it at their next session check (SOCKET_SESSION_CHECK_MS); tokens
   * are refused at once either way.
   */
  announce?: boolean;
  /** Hooks for metrics and logs. */
  observer?: ApiObserver;
  /** Procedures open spans. */
  tracing?: boolean;
  /** Told of every query, for metrics and spans. */
  onQuery?: DatabaseOptions['onQuery'];
  /** Told of every request refused by the rate limit, for metrics. */
  onRateLimited?: (window: 'minute' | 'hour') => void;
}

/** Opens and migrates the database, and checks it takes writes; a failure is one clear line. */
async function openDatabase(
  config: Config,
  logger: Logger,
  options: DatabaseOptions,
): Promise<DatabaseHandle> {
  let database: DatabaseHandle | undefined;
  try {
    database = createDatabase(config.DATABASE_URL, options);
    const pending = await pendingMigrations(database.db);
    // Some rebuild a table (0012: about half a minute a million messages): say so before.
    if (pending.length > 0)
      logger.info({ event: 'migrations', pending, database: database.location }, 'applying migrations');
    const migration = await migrateToLatest(database.db);
    // A read-only file opens and migrates (nothing to apply) yet refuses every send: say so now.
    await sql`update meta set value = value where key = 'cluster_id'`.execute(database.db);
    // The writer thread starts now, not with the first send (which would wait for it).
    await database.messages.start();
    logger.info(
      {
        event: 'migrations',
        applied: migration.applied,
        database: database.location,
        // The SQLite writer gathers each commit's WAL frames into a few writes (wal-buffer).
        ...(database.messages instanceof SqliteWriter ? { walBuffered: database.messages.walBuffered } : {}),
      },
      'database ready',
    );
    return database;
  } catch (error) {
    await database?.close().catch(() => {});
    const { dialect, target } = parseDatabaseUrl(config.DATABASE_URL);
    throw databaseStartupError(database?.location ?? (dialect === 'sqlite' ? target : 'PostgreSQL'), error);
  }
}

/**
 * Everything the API's procedures need, built in one place for the server
 * and for the CLI, and closed in the right order: the writer (and the sends
 * it holds) before the database.
 */
export async function createApiDeps(config: Config, options: ApiRuntimeOptions): Promise<ApiRuntime> {
  const { logger, serving } = options;
  const database = await openDatabase(config, logger, {
    sqliteSynchronous: config.SQLITE_SYNCHRONOUS,
    backgroundCheckpoints: serving,
    writerThread: serving,
    onBackgroundError: (err) => logger.warn({ err }, 'database background task failed; working inline'),
    onQuery: options.onQuery,
  });
  // ioredis and the Redis-backed stores are loaded only when Redis is configured.
  const shared =
    (serving || options.announce) && config.REDIS_URL
      ? { url: config.REDIS_URL, ...(await import('./redis-backends.ts')) }
      : undefined;
  const redis = serving ? shared?.connectRedis(shared.url, logger, 'state') : undefined;
  if (shared && redis && !(await shared.waitUntilReady(redis)))
    logger.warn({ event: 'redis down' }, 'starting without Redis');
  const clusterId = await logRepository.readClusterId(database.db);
  const redisBus = shared ? new shared.RedisEventBus(shared.url, clusterId, logger) : undefined;
  const bus: EventBus =
    redisBus ?? new InProcessEventBus((err) => logger.error({ err }, 'event handler failed'));
  const presence = new Presence(
    shared && redis ? new shared.RedisPresenceStore(redis, clusterId) : new InMemoryPresenceStore(),
    bus,
    (userIds) => conversationsRepository.listContactIdsOf(database.db, userIds),
    { graceMs: config.PRESENCE_GRACE_MS, onError: (err) => logger.warn({ err }, 'presence update failed') },
  );
  const hub = new ConnectionHub(bus, {
    presence,
    ...(await followLogOf(database.db)),
    // With several instances, compare with the database now and then: pub/sub may drop.
    catchUpIntervalMs: redisBus ? 2000 : 0,
    onError: (err) => logger.error({ err }, 'event delivery failed'),
  });
  if (redisBus) {
    await redisBus.ready();
    redisBus.onReconnect(() => void hub.catchUp().catch((err) => logger.error({ err }, 'catch-up failed')));
  }
  const observer = options.observer ?? {};
  const deps: ApiDeps = {
    database,
    tokens: new TokenService({
      secret: config.SECRET_KEY,
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    }),
    bus,
    hub,
    writer: new MessageWriter({ database, bus, observer }),
    presence,
    budget: serving
      ? new TwoWindowBudget({
          perMinute: config.RATE_LIMIT_PER_MINUTE,
          perHour: config.RATE_LIMIT_PER_HOUR,
          redis,
          onRefused: options.onRateLimited,
        })
      : undefined,
    loginThrottle: serving ? new FailedLoginThrottle(redis) : undefined,
    settings: {
      passwordMinLength: config.PASSWORD_MIN_LENGTH,
      replayLimit: config.REPLAY_LIMIT,
      tracing: options.tracing ?? false,
      allowSignup: config.ALLOW_SIGNUP,
      uploads: {
        maxBytes: config.MAX_UPLOAD_BYTES,
        quotaBytesPerDay: config.UPLOAD_QUOTA_BYTES_PER_DAY,
        pendingTtlSeconds: config.UPLOAD_PENDING_TTL_SECONDS,
      },
    },
    observer,
    files:
      config.FILE_STORAGE === 'database'
        ? databaseFileStore(database.db)
        : diskFileStore(join(config.DATA_DIR, 'files')),
    fileLinks: new FileLinks(config.SECRET_KEY, config.FILE_LINK_TTL_SECONDS),
  };

  return {
    deps,
    redis,
    redisBus,
    async close() {
      await deps.writer.close();
      hub.close();
      presence.close();
      await bus.close();
      redis?.disconnect();
      await database.close();
    },
  };
}

/**
 * Runs `fn` with the API's dependencies, as a CLI command does, and closes
 * them after. Warnings go to stderr; stdout is the command's own.
 */
export async function withApiDeps<T>(
  config: Config,
  fn: (deps: ApiDeps) => Promise<T>,
  options: Pick<ApiRuntimeOptions, 'announce'> = {},
): Promise<T> {
  const logger = createLogger('warn', { destination: process.stderr });
  const runtime = await createApiDeps(config, { logger, serving: false, ...options });
  try {
    return await fn(runtime.deps);
  } finally {
    await runtime.close();
  }
}
