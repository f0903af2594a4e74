import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest } from '../../helpers/rest.ts';
import { startServer, type TestServer } from '../../helpers/server.ts';
import { legacySocket, sleep, trpcClient } from '../../helpers/sockets.ts';

/**
 * A socket is closed when its access token expires, with a timer. Past
 * 2^31 - 1 ms (about 24.8 days) setTimeout fires at once: with
 * ACCESS_TOKEN_TTL_SECONDS of a month every socket closed with 4401 on opening.
 */
describe('an access token that lives longer than a timer can wait', () => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    t = await startServer('sqlite', { ACCESS_TOKEN_TTL_SECONDS: 40 * 24 * 3600 });
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  it('keeps tRPC and /ws sockets open', async () => {
    const user = await api.user('longlived');
    const client = trpcClient(t.url, user.token);
    const stream = client.stream();
    await stream.started.count(1);
    const legacy = await legacySocket(t.url, `?token=${user.token}`);
    await legacy.authenticated();
    await sleep(300);
    expect(client.closes.items).toEqual([]);
    expect(legacy.closed.items).toEqual([]);
    client.close();
    legacy.ws.close();
  });
});
