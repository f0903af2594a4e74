import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import {
  type ApiDeps,
  appRouter,
  authenticate,
  ConnectionHub,
  type Context,
  createContextFactory,
  InProcessEventBus,
  readLogRange,
  TokenService,
} from '@pneumatic/api';
import { createDatabase, type DatabaseHandle, logRepository, migrateToLatest } from '@pneumatic/db';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import type { Config } from './config.ts';
import { legacySocketPlugin } from './legacy/legacy-socket.ts';
import { Metrics } from './metrics.ts';
import { buildOpenApiDocument } from './rest/openapi.ts';
import { restPlugin } from './rest/plugin.ts';
import { MAX_FRAME_BYTES, shedIfStalled, TOKEN_EXPIRED } from './ws-limits.ts';

export const VERSION = '0.1.0';

export interface Server {
  app: FastifyInstance;
  deps: ApiDeps;
  metrics: Metrics;
  database: DatabaseHandle;
  /** Stops accepting, closes sockets, then the database. */
  close(): Promise<void>;
}

const HTTP_BODY_LIMIT = 256 * 1024;

export async function buildServer(config: Config, logger: Logger): Promise<Server> {
  const database = createDatabase(config.databaseUrl, { sqliteSynchronous: config.sqliteSynchronous });
  const migration = await migrateToLatest(database.db);
  logger.info(
    { event: 'migrations', applied: migration.applied, database: database.location },
    'database ready',
  );

  const metrics = new Metrics();
  const bus = new InProcessEventBus((err) => logger.error({ err }, 'event handler failed'));
  const hub = new ConnectionHub(bus, {
    startAfter: await logRepository.readLogHead(database.db),
    readLog: (from, to) => readLogRange(database.db, from, to),
    onError: (err) => logger.error({ err }, 'event delivery failed'),
  });
  const deps: ApiDeps = {
    database,
    tokens: new TokenService({
      secret: config.secretKey,
      accessTtlSeconds: config.accessTtlSeconds,
      refreshTtlSeconds: config.refreshTtlSeconds,
    }),
    bus,
    hub,
    settings: { passwordMinLength: config.passwordMinLength, replayLimit: config.replayLimit },
    observer: {
      messageStored: () => metrics.messageStored(),
      sessionRevoked: (sessionId, reason) => logger.info({ event: 'session revoked', sessionId, reason }),
    },
  };
  const createContext = createContextFactory(deps);

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
  app.setErrorHandler((error: Error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ detail: 'Internal server error' });
    }
    if (
      (error as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      error instanceof SyntaxError
    ) {
      return reply.code(422).send({ detail: [{ loc: ['body'], msg: 'Invalid JSON', type: 'json_invalid' }] });
    }
    return reply.code(status).send({ detail: error.message });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));

  await app.register(fastifyWebsocket, { options: { maxPayload: MAX_FRAME_BYTES } });
  app.websocketServer.on('connection', (ws: WebSocket, req: { url?: string }) => {
    const transport = req.url?.startsWith('/ws') ? 'legacy' : 'trpc';
    metrics.opened(transport);
    ws.once('close', () => metrics.closed(transport));
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    useWSS: true,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    trpcOptions: {
      router: appRouter,
      async createContext({ req, res, info }): Promise<Context> {
        if (!(res instanceof WebSocket)) {
          const match = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
          return createContext(match ? match[1]! : req.headers.authorization ? '' : null);
        }
        // A socket authenticates once, with the token in connectionParams.
        const params = info.connectionParams;
        const token = typeof params?.token === 'string' ? params.token : null;
        const auth = await authenticate(deps, token);
        const ws = res;
        const unbind = hub.bindToSession(auth.sessionId, ws);
        const expiry = setTimeout(
          () => ws.close(TOKEN_EXPIRED.code, TOKEN_EXPIRED.reason),
          Math.max(0, auth.expiresAt - Date.now()),
        );
        ws.once('close', () => {
          unbind();
          clearTimeout(expiry);
        });
        return createContext(token, { auth, socket: { shedIfStalled: () => shedIfStalled(ws) } });
      },
      onError({ error, path, type }) {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          logger.error({ err: error, path, type }, 'procedure failed');
      },
    } satisfies FastifyTRPCPluginOptions<typeof appRouter>['trpcOptions'],
  });

  await app.register(restPlugin, { deps });
  await app.register(legacySocketPlugin, { deps });

  const openapi = buildOpenApiDocument(VERSION);
  await app.register(fastifySwagger, { mode: 'static', specification: { document: openapi as never } });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', async () => openapi);

  app.get('/health', async () => ({ status: 'healthy' }));
  app.get('/ready', async (_request, reply) => {
    try {
      await database.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'not ready', error: 'database unavailable' });
    }
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
    async close() {
      for (const client of app.websocketServer?.clients ?? []) client.close(1001, 'server shutting down');
      await app.close();
      hub.close();
      await bus.close();
      await database.close();
    },
  };
}

/** Serves the built web app at `/`, and sends the old static pages there. */
async function registerWebApp(app: FastifyInstance, webDist: string | undefined): Promise<void> {
  const root = webDist ?? join(import.meta.dirname, '..', '..', 'web', 'dist');
  for (const old of ['/static/index.html', '/static/chat.html']) {
    app.get(old, (_request, reply) => reply.redirect('/', 301));
  }
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', (_request, reply) =>
      reply
        .code(503)
        .type('text/html')
        .send(
          '<!doctype html><title>Pneumatic Chat</title><p>The web app is not built. Run <code>npm start</code>, which builds it.</p>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: ['index.html'] });
}
