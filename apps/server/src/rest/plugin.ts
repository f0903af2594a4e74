import { type ApiDeps, authenticate, createCaller, createContextFactory } from '@pneumatic/api';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { requestContext } from '../tracing.ts';
import { inBody, type RestError, toRestError } from './errors.ts';
import { restRoutes, SenderMismatch } from './routes.ts';

function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : '';
}

function sendError(reply: FastifyReply, error: RestError): FastifyReply {
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.status).send(error.body);
}

/** The contract's REST paths, each a thin adapter over one tRPC procedure. */
export async function restPlugin(
  app: FastifyInstance,
  opts: { deps: ApiDeps; tracing: boolean },
): Promise<void> {
  const createContext = createContextFactory(opts.deps);

  for (const route of restRoutes) {
    const url = route.path.replace(/\{(\w+)\}/g, ':$1');
    app.route({
      method: route.method,
      url,
      handler: async (request, reply) => {
        const locate = route.locate ?? inBody;
        const token = bearerToken(request.headers.authorization);
        try {
          const auth = route.auth ? await authenticate(opts.deps, token) : undefined;
          if (auth) request.userId = auth.user.id;
          const caller = createCaller(
            createContext(token, {
              ip: request.ip,
              auth,
              traceParent: opts.tracing ? requestContext(request) : undefined,
            }),
          );
          const result = await route.handle(caller, {
            body: request.body ?? {},
            params: request.params as Record<string, string>,
            query: request.query as Record<string, unknown>,
            auth,
          });
          if (route.status === 204) return reply.code(204).send();
          return reply.code(route.status).send(result);
        } catch (error) {
          if (error instanceof SenderMismatch)
            return sendError(reply, { status: 403, body: { detail: error.message } });
          const restError = toRestError(error, locate);
          if (restError.status === 503) request.log.warn({ err: error }, 'database unavailable');
          else if (restError.status >= 500) request.log.error({ err: error }, 'request failed');
          return sendError(reply, restError);
        }
      },
    });
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user, once known; carried into logs and rate limits. */
    userId?: string;
  }
}
