import type { Socket } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import {
  type ApiDeps,
  ConnectionHub,
  catchUpSearchIndex,
  type EventBus,
  finishPendingSends,
  followLogOf,
  InMemoryPresenceStore,
  InProcessEventBus,
  Presence,
  TokenService,
} from '@pneumatic/api';
import {
  conversationsRepository,
  createDatabase,
  type DatabaseHandle,
  logRepository,
  migrateToLatest,
  parseDatabaseUrl,
} from '@pneumatic/db';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { registerApiDocs } from './api-docs.ts';
import { every } from './background-job.ts';
import type { Config } from './config.ts';
import { databaseOutage, OUTAGE_MESSAGES } from './database-errors.ts';
import { isAllowedSocketOrigin, registerHttpHygiene } from './http-hygiene.ts';
import { InFlight } from './in-flight.ts';
import { legacySocketPlugin } from './legacy/legacy-socket.ts';
import { registerHttpRateLimit } from './limits/http-rate-limit.ts';
import { FailedLoginThrottle } from './limits/login-throttle.ts';
import { TwoWindowBudget } from './limits/request-budget.ts';
import { SocketCaps, TOO_MANY_ADDRESS_SOCKETS } from './limits/socket-caps.ts';
import { Metrics } from './metrics.ts';
import { restPlugin } from './rest/plugin.ts';
import { registerServerTiming } from './server-timing.ts';
import { SessionWatch } from './session-watch.ts';
import { databaseStartupError } from './startup-error.ts';
import { recordQuerySpan, registerHttpSpans } from './tracing.ts';
import { registerTrpc } from './trpc-host.ts';
import { registerWebApp } from './web-app.ts';
import { MAX_FRAME_BYTES } from './ws-limits.ts';

export const VERSION = '0.1.0';

export interface Server {
  app: FastifyInstance;
  deps: ApiDeps;
  metrics: Metrics;
  database: DatabaseHandle;
  redis: Redis | undefined;
  /**
   * Stops taking new work, lets frames in flight finish (up to `graceMs`),
   * closes sockets and waits for HTTP requests in flight, then closes the
   * bus, Redis and the database.
   */
  close(graceMs?: number): Promise<void>;
}

const HTTP_BODY_LIMIT = 256 * 1024;
/** How often SQLite's search index takes in the messages sent since. */
const SEARCH_INDEX_INTERVAL_MS = 1000;

/** How long close() waits by default for socket frames in flight. */
const DEFAULT_DRAIN_MS = 5000;

/** Opens and migrates the database, and checks it takes writes; a failure is one clear line. */
async function openDatabase(
  config: Config,
  logger: Logger,
  options: Parameters<typeof createDatabase>[1],
): Promise<DatabaseHandle> {
  let database: DatabaseHandle | undefined;
  try {
    database = createDatabase(config.databaseUrl, options);
    const migration = await migrateToLatest(database.db);
    // A read-only file opens and migrates (nothing to apply) yet refuses every send: say so now.
    await sql`update meta set value = value where key = 'cluster_id'`.execute(database.db);
    logger.info(
      { event: 'migrations', applied: migration.applied, database: database.location },
      'database ready',
    );
    return database;
  } catch (error) {
    await database?.close().catch(() => {});
    const { dialect, target } = parseDatabaseUrl(config.databaseUrl);
    throw databaseStartupError(database?.location ?? (dialect === 'sqlite' ? target : 'PostgreSQL'), error);
  }
}

