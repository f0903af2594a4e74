/** An unsigned JWT carrying the given claims: enough for code that only reads them. */
export function fakeJwt(claims: { sub?: string; exp?: number; iat?: number; jti?: string }): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}.signature`;
}

/** A token pair for `sub` whose access token lives `ttlSeconds` from `nowMs`. */
export function fakePair(sub: string, nowMs: number, ttlSeconds: number, tag: string) {
  const iat = Math.floor(nowMs / 1000);
  return {
    access_token: fakeJwt({ sub, iat, exp: iat + ttlSeconds, jti: `access-${tag}` }),
    refresh_token: fakeJwt({ sub, iat, exp: iat + 7 * 86_400, jti: `refresh-${tag}` }),
  };
}
