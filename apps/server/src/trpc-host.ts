import { type ApiDeps, appRouter, type Context, createContextFactory, describeFailure } from '@pneumatic/api';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { reportFailure } from './failures.ts';
import { claimedUserIdOf, requestIdentityOf } from './request-auth.ts';
import type { LiveSockets } from './sockets/live-sockets.ts';
import { MAX_BATCH_SIZE } from './sockets/socket-limits.ts';
import type { SocketUpgrades } from './sockets/upgrades.ts';
import { requestContext } from './tracing.ts';
import { registerTrpcSocket } from './trpc-socket.ts';

export interface TrpcHostOptions {
  tracing: boolean;
  sockets: LiveSockets;
  upgrades: SocketUpgrades;
}

const SUBSCRIPTIONS_OVER_SOCKETS = 'Subscriptions are served over WebSocket only';

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * tRPC over HTTP and WebSocket at /trpc: HTTP through tRPC's fastify
 * adapter, sockets through the server's own handler (trpc-socket.ts). A
 * socket authenticates once with the access token in connectionParams;
 * LiveSockets then pings it, and closes it when that token expires (4401:
 * refresh, then reconnect) or its login is revoked (4403).
 */
export async function registerTrpc(
  app: FastifyInstance,
  deps: ApiDeps,
  logger: Logger,
  options: TrpcHostOptions,
): Promise<void> {
  const createContext = createContextFactory(deps);
  registerTrpcSocket(deps, logger, { sockets: options.sockets, upgrades: options.upgrades });

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
    trpcOptions: {
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      async createContext({ req }): Promise<Context> {
        const traceParent = options.tracing ? requestContext(req) : undefined;
        return createContext(requestIdentityOf(deps, req), {
          ip: req.ip,
          userAgent: req.headers['user-agent'],
          traceParent,
          claimedUserId: claimedUserIdOf(deps, req),
        });
      },
      // Failed calls answer with their failure's status: a database that is busy or away 503 with
      // Retry-After (retry later), not 500.
      responseMeta({ errors, info }) {
        const calls = info?.calls.length ?? 1;
        if (errors.length === 0 || errors.length < calls) return {};
        const failures = errors.map(describeFailure);
        const first = failures[0]!;
        if (!failures.every((failure) => failure.status === first.status)) return {};
        const headers = new Headers();
        if (first.retryAfterSeconds !== null) headers.set('retry-after', String(first.retryAfterSeconds));
        return { status: first.status, headers };
      },
      onError({ error, path, type }) {
        reportFailure(logger, error, { path, type });
      },
    } satisfies FastifyTRPCPluginOptions<typeof appRouter>['trpcOptions'],
  });
}
