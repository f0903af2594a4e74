import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenError, TokenService } from '../../src/auth/tokens.ts';

const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const service = () => new TokenService({ secret: SECRET, accessTtlSeconds: 1800, refreshTtlSeconds: 3600 });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const signed = (header: object, claims: object) => {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
};
const problem = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof TokenError ? error.problem : String(error)),
  );

describe('TokenService', () => {
  it('verifies what it issued, for its type only', async () => {
    const tokens = service();
    const { token } = await tokens.issue('access', 'user-1', 'session-1');
    expect(await tokens.verify(token, 'access')).toMatchObject({
      sub: 'user-1',
      sid: 'session-1',
      type: 'access',
    });
    expect(await problem(tokens.verify(token, 'refresh'))).toBe('wrong-type');
    // Another instance with the same secret (a restart, a second server) agrees.
    expect((await service().verify(token, 'access')).sub).toBe('user-1');
  });

  it('refuses a signature in any but its canonical text, and any other header', async () => {
    const tokens = service();
    const { token } = await tokens.issue('access', 'user-1', 'session-1');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    for (const forged of [
      `${token}A`,
      `${token}=`,
      `${header}.${payload}.${signature.slice(0, -1)}`,
      `${header}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`,
      `${header}.${payload}.${signature}.`,
      `${header}.${payload}`,
      `${b64({ alg: 'HS256', typ: 'JWT', crit: ['b64'], b64: false })}.${payload}.${signature}`,
    ])
      expect(await problem(tokens.verify(forged, 'access'))).toBe('invalid');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    expect(
      await problem(tokens.verify(signed({ alg: 'HS256', b64: false, crit: ['b64'] }, claims), 'access')),
    ).toBe('invalid');
    expect(await problem(tokens.verify(signed({ alg: 'none' }, claims), 'access'))).toBe('invalid');
    // The same claims under a plain HS256 header of our own making are ours: the key is what counts.
    expect(await problem(tokens.verify(signed({ alg: 'HS256' }, claims), 'access'))).toBe('accepted');
  });

  it('tells an expired token from an invalid one, and refuses one not valid yet', async () => {
    const tokens = service();
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'u', sid: 's', jti: 'j', type: 'access', iat: now - 60 };
    expect(await problem(tokens.verify(signed({ alg: 'HS256' }, { ...claims, exp: now }), 'access'))).toBe(
      'expired',
    );
    expect(
      await problem(
        tokens.verify(signed({ alg: 'HS256' }, { ...claims, exp: now + 60, nbf: now + 30 }), 'access'),
      ),
    ).toBe('invalid');
    expect(
      await problem(
        tokens.verify(signed({ alg: 'HS256' }, { ...claims, exp: now + 60, nbf: 'soon' }), 'access'),
      ),
    ).toBe('invalid');
    expect(
      await problem(
        tokens.verify(signed({ alg: 'HS256' }, { ...claims, exp: now + 60, nbf: now - 1 }), 'access'),
      ),
    ).toBe('accepted');
  });
});
