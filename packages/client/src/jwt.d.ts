/** The claims the client reads from its own tokens. It never verifies them: the server does. */
export interface TokenClaims {
  /** The user id. */
  sub?: string;
  /** Expiry, in seconds since the epoch. */
  exp?: number;
  /** Issue time, in seconds since the epoch. */
  iat?: number;
}
/** The payload of a JWT, or null when the token is not one. */
export declare function readTokenClaims(token: string): TokenClaims | null;
/** When the token expires, in epoch milliseconds; null when it carries no usable `exp`. */
export declare function tokenExpiresAt(token: string): number | null;
