import { randomUUID } from 'node:crypto';
import { type PublicUser, sessionsRepository, usersRepository } from '@pneumatic/db';
import { TRPCError } from '@trpc/server';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { TokenError } from '../auth/tokens.ts';
import type { ApiDeps } from '../deps.ts';
import { fail, invalidField } from '../errors.ts';
import type { LoginInput, SignupInput, TokenPair } from '../schemas/auth.schema.ts';

export interface AuthenticatedUser {
  user: PublicUser;
  sessionId: string;
  /** When the access token stops being valid, in epoch milliseconds. */
  expiresAt: number;
}

export const AUTH_MESSAGES = {
  missing: 'Not authenticated',
  invalid: 'Invalid authentication token',
  expired: 'Token expired',
  'wrong-type': 'Invalid token type',
  revoked: 'Session is no longer valid',
  login: 'Incorrect username or password',
} as const;

/** Resolves a bearer access token to its user, or throws UNAUTHORIZED saying why. */
export async function authenticate(deps: ApiDeps, token: string | null): Promise<AuthenticatedUser> {
  if (!token) throw fail.unauthorized(AUTH_MESSAGES.missing);
  let claims: Awaited<ReturnType<typeof deps.tokens.verify>>;
  try {
    claims = await deps.tokens.verify(token, 'access');
  } catch (error) {
    if (error instanceof TokenError) throw fail.unauthorized(AUTH_MESSAGES[error.problem]);
    throw error;
  }
  const user = await sessionsRepository.findSessionUser(
    deps.database.db,
    claims.sid,
    claims.sub,
    new Date().toISOString(),
  );
  if (!user) throw fail.unauthorized(AUTH_MESSAGES.revoked);
  return { user, sessionId: claims.sid, expiresAt: claims.exp * 1000 };
}

export async function signup(deps: ApiDeps, input: SignupInput): Promise<PublicUser> {
  const min = deps.settings.passwordMinLength;
  if (input.password.length < min) throw invalidField(['password'], `Must be at least ${min} characters`);
  const user = await usersRepository.insertUser(deps.database.db, {
    id: randomUUID(),
    username: input.username,
    username_lower: input.username.toLowerCase(),
    full_name: input.full_name || null,
    password_hash: await hashPassword(input.password),
    created_at: new Date().toISOString(),
  });
  if (!user) throw fail.badRequest('Username already registered');
  return user;
}

async function issuePair(deps: ApiDeps, userId: string, sessionId: string) {
  const [access, refresh] = await Promise.all([
    deps.tokens.issue('access', userId, sessionId),
    deps.tokens.issue('refresh', userId, sessionId),
  ]);
  const pair: TokenPair = {
    access_token: access.token,
    refresh_token: refresh.token,
    token_type: 'bearer',
    expires_in: deps.tokens.settings.accessTtlSeconds,
  };
  return { pair, refresh };
}

/**
 * Unknown user and wrong password answer alike, after the same argon2 work.
 * Repeated failures for one account from one address are slowed down.
 */
export async function login(deps: ApiDeps, input: LoginInput, ip: string): Promise<TokenPair> {
  const usernameLower = input.username.toLowerCase();
  const throttle = deps.loginThrottle;
  const wait = throttle ? await throttle.blockedFor(usernameLower, ip) : 0;
  if (wait > 0) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `Too many failed login attempts; try again in ${wait} seconds`,
    });
  }
  const user = await usersRepository.findUserForLogin(deps.database.db, usernameLower);
  const ok = await verifyPassword(user?.password_hash, input.password);
  if (!user || !ok) {
    await throttle?.failed(usernameLower, ip);
    throw fail.unauthorized(AUTH_MESSAGES.login);
  }
  await throttle?.succeeded(usernameLower, ip);
  const sessionId = randomUUID();
  const { pair, refresh } = await issuePair(deps, user.id, sessionId);
  await sessionsRepository.insertSession(deps.database.db, {
    id: sessionId,
    user_id: user.id,
    current_jti: refresh.jti,
    created_at: new Date().toISOString(),
    expires_at: refresh.expiresAt.toISOString(),
  });
  return pair;
}

async function verifyRefresh(deps: ApiDeps, token: string) {
  try {
    return await deps.tokens.verify(token, 'refresh');
  } catch (error) {
    if (error instanceof TokenError) throw fail.unauthorized(AUTH_MESSAGES[error.problem]);
    throw error;
  }
}

async function revoke(deps: ApiDeps, sessionId: string, userId: string, reason: 'logout' | 'reuse') {
  const revoked = await sessionsRepository.revokeSession(
    deps.database.db,
    sessionId,
    new Date().toISOString(),
  );
  if (revoked) {
    deps.observer.sessionRevoked?.(sessionId, reason);
    deps.bus.publish({ kind: 'session_revoked', session_id: sessionId, user_id: userId });
  }
}

/**
 * Rotates the refresh token. Presenting one that was already rotated away is
 * taken as theft: the whole family is revoked and its sockets closed.
 */
export async function refresh(deps: ApiDeps, token: string): Promise<TokenPair> {
  const claims = await verifyRefresh(deps, token);
  const { pair, refresh: next } = await issuePair(deps, claims.sub, claims.sid);
  const rotated = await sessionsRepository.rotateSession(
    deps.database.db,
    claims.sid,
    claims.jti,
    next.jti,
    new Date().toISOString(),
  );
  if (!rotated) {
    await revoke(deps, claims.sid, claims.sub, 'reuse');
    throw fail.unauthorized(AUTH_MESSAGES.revoked);
  }
  return pair;
}

/** Ends the login: the refresh family is revoked and its live sockets closed. */
export async function logout(deps: ApiDeps, token: string): Promise<void> {
  const claims = await verifyRefresh(deps, token);
  const user = await sessionsRepository.findSessionUser(
    deps.database.db,
    claims.sid,
    claims.sub,
    new Date().toISOString(),
  );
  if (!user) throw fail.unauthorized(AUTH_MESSAGES.revoked);
  await revoke(deps, claims.sid, claims.sub, 'logout');
}
