import type { Socket } from 'node:net';
import type { ApiDeps } from '@pneumatic/api';
import { type DatabaseHandle, parseDatabaseUrl } from '@pneumatic/db';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createApiDeps } from './api-deps.ts';
import { registerApiDocs } from './api-docs.ts';
import type { Config } from './config.ts';
import { reportFailure } from './failures.ts';
import { filesPlugin, isUploadRequest } from './files/files-plugin.ts';
import { registerHttpHygiene } from './http-hygiene.ts';
import { InFlight } from './in-flight.ts';
import { legacySocketPlugin } from './legacy/legacy-socket.ts';
import { registerHttpRateLimit } from './limits/http-rate-limit.ts';
import { Metrics } from './metrics.ts';
import { schedulePrune } from './prune-schedule.ts';
import { enforceRequestDeadlines } from './request-deadlines.ts';
import { inBody, toRestError } from './rest/errors.ts';
import { restPlugin } from './rest/plugin.ts';
import { registerServerTiming } from './server-timing.ts';
import { LiveSockets } from './sockets/live-sockets.ts';
import { SocketCaps } from './sockets/socket-caps.ts';
import { MAX_FRAME_BYTES, SHUTTING_DOWN } from './sockets/socket-limits.ts';
import { SocketUpgrades } from './sockets/upgrades.ts';
import { recordQuerySpan, registerHttpSpans } from './tracing.ts';
import { registerTrpc } from './trpc-host.ts';
import { registerWebApp } from './web-app.ts';

export const VERSION = '0.1.0';

export interface Server {
  app: FastifyInstance;
  deps: ApiDeps;
  metrics: Metrics;
  database: DatabaseHandle;
  redis: Redis | undefined;
  /** Where sockets are upgraded: its `server` emits `connection` with each socket and its request. */
  upgrades: SocketUpgrades;
  /**
   * Stops taking new work, lets frames in flight finish (up to `graceMs`),
   * closes sockets and waits for HTTP requests in flight, then closes the
   * bus, Redis and the database.
   */
  close(graceMs?: number): Promise<void>;
}

const HTTP_BODY_LIMIT = 256 * 1024;

/** How long close() waits by default for socket frames in flight. */
const DEFAULT_DRAIN_MS = 5000;

