import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { claimsOf, sign, unsignedCopy } from './helpers/tokens.ts';

describe.each(DIALECTS)('auth over REST (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    t = await startServer(dialect);
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  it('signs up with 201 and the public user, never the hash', async () => {
    const reply = await api.post('/auth/signup', {
      username: 'Alice_1',
      password: 'password1',
      full_name: 'Alice A',
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({ id: expect.any(String), username: 'Alice_1', full_name: 'Alice A' });
    const row = await t.server.database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', reply.body.id)
      .executeTakeFirst();
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('refuses a username taken in any letter case with 400', async () => {
    await api.post('/auth/signup', { username: 'carol', password: 'password1' });
    const reply = await api.post('/auth/signup', { username: 'CAROL', password: 'password1' });
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ detail: 'Username already registered' });
  });

  it.each([
    [{ username: 'ab', password: 'password1' }, ['body', 'username']],
    [{ username: 'a'.repeat(33), password: 'password1' }, ['body', 'username']],
    [{ username: 'bad name!', password: 'password1' }, ['body', 'username']],
    [{ username: 'shortpw', password: 'short' }, ['body', 'password']],
    [{ username: 'longpw', password: 'x'.repeat(1025) }, ['body', 'password']],
    [{ username: 'longname', password: 'password1', full_name: 'n'.repeat(101) }, ['body', 'full_name']],
    [{ password: 'password1' }, ['body', 'username']],
    [{ username: 'numbers', password: 12345678 }, ['body', 'password']],
  ])('answers 422 with the offending field for %j', async (body, loc) => {
    const reply = await api.post('/auth/signup', body);
    expect(reply.status).toBe(422);
    expect(reply.body.detail).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ loc, msg: expect.any(String), type: expect.any(String) }),
      ]),
    );
  });

  it('keeps a 1024-character password whole (never truncated)', async () => {
    const password = 'p'.repeat(1024);
    expect((await api.post('/auth/signup', { username: 'longest', password })).status).toBe(201);
    expect((await api.post('/auth/login', { username: 'longest', password })).status).toBe(200);
    expect((await api.post('/auth/login', { username: 'longest', password: 'p'.repeat(1023) })).status).toBe(
      401,
    );
  });

  it('logs in with a bearer token pair carrying the contract claims', async () => {
    await api.post('/auth/signup', { username: 'dave', password: 'password1' });
    const reply = await api.post('/auth/login', { username: 'DAVE', password: 'password1' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'bearer',
    });
    const access = claimsOf(reply.body.access_token);
    expect(access).toMatchObject({ sub: expect.any(String), jti: expect.any(String), type: 'access' });
    expect(access.exp).toBe((access.iat as number) + 1800);
    const refresh = claimsOf(reply.body.refresh_token);
    expect(refresh.type).toBe('refresh');
    expect(refresh.exp).toBe((refresh.iat as number) + 7 * 24 * 3600);
  });

  it('answers unknown user and wrong password alike', async () => {
    await api.post('/auth/signup', { username: 'erin', password: 'password1' });
    const wrong = await api.post('/auth/login', { username: 'erin', password: 'password2' });
    const unknown = await api.post('/auth/login', { username: 'nobody_here', password: 'password2' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual({ detail: 'Incorrect username or password' });
    expect(unknown.body).toEqual(wrong.body);
  });

  it('serves /auth/me with the token, case-insensitive scheme', async () => {
    const user = await api.user('me');
    const reply = await api.request('GET', '/auth/me', {
      headers: { authorization: `bEaReR ${user.token}` },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ id: user.id, username: user.username, full_name: null });
  });

  it('answers 401 Not authenticated without a header', async () => {
    const reply = await api.get('/auth/me');
    expect(reply.status).toBe(401);
    expect(reply.body).toEqual({ detail: 'Not authenticated' });
    expect(reply.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('refuses forged, foreign, expired, early and wrong-type tokens with 401', async () => {
    const user = await api.user('forger');
    const claims = claimsOf(user.token);
    const now = Math.floor(Date.now() / 1000);
    const bad = {
      'alg none': unsignedCopy(user.token),
      'another key': await sign(claims, 'another-secret-key-that-is-long-enough-000'),
      expired: await sign({ ...claims, iat: now - 7200, exp: now - 3600 }),
      'not yet valid': await sign({ ...claims, nbf: now + 3600 }),
      'issued in the future': await sign({ ...claims, iat: now + 3600, exp: now + 7200 }),
      'refresh as access': user.refreshToken,
      tampered: `${user.token.split('.')[0]}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${user.token.split('.')[2]}`,
      garbage: 'not.a.jwt',
      'jku header': await sign(claims, 'attacker-controlled-secret-000000000000000', {
        jku: 'http://127.0.0.1:1/keys',
        kid: 'x',
      }),
    };
    for (const [name, token] of Object.entries(bad)) {
      const reply = await api.get('/auth/me', token);
      expect(reply.status, name).toBe(401);
      expect(reply.headers.get('www-authenticate'), name).toBe('Bearer');
    }
  });

  it('refuses a token of a deleted user', async () => {
    const user = await api.user('deleted');
    await t.server.database.db.deleteFrom('users').where('id', '=', user.id).execute();
    expect((await api.get('/auth/me', user.token)).status).toBe(401);
  });

  it('rotates refresh tokens and revokes the family when a retired one comes back', async () => {
    const user = await api.user('rotator');
    const first = await api.post('/auth/refresh', { refresh_token: user.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(user.refreshToken);
    expect(first.body.access_token).not.toBe(user.token);
    expect((await api.get('/auth/me', first.body.access_token)).status).toBe(200);

    const reuse = await api.post('/auth/refresh', { refresh_token: user.refreshToken });
    expect(reuse.status).toBe(401);
    // The whole family is gone: the newest refresh token and its access token too.
    expect((await api.post('/auth/refresh', { refresh_token: first.body.refresh_token })).status).toBe(401);
    expect((await api.get('/auth/me', first.body.access_token)).status).toBe(401);
    // Another login of the same user is untouched.
    const other = await api.post('/auth/login', { username: user.username, password: user.password });
    expect((await api.get('/auth/me', other.body.access_token)).status).toBe(200);
  });

  it('refuses an access token presented as a refresh token', async () => {
    const user = await api.user('swap');
    expect((await api.post('/auth/refresh', { refresh_token: user.token })).status).toBe(401);
  });

  it('logs out with 204 and revokes the family', async () => {
    const user = await api.user('leaver');
    const reply = await api.post('/auth/logout', { refresh_token: user.refreshToken });
    expect(reply.status).toBe(204);
    expect((await api.post('/auth/refresh', { refresh_token: user.refreshToken })).status).toBe(401);
    expect((await api.get('/auth/me', user.token)).status).toBe(401);
    expect((await api.post('/auth/logout', { refresh_token: user.refreshToken })).status).toBe(401);
    expect((await api.post('/auth/logout', { refresh_token: 'junk' })).status).toBe(401);
  });
});
