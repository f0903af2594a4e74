import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  /** User id. */
  sub: string;
  /** Session (refresh family) id. */
  sid: string;
  jti: string;
  type: TokenType;
  iat: number;
  exp: number;
}

/** Why a token was refused; the HTTP and socket layers turn it into their own words. */
export type TokenProblem = 'invalid' | 'expired' | 'wrong-type';

export class TokenError extends Error {
  constructor(readonly problem: TokenProblem) {
    super(`token ${problem}`);
    this.name = 'TokenError';
  }
}

export interface TokenSettings {
  secret: string;
  /** Access token lifetime in seconds. Default 1800 (30 min). */
  accessTtlSeconds: number;
  /** Refresh token lifetime in seconds. Default 604800 (7 days). */
  refreshTtlSeconds: number;
}

export interface IssuedToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

// Tokens claiming to be issued further in the future than this are forged or from a broken clock.
const MAX_CLOCK_SKEW_SECONDS = 60;

/** Signs and verifies HS256 JWTs. Anything but HS256 with our key is refused. */
export class TokenService {
  readonly #key: Uint8Array;
  constructor(readonly settings: TokenSettings) {
    this.#key = new TextEncoder().encode(settings.secret);
  }

  async issue(type: TokenType, userId: string, sessionId: string, now = new Date()): Promise<IssuedToken> {
    const jti = randomUUID();
    const iat = Math.floor(now.getTime() / 1000);
    const ttl = type === 'access' ? this.settings.accessTtlSeconds : this.settings.refreshTtlSeconds;
    const token = await new SignJWT({ type, sid: sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .sign(this.#key);
    return { token, jti, expiresAt: new Date((iat + ttl) * 1000) };
  }

  async verify(token: string, expected: TokenType): Promise<TokenClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      }));
    } catch (error) {
      throw new TokenError(error instanceof errors.JWTExpired ? 'expired' : 'invalid');
    }
    const { sub, sid, jti, type, iat, exp } = payload;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      (type !== 'access' && type !== 'refresh')
    ) {
      throw new TokenError('invalid');
    }
    if (iat > Date.now() / 1000 + MAX_CLOCK_SKEW_SECONDS) throw new TokenError('invalid');
    if (type !== expected) throw new TokenError('wrong-type');
    return { sub, sid, jti, type, iat, exp };
  }
}
