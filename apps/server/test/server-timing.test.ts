import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';

const APP_TIMING = /^app;dur=(\d+\.\d{3})$/;

/** The server's own time for a reply, from its Server-Timing header; fails when the header is missing or malformed. */
function appMs(headers: Headers): number {
  const match = APP_TIMING.exec(headers.get('server-timing') ?? '');
  expect(match, `server-timing: ${headers.get('server-timing')}`).not.toBeNull();
  return Number(match![1]);
}

describe('Server-Timing', () => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let chat: string;
  beforeAll(async () => {
    t = await startServer('sqlite');
    api = new Rest(t.url);
    alice = await api.user('timing');
    const bob = await api.user('timing');
    chat = await api.conversation(alice.token, [bob.id]);
    await api.send(alice.token, alice.id, chat, 'hello');
  });
  afterAll(() => t.close());

  it('reports the server time of a REST route, within the round trip the client saw', async () => {
    const start = performance.now();
    const reply = await api.get(`/conversations/${chat}/messages?limit=50`, alice.token);
    const roundTripMs = performance.now() - start;
    expect(reply.status).toBe(200);
    expect(reply.body.messages).toHaveLength(1);
    const ms = appMs(reply.headers);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(roundTripMs);
  });

  it('is on errors and unknown paths too', async () => {
    const refused = await api.get(`/conversations/${chat}/messages`);
    expect(refused.status).toBe(401);
    expect(appMs(refused.headers)).toBeGreaterThan(0);
    const missing = await api.get('/no-such-path');
    expect(missing.status).toBe(404);
    expect(appMs(missing.headers)).toBeGreaterThan(0);
  });
});
