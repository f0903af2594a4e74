import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject } from 'zod-openapi';
import { ErrorDetail, restRoutes } from './routes.ts';

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorDetail } },
});

/** The REST layer's OpenAPI 3.1 document, generated from the same zod schemas the procedures parse with. */
export function buildOpenApiDocument(version: string) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of restRoutes) {
    const operation: ZodOpenApiOperationObject = {
      summary: route.summary,
      tags: [route.tag],
      ...(route.auth ? { security: [{ bearer: [] }] } : {}),
      ...(route.pathParams || route.queryParams
        ? {
            requestParams: {
              ...(route.pathParams ? { path: route.pathParams } : {}),
              ...(route.queryParams ? { query: route.queryParams } : {}),
            },
          }
        : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } }
        : {}),
      responses: {
        [route.status]: route.response
          ? { description: 'Success', content: { 'application/json': { schema: route.response } } }
          : { description: 'Success' },
        ...(route.auth ? { 401: errorResponse('Missing, invalid or expired token') } : {}),
        422: errorResponse('Validation error'),
        429: errorResponse('Rate limit exceeded'),
      },
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Pneumatic REST API',
      version,
      description:
        'The REST compatibility layer of Pneumatic. Everything here is also available, typed, over tRPC at /trpc.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  });
}