export interface ServerOptions {
  /** Open spans (a tracer provider is registered). Default: when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing?: boolean;
}

function isUpgrade(request: FastifyRequest): boolean {
  return request.raw.headers.upgrade?.toLowerCase() === 'websocket';
}

/** Answers a request node could not take (timed out, headers too large, malformed) and drops the connection. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, detail] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'Request timeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'Request headers too large']
        : [400, 'Bad Request', 'Bad request'];
  const body = JSON.stringify({ detail });
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  socket.destroy(error);
}

export async function buildServer(
  config: Config,
  logger: Logger,
  options: ServerOptions = {},
): Promise<Server> {
  const tracing = options.tracing ?? config.otlpEndpoint !== undefined;
  const metrics = new Metrics();
  const dialect = parseDatabaseUrl(config.databaseUrl).dialect;
  const database = await openDatabase(config, logger, {
    sqliteSynchronous: config.sqliteSynchronous,
    backgroundCheckpoints: true,
    onBackgroundError: (err) => logger.warn({ err }, 'database background task failed; working inline'),
    onQuery: (ms, failed, text) => {
      metrics.dbQueryDuration.observe({ outcome: failed ? 'error' : 'ok' }, ms / 1000);
      if (tracing) recordQuerySpan(text, ms, failed, dialect === 'postgres' ? 'postgresql' : 'sqlite');
    },
  });

  // SQLite indexes sent messages for search in batches, off the send path.
  const searchIndexing =
    dialect === 'sqlite'
      ? every(
          SEARCH_INDEX_INTERVAL_MS,
          () => catchUpSearchIndex({ database }),
          (err) => logger.warn({ err }, 'search indexing failed'),
        )
      : undefined;

  // ioredis and the Redis-backed stores are loaded only when Redis is configured.
  const shared = config.redisUrl
    ? { url: config.redisUrl, ...(await import('./redis-backends.ts')) }
    : undefined;
  const redis = shared?.connectRedis(shared.url, logger, 'state');
  if (shared && redis && !(await shared.waitUntilReady(redis)))
    logger.warn({ event: 'redis down' }, 'starting without Redis');
  const redisBus = shared
    ? new shared.RedisEventBus(shared.url, await logRepository.readClusterId(database.db), logger)
    : undefined;
  const bus: EventBus =
    redisBus ?? new InProcessEventBus((err) => logger.error({ err }, 'event handler failed'));
  const clusterId = await logRepository.readClusterId(database.db);
  const presence = new Presence(
    shared && redis ? new shared.RedisPresenceStore(redis, clusterId) : new InMemoryPresenceStore(),
    bus,
    (userId) => conversationsRepository.listContactIds(database.db, userId),
    { graceMs: config.presenceGraceMs, onError: (err) => logger.warn({ err }, 'presence update failed') },
  );
  const hub = new ConnectionHub(bus, {
    presence,
    ...(await followLogOf(database.db)),
    // With several instances, compare with the database now and then: pub/sub may drop.
    catchUpIntervalMs: redisBus ? 2000 : 0,
    onError: (err) => logger.error({ err }, 'event delivery failed'),
  });
  if (redisBus) await redisBus.ready();
  redisBus?.onReconnect(() => void hub.catchUp().catch((err) => logger.error({ err }, 'catch-up failed')));
  const tokens = new TokenService({
    secret: config.secretKey,
    accessTtlSeconds: config.accessTtlSeconds,
    refreshTtlSeconds: config.refreshTtlSeconds,
  });
  const budget = new TwoWindowBudget({
    perMinute: config.rateLimitPerMinute,
    perHour: config.rateLimitPerHour,
    redis,
    onRefused: (window) => metrics.rateLimited.inc({ window }),
  });
  const deps: ApiDeps = {
    database,
    tokens,
    bus,
    hub,
    budget,
    loginThrottle: new FailedLoginThrottle(redis),
    presence,
    settings: { passwordMinLength: config.passwordMinLength, replayLimit: config.replayLimit, tracing },
    observer: {
      messageStored: (message) => {
        metrics.messageStored();
        logger.debug({
          event: 'message stored',
          messageId: message.id,
          conversationId: message.conversation_id,
        });
      },
      sessionRevoked: (sessionId, reason) => logger.info({ event: 'session revoked', sessionId, reason }),
      procedureDone: (path, type, ms, code) => {
        metrics.procedureDuration.observe({ path, type }, ms / 1000);
        if (code) metrics.procedureErrors.inc({ path, code });
      },
      subscriptionsChanged: (delta) => metrics.subscriptionsActive.inc(delta),
      batchWritten: (size) => metrics.batchSize.observe(size),
      messageDelivered: (createdAt, transport) => metrics.messageDelivered(createdAt, transport),
    },
  };

  const app = Fastify({
    // pino's Logger carries more than fastify's logger type declares.
    loggerInstance: logger as FastifyBaseLogger,
    trustProxy: config.trustProxy,
    bodyLimit: HTTP_BODY_LIMIT,
    // Slow clients (slowloris): headers, then the whole request, must arrive in time;
    // node checks both every `connectionsCheckingInterval`.
    http: {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      connectionsCheckingInterval: Math.min(
        30_000,
        Math.max(50, Math.floor(config.httpHeadersTimeoutMs / 10)),
      ),
    },
    requestTimeout: config.httpRequestTimeoutMs,
    connectionTimeout: config.httpIdleTimeoutMs,
    routerOptions: { maxParamLength: 200 },
    // Errors fastify meets before a route runs keep the contract's `{detail}` shape.
    frameworkErrors: (error, _request, reply) => {
      // The generic reply type of this option accepts no concrete body; the plain reply does.
      (reply as FastifyReply).code(error.statusCode ?? 400).send({ detail: error.message });
    },
    clientErrorHandler: answerClientError,
  });

  // Set before any plugin registers: child contexts copy the handlers they see.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      const outage = databaseOutage(error);
      if (outage) {
        request.log.warn({ err: error }, 'database unavailable');
        return reply.code(503).header('retry-after', '1').send({ detail: OUTAGE_MESSAGES[outage] });
      }
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ detail: 'Internal server error' });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
      return reply.code(422).send({ detail: [{ loc: ['body'], msg: 'Invalid JSON', type: 'json_invalid' }] });
    }
    return reply.code(status).send({ detail: error.message });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));
  // Every line a request logs carries its route (and, once known, its user).
  app.addHook('onRequest', async (request, reply) => {
    const child = request.log.child({ route: request.routeOptions.url ?? 'unmatched' });
    request.log = child;
    reply.log = child;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  registerServerTiming(app);

  if (tracing) registerHttpSpans(app);
  await registerHttpHygiene(app, config.corsOrigins);
  registerHttpRateLimit(app, budget, tokens);

  const caps = new SocketCaps({
    perUser: config.maxSocketsPerUser,
    perAddress: config.maxSocketsPerAddress,
    onRefused: (reason) => metrics.socketsRefused.inc({ reason }),
  });
  // Per address at the upgrade, before any token is read; the connection counts until it closes.
  app.addHook('onRequest', async (request, reply) => {
    if (!isUpgrade(request)) return;
    if (caps.admitAddress(request.ip, request.raw.socket)) return;
    return reply.code(TOO_MANY_ADDRESS_SOCKETS.status).send({ detail: TOO_MANY_ADDRESS_SOCKETS.detail });
  });
  // An upgrade answered over HTTP (refused: 429, 404…) must hang up: node stopped timing
  // that connection out when it saw the upgrade, so it would stay open for as long as the client likes.
  app.addHook('onResponse', async (request) => {
    if (isUpgrade(request)) request.raw.socket.destroy();
  });
  const legacyFrames = new InFlight();
  const sessions = new SessionWatch(deps, config.socketSessionCheckMs, (err) =>
    logger.warn({ err }, 'socket session check failed'),
  );

  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: MAX_FRAME_BYTES,
      verifyClient: ({ origin, req }, done) =>
        done(isAllowedSocketOrigin(origin, req.headers.host, config.corsOrigins), 403, 'Origin not allowed'),
    },
  });
  app.websocketServer.on('connection', (ws: WebSocket, req: { url?: string }) => {
    const transport = req.url?.startsWith('/ws') ? 'legacy' : 'trpc';
    metrics.opened(transport);
    ws.once('close', () => metrics.closed(transport));
  });

  await registerTrpc(app, deps, logger, {
    tracing,
    caps,
    sessions,
    socketAuthTimeoutMs: config.socketAuthTimeoutMs,
  });
  await app.register(restPlugin, { deps, tracing });
  await app.register(legacySocketPlugin, {
    tracing,
    deps,
    caps,
    sessions,
    frames: legacyFrames,
    onDelivered: (createdAt: string) => metrics.messageDelivered(createdAt, 'legacy'),
  });

  registerApiDocs(app, VERSION);

  app.get('/health', async () => ({ status: 'healthy' }));
  app.get('/ready', async (_request, reply) => {
    try {
      await database.ping();
    } catch {
      return reply.code(503).send({ status: 'not ready', error: 'database unavailable' });
    }
    if (redis) {
      try {
        await Promise.all([redis.ping(), redisBus?.ping()]);
      } catch {
        return reply.code(503).send({ status: 'not ready', error: 'redis unavailable' });
      }
    }
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  await registerWebApp(app, config.webDist);

  return {
    app,
    deps,
    metrics,
    database,
    redis,
    async close(graceMs = DEFAULT_DRAIN_MS) {
      // Frames already taken finish while their sockets are open, so their answers still go out.
      if (!(await legacyFrames.drain(graceMs)))
        logger.warn({ event: 'shutdown', inFlight: legacyFrames.count }, 'socket frames still in flight');
      await finishPendingSends(deps);
      for (const client of app.websocketServer?.clients ?? []) client.close(1001, 'server shutting down');
      // Waits for HTTP requests in flight; sends they queued are written before the database closes.
      await app.close();
      await finishPendingSends(deps);
      sessions.close();
      hub.close();
      presence.close();
      await bus.close();
      redis?.disconnect();
      await searchIndexing?.stop();
      await database.close();
    },
  };
}
