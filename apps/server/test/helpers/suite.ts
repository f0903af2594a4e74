import { afterAll, beforeAll } from 'vitest';
import { Rest } from './rest.ts';
import { startServer, type TestServer } from './server.ts';

/**
 * A server on SQLite and a REST client for the tests of one describe block:
 * started before them, closed after them.
 */
export function serverForSuite(): { t: TestServer; api: Rest } {
  const suite = {} as { t: TestServer; api: Rest };
  beforeAll(async () => {
    suite.t = await startServer('sqlite');
    suite.api = new Rest(suite.t.url);
  });
  afterAll(() => suite.t.close());
  return suite;
}
