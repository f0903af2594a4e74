import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/** Response headers that belong to the inner exchange, not to the reply we send. */
const HOP_HEADERS = new Set(['connection', 'content-length', 'date', 'keep-alive', 'transfer-encoding']);

/** Runs `make` on the first call and shares its promise; a failure is forgotten, so the next call tries again. */
function onFirstUse<T>(make: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      pending = make();
      pending.catch(() => {
        pending = undefined;
      });
    }
    return pending;
  };
}

/**
 * Serves the OpenAPI document at /openapi.json and Swagger UI at /docs, both
 * made on their first request rather than at start-up, which they slowed for
 * pages few people open.
 *
 * Swagger UI lives in a small Fastify instance of its own, made on first use
 * and reached through `inject`: routes cannot be added to a server that is
 * already listening.
 */
export function registerApiDocs(app: FastifyInstance, version: string): void {
  const openApiDocument = onFirstUse(() =>
    import('./rest/openapi.ts').then(({ buildOpenApiDocument }) => buildOpenApiDocument(version)),
  );
  const swaggerUi = onFirstUse(() => buildSwaggerUi(openApiDocument));

  app.get('/openapi.json', () => openApiDocument());

  const forwardToSwaggerUi = async (request: FastifyRequest, reply: FastifyReply) => {
    const inner = await swaggerUi();
    // Always GET: for a HEAD request Fastify drops the body and keeps its length.
    const answer = await inner.inject({ method: 'GET', url: request.url, headers: request.headers });
    reply.code(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) reply.header(name, value);
    }
    return reply.send(answer.rawPayload.length > 0 ? answer.rawPayload : undefined);
  };
  app.get('/docs', forwardToSwaggerUi);
  app.get('/docs/*', forwardToSwaggerUi);
}

async function buildSwaggerUi(openApiDocument: () => Promise<unknown>): Promise<FastifyInstance> {
  const [{ default: fastifySwagger }, { default: fastifySwaggerUi }, document] = await Promise.all([
    import('@fastify/swagger'),
    import('@fastify/swagger-ui'),
    openApiDocument(),
  ]);
  const inner = Fastify({ logger: false });
  inner.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }));
  await inner.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  await inner.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await inner.ready();
  return inner;
}
