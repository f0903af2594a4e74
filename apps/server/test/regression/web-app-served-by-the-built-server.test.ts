import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';

// The bundle once looked for the web app relative to a code-split chunk and served the
// "not built" page instead. turbo builds apps/web before these tests.
describe('the built server', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer({}, { bundled: true });
  });
  afterAll(() => server.kill('SIGTERM'));

  it('serves the built web app at / with no WEB_DIST set', async () => {
    const reply = await fetch(`${server.url}/`);
    expect(reply.status).toBe(200);
    const html = await reply.text();
    expect(html).toContain('<title>Pneumatic Chat</title>');
    expect(html).toMatch(/<script type="module"[^>]+src="\/assets\/index-[\w-]+\.js"/);
    const script = /src="(\/assets\/index-[\w-]+\.js)"/.exec(html)![1]!;
    expect((await fetch(`${server.url}${script}`)).status).toBe(200);
  });
});
