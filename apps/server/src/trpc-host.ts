import type { IncomingMessage } from 'node:http';
import { type ApiDeps, appRouter, authenticate, type Context, createContextFactory } from '@pneumatic/api';
import { TRPCError } from '@trpc/server';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { databaseOutage } from './database-errors.ts';
import { type SocketCaps, TOO_MANY_USER_SOCKETS } from './limits/socket-caps.ts';
import type { SessionWatch } from './session-watch.ts';
import { requestContext } from './tracing.ts';
import { serializeEventsOnce } from './trpc-encoder.ts';
import { closeAtExpiry, MAX_BATCH_SIZE, shedIfStalled } from './ws-limits.ts';

/** Client addresses of raw requests, recorded by a hook that sees fastify's view (TRUST_PROXY applied). */
export const clientAddresses = new WeakMap<IncomingMessage, string>();

/** Close code and reason for a tRPC socket that never presented its token. */
export const AUTH_TIMEOUT = { code: 1008, reason: 'Authentication timeout' } as const;

export interface TrpcHostOptions {
  tracing: boolean;
  caps: SocketCaps;
  sessions: SessionWatch;
  /** How long a new socket may take to send its connectionParams. */
  socketAuthTimeoutMs: number;
}

const SUBSCRIPTIONS_OVER_SOCKETS = 'Subscriptions are served over WebSocket only';

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function bearer(header: string | undefined): string | null {
  if (!header) return null;
  return /^bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? '';
}

/**
 * tRPC over HTTP and WebSocket at /trpc. A socket authenticates once with the
 * access token in connectionParams; it is closed when that token expires
 * (4401: refresh, then reconnect) or its login is revoked (4403).
 */
export async function registerTrpc(
  app: FastifyInstance,
  deps: ApiDeps,
  logger: Logger,
  options: TrpcHostOptions,
): Promise<void> {
  const createContext = createContextFactory(deps);
  app.addHook('onRequest', async (request) => {
    clientAddresses.set(request.raw, request.ip);
  });

  // A socket that never says who it is would hold a connection for free.
  const authDeadlines = new WeakMap<WebSocket, NodeJS.Timeout>();
  app.websocketServer.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    if (!req.url?.startsWith('/trpc')) return;
    const timer = setTimeout(
      () => ws.close(AUTH_TIMEOUT.code, AUTH_TIMEOUT.reason),
      options.socketAuthTimeoutMs,
    );
    authDeadlines.set(ws, timer);
    ws.once('close', () => clearTimeout(timer));
  });

  // Subscriptions are served over WebSocket only, where the socket caps count them;
  // over HTTP (server-sent events) each would hold a listener outside any cap.
  const subscriptions = new Set(
    Object.entries(appRouter._def.procedures)
      // Flattened procedures carry their type in _def at run time; the declared type hides it.
      .filter(([, procedure]) => (procedure as { _def?: { type?: string } })._def?.type === 'subscription')
      .map(([path]) => path),
  );
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/trpc/') || request.raw.headers.upgrade) return;
    const paths = request.url.slice('/trpc/'.length).split('?', 1)[0]!.split(',');
    if (!paths.some((path) => subscriptions.has(decodeURIComponentSafe(path)))) return;
    return reply.code(405).send({
      error: {
        message: SUBSCRIPTIONS_OVER_SOCKETS,
        code: -32005,
        data: { code: 'METHOD_NOT_SUPPORTED', httpStatus: 405 },
      },
    });
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    useWSS: true,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    trpcOptions: {
      router: appRouter,
      experimental_encoder: serializeEventsOnce,
      maxBatchSize: MAX_BATCH_SIZE,
      async createContext({ req, res, info }): Promise<Context> {
        if (!(res instanceof WebSocket)) {
          const traceParent = options.tracing ? requestContext(req) : undefined;
          return createContext(bearer(req.headers.authorization), { ip: req.ip, traceParent });
        }
        // On a socket, req is the raw upgrade request.
        const ws = res;
        clearTimeout(authDeadlines.get(ws));
        const raw = req as unknown as IncomingMessage;
        const ip = clientAddresses.get(raw) ?? raw.socket.remoteAddress ?? 'unknown';
        const params = info.connectionParams;
        const token = typeof params?.token === 'string' ? params.token : null;
        const auth = await authenticate(deps, token);
        if (!options.caps.admitUser(auth.user.id, ws)) {
          ws.close(TOO_MANY_USER_SOCKETS.code, TOO_MANY_USER_SOCKETS.reason);
          throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: TOO_MANY_USER_SOCKETS.reason });
        }
        const unbind = deps.hub.bindToSession(auth.sessionId, ws);
        options.sessions.watch(auth.sessionId, ws);
        const cancelExpiry = closeAtExpiry(ws, auth.expiresAt);
        ws.once('close', () => {
          unbind();
          cancelExpiry();
        });
        return createContext(token, { ip, auth, socket: { shedIfStalled: () => shedIfStalled(ws) } });
      },
      // A database that is busy or away answers 503 (retry later), not 500.
      responseMeta({ errors, info }) {
        const calls = info?.calls.length ?? 1;
        if (errors.length === 0 || errors.length < calls) return {};
        if (!errors.every((error) => databaseOutage(error) !== null)) return {};
        return { status: 503, headers: new Headers({ 'retry-after': '1' }) };
      },
      onError({ error, path, type }) {
        if (error.code !== 'INTERNAL_SERVER_ERROR') return;
        if (databaseOutage(error)) logger.warn({ err: error, path, type }, 'database unavailable');
        else logger.error({ err: error, path, type }, 'procedure failed');
      },
    } satisfies FastifyTRPCPluginOptions<typeof appRouter>['trpcOptions'],
  });
}
