import { schemas } from '@pneumatic/api';
import { z } from 'zod';
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
  Object.assign(paths, filePaths());
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

/** The file endpoints, streamed outside the route table (files-plugin.ts). */
function filePaths(): ZodOpenApiPathsObject {
  const denied = {
    401: errorResponse('Missing, invalid or expired token (or link)'),
    404: errorResponse('No such file, or not visible to the caller'),
    429: errorResponse('Rate limit exceeded'),
  };
  const download: ZodOpenApiOperationObject = {
    summary: 'Download a file a message carries (members only)',
    description:
      'With `Authorization: Bearer`, or `?access=` from tRPC `files.link` (for <img> tags). png, jpeg, gif and webp are served inline; anything else as `application/octet-stream` with `Content-Disposition: attachment`.',
    tags: ['files'],
    security: [{ bearer: [] }],
    requestParams: {
      path: z.object({ id: z.string() }),
      query: z.object({
        access: z.string().optional().meta({ description: 'A signed link from files.link' }),
      }),
    },
    responses: {
      200: {
        description: 'The bytes',
        content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
      },
      ...denied,
    },
  };
  return {
    '/files': {
      post: {
        summary: 'Upload a file to a conversation (the raw body is the file)',
        description:
          'Pending until `POST /messages` names it in `attachment_ids`; removed if never sent. Its type is read from its bytes. `curl --data-binary @photo.png -H "Authorization: Bearer $TOKEN" "$URL/files?conversation_id=$ID&name=photo.png"`',
        tags: ['files'],
        security: [{ bearer: [] }],
        requestParams: {
          query: z.object({ conversation_id: z.string(), name: z.string().optional() }),
        },
        requestBody: {
          required: true,
          content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
        },
        responses: {
          201: { description: 'Stored', content: { 'application/json': { schema: schemas.UploadedFile } } },
          403: errorResponse('Not a member of this conversation'),
          ...denied,
          404: errorResponse('Conversation not found'),
          408: errorResponse('Upload stalled, or not finished within UPLOAD_TIMEOUT_MS'),
          413: errorResponse('File too large (MAX_UPLOAD_BYTES)'),
          429: errorResponse(
            'Rate limit, daily upload quota, or MAX_UPLOADS_PER_USER uploads already in progress',
          ),
        },
      },
    },
    '/files/{id}': { get: download },
    '/files/{id}/{name}': {
      get: {
        ...download,
        requestParams: { ...download.requestParams, path: z.object({ id: z.string(), name: z.string() }) },
      },
    },
  };
}
