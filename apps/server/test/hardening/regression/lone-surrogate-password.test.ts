import { describe, expect, it } from 'vitest';
import { serverForSuite } from '../../helpers/suite.ts';

/**
 * The argon2 binding turns every unpaired surrogate into U+FFFD before
 * hashing, so `pw\uD800`, `pw\uDC00` and `pw\uFFFD` were one password: an
 * account made with one logged in with the others. Passwords must be
 * well-formed text; two different passwords never open the same account.
 */
describe('passwords with unpaired surrogates', () => {
  const suite = serverForSuite();

  it('never lets a different password in', async () => {
    const signup = await suite.api.post('/auth/signup', {
      username: 'surrogate',
      password: 'password\uD800',
    });
    if (signup.status === 201) {
      for (const other of ['password\uDC00', 'password\uFFFD', 'password\uDBFF'])
        expect((await suite.api.post('/auth/login', { username: 'surrogate', password: other })).status).toBe(
          401,
        );
    } else {
      expect(signup.status).toBe(422);
      expect(signup.body.detail[0].loc).toEqual(['body', 'password']);
    }
  });

  it('keeps well-formed passwords of every script working', async () => {
    const password = 'pässwörd-密码-😀';
    expect((await suite.api.post('/auth/signup', { username: 'unicode', password })).status).toBe(201);
    expect((await suite.api.post('/auth/login', { username: 'unicode', password })).status).toBe(200);
    expect(
      (await suite.api.post('/auth/login', { username: 'unicode', password: 'pässwörd-密码-😁' })).status,
    ).toBe(401);
  });
});
