import type { ApiDeps, BudgetResult, RequestBudget, TokenClaims } from '@pneumatic/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { accessClaims, bearerToken } from '../request-auth.ts';

/** Paths never counted: probes, metrics, the API documents, and the web app's own files. */
const EXEMPT_EXACT = new Set([
  '/health',
  '/ready',
  '/metrics',
  '/openapi.json',
  '/',
  '/index.html',
  '/favicon.svg',
]);
const EXEMPT_PREFIXES = ['/docs', '/assets/'];

function isExempt(request: FastifyRequest): boolean {
  const path = request.url.split('?', 1)[0]!;
  if (EXEMPT_EXACT.has(path)) return request.method === 'GET' || request.method === 'HEAD';
  return EXEMPT_PREFIXES.some((prefix) => path === prefix || path.startsWith(prefix));
}

/**
 * The budget key of a request: the user when it carries a valid access token
 * (signature and expiry; the session is checked later by the route), else
 * the client address.
 */
async function budgetKey(deps: ApiDeps, request: FastifyRequest): Promise<string> {
  // A signed download link (an <img> tag's) counts for the user it was signed for.
  const { access } = request.query as { access?: unknown };
  if (typeof access === 'string' && request.url.startsWith('/files/')) {
    const id = request.url.slice('/files/'.length).split(/[/?]/, 1)[0]!;
    const userId = deps.fileLinks.verify(id, access);
    return userId ? `user:${userId}` : `ip:${request.ip}`;
  }
  return callerKey(request.ip, bearerToken(request) === null ? null : () => accessClaims(deps, request));
}

/**
 * The budget key of a caller, request or socket upgrade: its user when it
 * carries an access token that verifies, else its address.
 */
export async function callerKey(ip: string, claims: (() => Promise<TokenClaims>) | null): Promise<string> {
  if (claims === null) return `ip:${ip}`;
  try {
    return `user:${(await claims()).sub}`;
  } catch {
    return `ip:${ip}`;
  }
}

/** What an answer tells of the caller's budget: its limit, what is left, when it renews, and when refused, when to retry. */
export function budgetHeaders(result: BudgetResult): Record<string, number> {
  const headers: Record<string, number> = {
    'x-ratelimit-limit': result.limit,
    'x-ratelimit-remaining': result.remaining,
    'x-ratelimit-reset': result.resetSeconds,
  };
  if (!result.allowed) headers['retry-after'] = result.resetSeconds;
  return headers;
}

function isTrpc(request: FastifyRequest): boolean {
  return request.url.startsWith('/trpc/');
}

/** tRPC clients read errors in tRPC's shape: one per call of a batch. */
function trpcRefusal(request: FastifyRequest, message: string) {
  const error = { error: { message, code: -32029, data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 } } };
  const path = request.url.slice('/trpc/'.length).split('?', 1)[0]!;
  const batch = (request.query as { batch?: string }).batch === '1';
  return batch ? path.split(',').map(() => error) : error;
}

/** Counts every HTTP request (unknown paths and errors included) and answers 429 past the budget. */
export function registerHttpRateLimit(app: FastifyInstance, deps: ApiDeps, budget: RequestBudget): void {
  app.addHook('onRequest', async (request, reply) => {
    if (isExempt(request)) return;
    const key = await budgetKey(deps, request);
    if (key.startsWith('user:')) {
      const child = request.log.child({ userId: key.slice(5) });
      request.log = child;
      reply.log = child;
    }
    const result = await budget.consume(key);
    reply.headers(budgetHeaders(result));
    if (!result.allowed) {
      return reply
        .code(429)
        .send(isTrpc(request) ? trpcRefusal(request, result.message) : { detail: result.message });
    }
  });
}
