import type { IncomingMessage } from 'node:http';
import { type ApiDeps, appRouter, authenticate, type Context, createContextFactory } from '@pneumatic/api';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { requestContext } from './tracing.ts';
import { MAX_BATCH_SIZE, shedIfStalled, TOKEN_EXPIRED } from './ws-limits.ts';

/** Client addresses of raw requests, recorded by a hook that sees fastify's view (TRUST_PROXY applied). */
export const clientAddresses = new WeakMap<IncomingMessage, string>();

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
  tracing: boolean,
): Promise<void> {
  const createContext = createContextFactory(deps);
  app.addHook('onRequest', async (request) => {
    clientAddresses.set(request.raw, request.ip);
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    useWSS: true,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 10_000 },
    trpcOptions: {
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      async createContext({ req, res, info }): Promise<Context> {
        if (!(res instanceof WebSocket)) {
          const traceParent = tracing ? requestContext(req) : undefined;
          return createContext(bearer(req.headers.authorization), { ip: req.ip, traceParent });
        }
        // On a socket, req is the raw upgrade request.
        const raw = req as unknown as IncomingMessage;
        const ip = clientAddresses.get(raw) ?? raw.socket.remoteAddress ?? 'unknown';
        const params = info.connectionParams;
        const token = typeof params?.token === 'string' ? params.token : null;
        const auth = await authenticate(deps, token);
        const ws = res;
        const unbind = deps.hub.bindToSession(auth.sessionId, ws);
        const expiry = setTimeout(
          () => ws.close(TOKEN_EXPIRED.code, TOKEN_EXPIRED.reason),
          Math.max(0, auth.expiresAt - Date.now()),
        );
        ws.once('close', () => {
          unbind();
          clearTimeout(expiry);
        });
        return createContext(token, { ip, auth, socket: { shedIfStalled: () => shedIfStalled(ws) } });
      },
      onError({ error, path, type }) {
        if (error.code === 'INTERNAL_SERVER_ERROR')
          logger.error({ err: error, path, type }, 'procedure failed');
      },
    } satisfies FastifyTRPCPluginOptions<typeof appRouter>['trpcOptions'],
  });
}
