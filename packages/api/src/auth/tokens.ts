import {
  createHmac,
  createSecretKey,
  type KeyObject,
  randomUUID,
  timingSafeEqual,
  webcrypto,
} from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';

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
 * limit and the route), so tokens already verified are remembered by their
 * exact text: the same bytes carry the same signature, and expiry is checked
 * again at each use.
 *
 * jose signs (WebCrypto, the key imported once) and parses; the signature is
 * checked here with node:crypto's HMAC. jose checks it through WebCrypto, an
 * asynchronous job costing 80–120 µs of CPU where the HMAC costs 10: every
 * socket and first request of a login paid it.
 */
export class TokenService {
  /** Imported once: jose imports a raw key again on every call. */
  readonly #key: Promise<webcrypto.CryptoKey>;
  readonly #hmacKey: KeyObject;
  readonly #verified = new Map<string, TokenClaims>();
  constructor(readonly settings: TokenSettings) {
    this.#hmacKey = createSecretKey(Buffer.from(settings.secret));
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
    const claims = this.#verified.get(token) ?? this.#check(token);
    // jose's rule: expired once the current second reaches exp.
    if (claims.exp <= Math.floor(Date.now() / 1000)) {
      this.#verified.delete(token);
      throw new TokenError('expired');
    }
    if (claims.type !== expected) throw new TokenError('wrong-type');
    return claims;
  }

  /** Signature and claims; remembers the token once they hold. */
  #check(token: string): TokenClaims {
    const payload = this.#signedPayload(token);
    if (!payload) throw new TokenError('invalid');
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
    const now = Date.now() / 1000;
    if (iat > now + MAX_CLOCK_SKEW_SECONDS) throw new TokenError('invalid');
    // We issue no nbf; one that is there must have passed (as jose would check it).
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now))
      throw new TokenError('invalid');
    const claims: TokenClaims = Object.freeze({ sub, sid, jti, type, iat, exp });
    // Oldest first out: a Map iterates in insertion order.
    if (this.#verified.size >= VERIFIED_CAPACITY) this.#verified.delete(this.#verified.keys().next().value!);
    this.#verified.set(token, claims);
    return claims;
  }

  /**
   * The claims of a compact JWS whose header is exactly HS256 (no `crit`, no
   * unencoded payload) and whose signature is our key's HMAC of its first two
   * parts, compared as the canonical base64url text in constant time; null
   * for anything else.
   */
  #signedPayload(token: string): Record<string, unknown> | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [header, payload, signature] = parts as [string, string, string];
    try {
      const head = decodeProtectedHeader(token);
      if (head.alg !== 'HS256' || head.crit !== undefined || head.b64 !== undefined) return null;
      const expected = Buffer.from(
        createHmac('sha256', this.#hmacKey).update(`${header}.${payload}`).digest('base64url'),
      );
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      return decodeJwt(token);
    } catch {
      return null;
    }
  }
}
