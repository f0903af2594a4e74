import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { claimsOf, sign } from './helpers/tokens.ts';

/** The server remembers tokens it verified; remembering must not stretch what a token allows. */
describe('verified tokens remembered by the server', () => {
  let t: TestServer;
  let api: Rest;
  let user: TestUser;
  beforeAll(async () => {
    t = await startServer('sqlite');
    api = new Rest(t.url);
    user = await api.user('cache');
  });
  afterAll(() => t.close());

  it('still expire: accepted while valid, refused once exp passes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const shortLived = await sign({ ...claimsOf(user.token), iat: now, exp: now + 2 });
    expect((await api.get('/auth/me', shortLived)).status).toBe(200);
    expect((await api.get('/auth/me', shortLived)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, (now + 2) * 1000 - Date.now() + 50));
    const late = await api.get('/auth/me', shortLived);
    expect(late.status).toBe(401);
    expect(late.body).toEqual({ detail: 'Token expired' });
  });

  it('keep their type: a refresh token is refused as an access token the first time and every time after', async () => {
    for (let i = 0; i < 2; i++) {
      const asAccess = await api.get('/auth/me', user.refreshToken);
      expect(asAccess.status).toBe(401);
      expect(asAccess.body).toEqual({ detail: 'Invalid token type' });
    }
    // Remembered as a refresh token, it still rotates once.
    expect((await api.post('/auth/refresh', { refresh_token: user.refreshToken })).status).toBe(200);
  });

  it('still follow their session: a remembered token stops working at logout', async () => {
    const other = await api.user('cache');
    expect((await api.get('/auth/me', other.token)).status).toBe(200);
    expect((await api.post('/auth/logout', { refresh_token: other.refreshToken })).status).toBe(204);
    expect((await api.get('/auth/me', other.token)).status).toBe(401);
  });
});
