import {
  type ApiDeps,
  type AuthenticatedUser,
  requestIdentity,
  resolveSession,
  type TokenClaims,
  verifyToken,
} from '@pneumatic/api';
import type { FastifyRequest } from 'fastify';

/**
 * The bearer token of a request, read in one place for every HTTP entry
 * point: `Authorization: Bearer <token>` (the scheme in any case). Null when
 * there is none or the header is not a bearer one: both answer "Not
 * authenticated". (A socket's upgrade reads its own: sockets/upgrades.ts.)
 */
export function bearerToken(request: FastifyRequest): string | null {
  return bearerOf(request.headers.authorization);
}

/** The token of an `Authorization` header's value, when it is a bearer one. */
export function bearerOf(header: string | undefined): string | null {
  return header ? (/^bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null) : null;
}

const verified = new WeakMap<FastifyRequest, Promise<TokenClaims>>();

/**
 * The request's access token, verified once however many times it is asked
 * (the rate limit keys on it, then the route authenticates with it).
 * Rejects with UNAUTHORIZED saying why.
 */
export function accessClaims(deps: ApiDeps, request: FastifyRequest): Promise<TokenClaims> {
  let claims = verified.get(request);
  if (!claims) {
    claims = verifyToken(deps, bearerToken(request));
    // Asked for by the rate limit, whose caller may never look at a refusal.
    claims.catch(() => {});
    verified.set(request, claims);
  }
  return claims;
}

/** Who sent the request: its token's claims (verified once), then its login (one query, on first use). */
export function requestIdentityOf(deps: ApiDeps, request: FastifyRequest): () => Promise<AuthenticatedUser> {
  return requestIdentity(async () => resolveSession(deps, await accessClaims(deps, request)));
}

/** The user id the request's access token names, once verified (Context.claimedUserId): no query. */
export function claimedUserIdOf(deps: ApiDeps, request: FastifyRequest): () => Promise<string> {
  return async () => (await accessClaims(deps, request)).sub;
}
