import { type ApiDeps, createCaller, createContextFactory, validationIssues } from '@pneumatic/api';
import type { FastifyInstance } from 'fastify';
import { reportFailure } from '../failures.ts';
import { claimedUserIdOf, requestIdentityOf } from '../request-auth.ts';
import { requestContext } from '../tracing.ts';
import { asUnknownIds, inBody, toRestError } from './errors.ts';
import { type RestRequest, restRoutes } from './routes.ts';

/**
 * The contract's REST paths, each a thin adapter over one tRPC procedure:
 * the token the rate limit verified is not verified again, and the body is
 * parsed once, by the procedure.
 */
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
        const identify = requestIdentityOf(opts.deps, request);
        const req: RestRequest = {
          body: request.body ?? {},
          params: request.params as Record<string, string>,
          query: request.query as Record<string, unknown>,
          auth: undefined,
        };
        const input = route.input ? route.input(req) : req.body;
        try {
          // Authentication comes first: 401 before anything about the input (a route that
          // checksLogin has its procedure answer 401 first, the check made alongside its read).
          if (route.auth && !route.checksLogin) req.auth = await identify();
          const caller = createCaller(
            createContext(identify, {
              ip: request.ip,
              userAgent: request.headers['user-agent'],
              traceParent: opts.tracing ? requestContext(request) : undefined,
              claimedUserId: route.checksLogin ? claimedUserIdOf(opts.deps, request) : undefined,
            }),
          );
          const result = await route.call(caller, input, req);
          // Settled by the procedure before it answered (no query here): a second guard that the
          // login stood before anything of the answer leaves.
          if (route.checksLogin) await identify();
          if (route.status === 204) return reply.code(204).send();
          return reply.code(route.status).send(result);
        } catch (caught) {
          const issues = route.idFields ? validationIssues(caught) : null;
          const error =
            issues && route.idFields ? asUnknownIds(caught, issues, input, route.idFields) : caught;
          const restError = toRestError(reportFailure(request.log, error), route.locate ?? inBody);
          return reply
            .code(restError.status)
            .headers(restError.headers ?? {})
            .send(restError.body);
        }
      },
    });
  }
}
