/** The claims the client reads from its own tokens. It never verifies them: the server does. */
export interface TokenClaims {
  /** The user id. */
  sub?: string;
  /** Expiry, in seconds since the epoch. */
  exp?: number;
  /** Issue time, in seconds since the epoch. */
  iat?: number;
}

function decodeBase64Url(segment: string): string {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function seconds(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The payload of a JWT, or null when the token is not one. */
export function readTokenClaims(token: string): TokenClaims | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const claims: unknown = JSON.parse(decodeBase64Url(payload));
    if (typeof claims !== 'object' || claims === null) return null;
    const { sub, exp, iat } = claims as Record<string, unknown>;
    return { sub: typeof sub === 'string' ? sub : undefined, exp: seconds(exp), iat: seconds(iat) };
  } catch {
    return null;
  }
}

/** When the token expires, in epoch milliseconds; null when it carries no usable `exp`. */
export function tokenExpiresAt(token: string): number | null {
  const exp = readTokenClaims(token)?.exp;
  return exp === undefined ? null : exp * 1000;
}