export interface ServerOptions {
  /** Open spans (a tracer provider is registered). Default: when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracing?: boolean;
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
  const tracing = options.tracing ?? config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined;
  const metrics = new Metrics();
  const dialect = parseDatabaseUrl(config.DATABASE_URL).dialect;
  const runtime = await createApiDeps(config, {
    logger,
    serving: true,
    tracing,
    onQuery: (ms, failed, text) => {
      metrics.dbQueryDuration.labels(failed ? 'error' : 'ok').observe(ms / 1000);
      if (tracing) recordQuerySpan(text, ms, failed, dialect === 'postgres' ? 'postgresql' : 'sqlite');
    },
    onRateLimited: (window) => metrics.rateLimited.inc({ window }),
    observer: {
      messageStored: (message) => {
        metrics.messageStored();
        if (logger.isLevelEnabled('debug'))
          logger.debug({
            event: 'message stored',
            messageId: message.id,
            conversationId: message.conversation_id,
          });
      },
      sessionRevoked: (sessionId, reason) => logger.info({ event: 'session revoked', sessionId, reason }),
      procedureDone: (path, type, ms, code) => {
        metrics.procedureDuration.labels(path, type).observe(ms / 1000);
        if (code) metrics.procedureErrors.inc({ path, code });
      },
      subscriptionsChanged: (delta) => metrics.subscriptionsChanged(delta),
      batchWritten: (size) => metrics.batchSize.observe(size),
      messageDelivered: (createdAt, transport) => metrics.messageDelivered(createdAt, transport),
    },
  });
  const { deps, redis, redisBus } = runtime;
  const { database } = deps;
  const stopPruning = schedulePrune(deps, config.PRUNE_INTERVAL_MS, logger);

  const app = Fastify({
    // pino's Logger carries more than fastify's logger type declares.
    loggerInstance: logger as FastifyBaseLogger,
    trustProxy: config.TRUST_PROXY,
    bodyLimit: HTTP_BODY_LIMIT,
    // Slow clients (slowloris): headers must arrive in time (node checks every
    // `connectionsCheckingInterval`), then the whole request (request-deadlines.ts: an upload
    // has a deadline of its own, which node's one timeout for every request cannot give).
    http: {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: 0,
      connectionsCheckingInterval: Math.min(
        30_000,
        Math.max(50, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 10)),
      ),
    },
    requestTimeout: 0,
    connectionTimeout: config.HTTP_IDLE_TIMEOUT_MS,
    routerOptions: { maxParamLength: 200 },
    // Errors fastify meets before a route runs keep the contract's `{detail}` shape.
    frameworkErrors: (error, _request, reply) => {
      // The generic reply type of this option accepts no concrete body; the plain reply does.
      (reply as FastifyReply).code(error.statusCode ?? 400).send({ detail: error.message });
    },
    clientErrorHandler: answerClientError,
  });

  // Set before any plugin registers: child contexts copy the handlers they see.
  app.setErrorHandler((error, request, reply) => {
    const restError = toRestError(reportFailure(request.log, error), inBody);
    return reply
      .code(restError.status)
      .headers(restError.headers ?? {})
      .send(restError.body);
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));
  // Every line a request logs carries its route (and, once known, its user). Sockets log through
  // their transport's logger, which carries its route and user (their upgrades are not requests
  // here: sockets/upgrades.ts).
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
  await registerHttpHygiene(app, config.CORS_ORIGINS);
  if (deps.budget) registerHttpRateLimit(app, deps, deps.budget);

  const caps = new SocketCaps({
    perUser: config.MAX_SOCKETS_PER_USER,
    perAddress: config.MAX_SOCKETS_PER_ADDRESS,
    onRefused: (reason) => metrics.socketsRefused.inc({ reason }),
  });
  const legacyFrames = new InFlight();
  const sockets = new LiveSockets(deps, {
    pingMs: config.SOCKET_PING_MS,
    pongTimeoutMs: config.SOCKET_PONG_TIMEOUT_MS,
    authTimeoutMs: config.SOCKET_AUTH_TIMEOUT_MS,
    sessionCheckMs: config.SOCKET_SESSION_CHECK_MS,
    caps,
    onOpen: (transport) => metrics.opened(transport),
    onClose: (transport) => metrics.closed(transport),
    onError: (err) => logger.warn({ err }, 'socket session check failed'),
    onSocketError: (err, transport) => logger.warn({ err, transport }, 'socket error'),
  });

  // Every socket, /trpc and /ws, is upgraded past fastify's request lifecycle (upgrades.ts), and
  // kept alive and timed by one sweep (`sockets`, which the transports open each socket with).
  const upgrades = new SocketUpgrades({
    deps,
    logger,
    caps,
    trustProxy: config.TRUST_PROXY,
    corsOrigins: config.CORS_ORIGINS,
    maxPayload: MAX_FRAME_BYTES,
    http: (request, response) => app.routing(request, response),
    onRefused: (reason) => metrics.socketsRefused.inc({ reason }),
  });
  upgrades.attach(app.server);
  app.addHook('preClose', (done) => {
    upgrades.close();
    done();
  });

  enforceRequestDeadlines(app.server, {
    requestMs: config.HTTP_REQUEST_TIMEOUT_MS,
    uploadMs: config.UPLOAD_TIMEOUT_MS,
    isUpload: isUploadRequest,
  });
  await registerTrpc(app, deps, logger, { tracing, sockets, upgrades });
  await app.register(restPlugin, { deps, tracing });
  await app.register(filesPlugin, {
    deps,
    stallTimeoutMs: config.UPLOAD_STALL_TIMEOUT_MS,
    maxUploadsPerUser: config.MAX_UPLOADS_PER_USER,
    sweepIntervalMs: Math.min(60_000, config.UPLOAD_PENDING_TTL_SECONDS * 1000),
  });
  await app.register(legacySocketPlugin, {
    tracing,
    deps,
    sockets,
    upgrades,
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

  await registerWebApp(app, config.WEB_DIST);

  return {
    app,
    deps,
    metrics,
    database,
    redis,
    upgrades,
    async close(graceMs = DEFAULT_DRAIN_MS) {
      // Frames already taken finish while their sockets are open, so their answers still go out.
      if (!(await legacyFrames.drain(graceMs)))
        logger.warn({ event: 'shutdown', inFlight: legacyFrames.count }, 'socket frames still in flight');
      stopPruning();
      await deps.writer.idle();
      sockets.closeAll(SHUTTING_DOWN.code, SHUTTING_DOWN.reason);
      // Waits for HTTP requests in flight; sends they queued are written before the database closes.
      // A client that never finishes its request (an upload refused mid-body, a stalled one) must
      // not hold the shutdown: after the grace its connection is cut.
      const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
      await app.close();
      clearTimeout(cut);
      sockets.close();
      await runtime.close();
    },
  };
}
