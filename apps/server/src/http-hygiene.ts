import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * Security headers, a content security policy the web app and /docs pass,
 * and CORS for the configured origins only.
 *
 * helmet is built once here: @fastify/helmet builds it again for every
 * request (parsing the policy each time). A WebSocket upgrade gets none of
 * these headers: it never reaches fastify (sockets/upgrades.ts).
 */
export async function registerHttpHygiene(app: FastifyInstance, corsOrigins: string[]): Promise<void> {
  const secureHeaders = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // Swagger UI sets inline styles; the web app uses none.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        fontSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    crossOriginEmbedderPolicy: false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    secureHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
  await app.register(fastifyCors, {
    origin: corsOrigins.length > 0 ? corsOrigins : false,
    credentials: false,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['authorization', 'content-type', 'trpc-accept', 'x-trpc-source'],
    exposedHeaders: ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'],
    maxAge: 600,
  });
}

/**
 * Whether a WebSocket upgrade may proceed: browsers send Origin, and only the
 * server's own origin and CORS_ORIGINS may open sockets. Clients that are not
 * browsers send no Origin and are judged by their token alone.
 */
export function isAllowedSocketOrigin(
  origin: string | undefined,
  host: string | undefined,
  allowed: string[],
) {
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
