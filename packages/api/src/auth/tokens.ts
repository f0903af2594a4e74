import { randomUUID, webcrypto } from 'node:crypto';
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

/** Tokens whose signature was checked, kept so that a client's next requests skip the HMAC. */
const VERIFIED_CAPACITY = 4096;

/**
 * Signs and verifies HS256 JWTs. Anything but HS256 with our key is refused.
 * Every authenticated request verifies its token (twice over REST: the rate
 * limit and the route), so the key is imported once and tokens already
 * verified are remembered by their exact text: the same bytes carry the same
 * signature, and expiry is checked again at each use.
 */
export class TokenService {
  /** Imported once: jose imports a raw key again on every call. */
  readonly #key: Promise<webcrypto.CryptoKey>;
  readonly #verified = new Map<string, TokenClaims>();
  constructor(readonly settings: TokenSettings) {
    this.#key = webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(settings.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    // A key that cannot be imported fails each sign and verify, not the process.
    this.#key.catch(() => {});
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
      .sign(await this.#key);
    return { token, jti, expiresAt: new Date((iat + ttl) * 1000) };
  }

  async verify(token: string, expected: TokenType): Promise<TokenClaims> {
    const claims = this.#verified.get(token) ?? (await this.#check(token));
    // jose's rule: expired once the current second reaches exp.
    if (claims.exp <= Math.floor(Date.now() / 1000)) {
      this.#verified.delete(token);
      throw new TokenError('expired');
    }
    if (claims.type !== expected) throw new TokenError('wrong-type');
    return claims;
  }

  /** Signature and claims; remembers the token once they hold. */
  async #check(token: string): Promise<TokenClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, await this.#key, {
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
    const claims: TokenClaims = Object.freeze({ sub, sid, jti, type, iat, exp });
    // Oldest first out: a Map iterates in insertion order.
    if (this.#verified.size >= VERIFIED_CAPACITY) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, claims);
    return claims;
  }
}
