import { createHmac } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { TEST_SECRET } from '../helpers/server.ts';
import { claimsOf } from '../helpers/tokens.ts';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWS with any header at all, HMAC-SHA256-signed with `secret` whatever the header claims. */
function hmacToken(
  header: object,
  claims: object,
  secret: string | Buffer = TEST_SECRET,
  digest = 'sha256',
): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac(digest, secret).update(input).digest('base64url')}`;
}

/**
 * Tokens an attacker builds from a real access token (and a second user's
 * id): the JWT attacks of OWASP ASVS V3 / the JWT cheat sheet. None may ever
 * authenticate anyone.
 */
export async function forgedTokens(access: string, refresh: string, otherUserId: string) {
  const claims = claimsOf(access);
  const now = Math.floor(Date.now() / 1000);
  const [header, payload, signature] = access.split('.') as [string, string, string];
  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const rsaJwk = await exportJWK(rsa.publicKey);
  const strip = (name: string) => {
    const copy: Record<string, unknown> = { ...claims };
    delete copy[name];
    return copy;
  };
  return {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
    'alg None': `${b64({ alg: 'None', typ: 'JWT' })}.${payload}.`,
    'alg NONE with the real signature': `${b64({ alg: 'NONE', typ: 'JWT' })}.${payload}.${signature}`,
    'alg none without a signature part': `${b64({ alg: 'none' })}.${payload}`,
    'HS512 with the real key': hmacToken({ alg: 'HS512', typ: 'JWT' }, claims, TEST_SECRET, 'sha512'),
    'HS384 with the real key': hmacToken({ alg: 'HS384', typ: 'JWT' }, claims, TEST_SECRET, 'sha384'),
    'RS256 header over an HMAC of the real key': hmacToken({ alg: 'RS256', typ: 'JWT' }, claims),
    'ES256 header over an HMAC of the real key': hmacToken({ alg: 'ES256', typ: 'JWT' }, claims),
    'RS256 signed by the attacker': await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256' })
      .sign(rsa.privateKey),
    'RS256 with the attacker key embedded (jwk)': await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', jwk: rsaJwk })
      .sign(rsa.privateKey),
    'ES256 signed by the attacker': await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256' })
      .sign(ec.privateKey),
    'HS256 with an empty key': hmacToken({ alg: 'HS256', typ: 'JWT' }, claims, ''),
    'HS256 with a guessable key': hmacToken({ alg: 'HS256', typ: 'JWT' }, claims, 'secret'),
    'kid pointing at /dev/null, empty key': hmacToken(
      { alg: 'HS256', kid: '../../../../../../dev/null' },
      claims,
      '',
    ),
    'kid with SQL': hmacToken({ alg: 'HS256', kid: "x' union select 'key' --" }, claims, 'key'),
    'jku to an attacker URL': hmacToken(
      { alg: 'HS256', jku: 'http://127.0.0.1:9/jwks.json', kid: 'a' },
      claims,
      'attacker',
    ),
    'x5u to an attacker URL': hmacToken(
      { alg: 'HS256', x5u: 'http://127.0.0.1:9/cert.pem' },
      claims,
      'attacker',
    ),
    'crit extension the server does not know': hmacToken({ alg: 'HS256', crit: ['exp'], exp: 1 }, claims),
    'payload swapped to another user': `${header}.${b64({ ...claims, sub: otherUserId })}.${signature}`,
    'payload with a longer lifetime': `${header}.${b64({ ...claims, exp: now + 10 * 365 * 86400 })}.${signature}`,
    'header changed, signature kept': `${b64({ alg: 'HS256', typ: 'JWT', kid: 'k' })}.${payload}.${signature}`,
    'signature of another token': `${header}.${payload}.${refresh.split('.')[2]}`,
    'signature truncated': `${header}.${payload}.${signature.slice(0, 20)}`,
    expired: hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now - 7200, exp: now - 3600 }),
    'expired a second ago': hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now - 1 }),
    'not yet valid (nbf)': hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, nbf: now + 3600 }),
    'issued in the future': hmacToken(
      { alg: 'HS256', typ: 'JWT' },
      { ...claims, iat: now + 3600, exp: now + 7200 },
    ),
    'no exp': hmacToken({ alg: 'HS256', typ: 'JWT' }, strip('exp')),
    'no sub': hmacToken({ alg: 'HS256', typ: 'JWT' }, strip('sub')),
    'no sid': hmacToken({ alg: 'HS256', typ: 'JWT' }, strip('sid')),
    'no type': hmacToken({ alg: 'HS256', typ: 'JWT' }, strip('type')),
    'type admin': hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, type: 'admin' }),
    'exp as a string': hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: String(now + 3600) }),
    'sub as a number': hmacToken({ alg: 'HS256', typ: 'JWT' }, { ...claims, sub: 1 }),
    'refresh token as access': refresh,
    'JWE-shaped (five parts)': `${header}.${payload}.${signature}.x.y`,
    'header that is not JSON': `${Buffer.from('{alg:HS256').toString('base64url')}.${payload}.${signature}`,
    'not base64': '@@@.$$$.%%%',
    empty: '',
    dots: '..',
    huge: `${header}.${b64({ ...claims, pad: 'x'.repeat(6000) })}.${signature}`,
  } as Record<string, string>;
}
