import { randomUUID } from 'node:crypto';
import { type PublicUser, sessionsRepository, usersRepository } from '@pneumatic/db';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { type TokenClaims, TokenError, type TokenType } from '../auth/tokens.ts';
import type { ApiDeps } from '../deps.ts';
import { fail, invalidField } from '../errors.ts';
import type { LoginInput, SignupInput, TokenPair } from '../schemas/auth.schema.ts';

export interface AuthenticatedUser {
  user: PublicUser;
  sessionId: string;
  /** When the access token stops being valid, in epoch milliseconds. */
  expiresAt: number;
}

/**
 * Checks a token's signature, expiry and type (no database): its claims, or
 * UNAUTHORIZED saying why. Verified tokens are remembered by the token
 * service, so a client's next requests skip the HMAC.
 */
export async function verifyToken(
  deps: ApiDeps,
  token: string | null,
  type: TokenType = 'access',
): Promise<TokenClaims> {
  if (!token) throw fail.unauthorized('missing');
  try {
    return await deps.tokens.verify(token, type);
  } catch (error) {
    if (error instanceof TokenError) throw fail.unauthorized(error.problem);
    throw error;
  }
}

/** The user behind verified claims, if their login still stands (one query), or UNAUTHORIZED. */
export async function resolveSession(deps: ApiDeps, claims: TokenClaims): Promise<AuthenticatedUser> {
  const user = await sessionsRepository.findSessionUser(
    deps.database.db,
    claims.sid,
    claims.sub,
    new Date().toISOString(),
  );
  if (!user) throw fail.unauthorized('revoked');
  return { user, sessionId: claims.sid, expiresAt: claims.exp * 1000 };
}

/** Resolves a bearer access token to its user, or throws UNAUTHORIZED saying why. */
export async function authenticate(deps: ApiDeps, token: string | null): Promise<AuthenticatedUser> {
  return resolveSession(deps, await verifyToken(deps, token));
}

/** The length rule of PASSWORD_MIN_LENGTH, for signup and password changes alike. */
export function checkPasswordLength(deps: ApiDeps, password: string, field: string): void {
  const min = deps.settings.passwordMinLength;
  if (password.length < min) throw invalidField([field], `Must be at least ${min} characters`);
}

export async function signup(deps: ApiDeps, input: SignupInput): Promise<PublicUser> {
  if (!deps.settings.allowSignup) throw fail.forbidden('Sign-up is closed on this server; ask an operator');
  checkPasswordLength(deps, input.password, 'password');
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
/** Where a login or refresh came from, kept for the sessions list. */
export interface ClientOrigin {
  ip: string;
  userAgent?: string;
}

/** User-Agents are kept short: they are for a list, not for decisions. */
function sessionUse(origin: ClientOrigin): sessionsRepository.SessionUse {
  return {
    at: new Date().toISOString(),
    ipAddress: origin.ip || null,
    userAgent: origin.userAgent?.slice(0, 512) || null,
  };
}

export async function login(deps: ApiDeps, input: LoginInput, origin: ClientOrigin): Promise<TokenPair> {
  const { ip } = origin;
  const usernameLower = input.username.toLowerCase();
  const throttle = deps.loginThrottle;
  const wait = throttle ? await throttle.blockedFor(usernameLower, ip) : 0;
  if (wait > 0) {
    throw fail.tooManyRequests(`Too many failed login attempts; try again in ${wait} seconds`, wait);
  }
  const user = await usersRepository.findUserForLogin(deps.database.db, usernameLower);
  const ok = await verifyPassword(user?.password_hash, input.password);
  if (!user || !ok) {
    await throttle?.failed(usernameLower, ip);
    throw fail.unauthorized('login');
  }
  // Told only to whoever knows the password.
  if (user.disabled_at !== null) throw fail.forbidden('This account is disabled');
  await throttle?.succeeded(usernameLower, ip);
  const sessionId = randomUUID();
  const { pair, refresh } = await issuePair(deps, user.id, sessionId);
  const use = sessionUse(origin);
  await sessionsRepository.insertSession(deps.database.db, {
    id: sessionId,
    user_id: user.id,
    current_jti: refresh.jti,
    created_at: use.at,
    expires_at: refresh.expiresAt.toISOString(),
    last_used_at: use.at,
    ip_address: use.ipAddress,
    user_agent: use.userAgent,
  });
  return pair;
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
export async function refresh(deps: ApiDeps, token: string, origin: ClientOrigin): Promise<TokenPair> {
  const claims = await verifyToken(deps, token, 'refresh');
  const { pair, refresh: next } = await issuePair(deps, claims.sub, claims.sid);
  const rotated = await sessionsRepository.rotateSession(
    deps.database.db,
    claims.sid,
    claims.jti,
    next.jti,
    sessionUse(origin),
  );
  if (!rotated) {
    await revoke(deps, claims.sid, claims.sub, 'reuse');
    throw fail.unauthorized('revoked');
  }
  return pair;
}

/** Ends the login: the refresh family is revoked and its live sockets closed. */
export async function logout(deps: ApiDeps, token: string): Promise<void> {
  const claims = await verifyToken(deps, token, 'refresh');
  const user = await sessionsRepository.findSessionUser(
    deps.database.db,
    claims.sid,
    claims.sub,
    new Date().toISOString(),
  );
  if (!user) throw fail.unauthorized('revoked');
  await revoke(deps, claims.sid, claims.sub, 'logout');
}
