import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import {
  type ApiDeps,
  ConnectionHub,
  type EventBus,
  InMemoryPresenceStore,
  InProcessEventBus,
  Presence,
  readLogRange,
  TokenService,
} from '@pneumatic/api';
import {
  createDatabase,
  type DatabaseHandle,
  logRepository,
  migrateToLatest,
  parseDatabaseUrl,
} from '@pneumatic/db';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Config } from './config.ts';
import { isAllowedSocketOrigin, registerHttpHygiene } from './http-hygiene.ts';
import { legacySocketPlugin } from './legacy/legacy-socket.ts';
import { registerHttpRateLimit } from './limits/http-rate-limit.ts';
import { FailedLoginThrottle } from './limits/login-throttle.ts';
import { TwoWindowBudget } from './limits/request-budget.ts';
import { Metrics } from './metrics.ts';
import { connectRedis, waitUntilReady } from './redis.ts';
import { RedisEventBus } from './redis-event-bus.ts';
import { RedisPresenceStore } from './redis-presence.ts';
import { buildOpenApiDocument } from './rest/openapi.ts';
import { restPlugin } from './rest/plugin.ts';
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
  /** Stops accepting, closes sockets, then the bus, Redis and the database. */
  close(): Promise<void>;
}

const HTTP_BODY_LIMIT = 256 * 1024;

export interface ServerOptions {
  /** Open spans (a tracer provider is registered). Default: when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing?: boolean;
}

export async function buildServer(
  config: Config,
  logger: Logger,
  options: ServerOptions = {},
): Promise<Server> {
  const tracing = options.tracing ?? config.otlpEndpoint !== undefined;
  const metrics = new Metrics();
  const dialect = parseDatabaseUrl(config.databaseUrl).dialect;
  const database = createDatabase(config.databaseUrl, {
    sqliteSynchronous: config.sqliteSynchronous,
    onQuery: (ms, failed, sql) => {
      metrics.dbQueryDuration.observe({ outcome: failed ? 'error' : 'ok' }, ms / 1000);
      if (tracing) recordQuerySpan(sql, ms, failed, dialect === 'postgres' ? 'postgresql' : 'sqlite');
    },
  });
  const migration = await migrateToLatest(database.db);
  logger.info(
    { event: 'migrations', applied: migration.applied, database: database.location },
    'database ready',
  );

  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger, 'state') : undefined;
  if (redis && !(await waitUntilReady(redis))) logger.warn({ event: 'redis down' }, 'starting without Redis');
  const redisBus = config.redisUrl
    ? new RedisEventBus(config.redisUrl, await logRepository.readClusterId(database.db), logger)
    : undefined;
  const bus: EventBus =
    redisBus ?? new InProcessEventBus((err) => logger.error({ err }, 'event handler failed'));
  const clusterId = await logRepository.readClusterId(database.db);
  const presence = new Presence(
    redis ? new RedisPresenceStore(redis, clusterId) : new InMemoryPresenceStore(),
    bus,
    { graceMs: config.presenceGraceMs, onError: (err) => logger.warn({ err }, 'presence update failed') },
  );
  const hub = new ConnectionHub(bus, {
    presence,
    startAfter: await logRepository.readLogHead(database.db),
    readLog: (from, to) => readLogRange(database.db, from, to),
    readHead: () => logRepository.readLogHead(database.db),
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
    requestTimeout: 30_000,
    connectionTimeout: 10_000,
    routerOptions: { maxParamLength: 200 },
  });

  // Set before any plugin registers: child contexts copy the handlers they see.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
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

  if (tracing) registerHttpSpans(app);
  await registerHttpHygiene(app, config.corsOrigins);
  registerHttpRateLimit(app, budget, tokens);

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

  await registerTrpc(app, deps, logger, tracing);
  await app.register(restPlugin, { deps, tracing });
  await app.register(legacySocketPlugin, {
    tracing,
    deps,
    onDelivered: (createdAt: string) => metrics.messageDelivered(createdAt, 'legacy'),
  });

  const openapi = buildOpenApiDocument(VERSION);
  await app.register(fastifySwagger, { mode: 'static', specification: { document: openapi as never } });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', async () => openapi);

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
    async close() {
      for (const client of app.websocketServer?.clients ?? []) client.close(1001, 'server shutting down');
      await app.close();
      hub.close();
      presence.close();
      await bus.close();
      redis?.disconnect();
      await database.close();
    },
  };
}
