import { describe, expect, it } from 'vitest';
import { readTokenClaims, tokenExpiresAt } from '../src/jwt.ts';
import { fakeJwt } from './support/tokens.ts';

describe('readTokenClaims', () => {
  it('reads sub, exp and iat from the payload', () => {
    const token = fakeJwt({ sub: 'user-1', exp: 1_900_000_000, iat: 1_899_998_200 });
    expect(readTokenClaims(token)).toEqual({ sub: 'user-1', exp: 1_900_000_000, iat: 1_899_998_200 });
  });

  it('decodes base64url payloads that need padding and carry non-ASCII text', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'zoë-ü?>', exp: 5 })).toString('base64url');
    expect(payload).toMatch(/[-_]|[^=]$/);
    expect(readTokenClaims(`h.${payload}.s`)).toEqual({ sub: 'zoë-ü?>', exp: 5, iat: undefined });
  });

  it('returns null for what is not a JWT', () => {
    expect(readTokenClaims('')).toBeNull();
    expect(readTokenClaims('no-dots')).toBeNull();
    expect(readTokenClaims('a.%%%.c')).toBeNull();
    expect(readTokenClaims(`a.${Buffer.from('"text"').toString('base64url')}.c`)).toBeNull();
  });

  it('ignores claims of the wrong type', () => {
    const token = fakeJwt({ sub: 42, exp: 'soon' } as never);
    expect(readTokenClaims(token)).toEqual({ sub: undefined, exp: undefined, iat: undefined });
  });
});

describe('tokenExpiresAt', () => {
  it('turns exp seconds into epoch milliseconds', () => {
    expect(tokenExpiresAt(fakeJwt({ exp: 1_900_000_000 }))).toBe(1_900_000_000_000);
  });

  it('is null without exp', () => {
    expect(tokenExpiresAt(fakeJwt({ sub: 'x' }))).toBeNull();
  });
});
