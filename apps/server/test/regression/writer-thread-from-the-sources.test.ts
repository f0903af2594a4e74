import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { Rest } from '../helpers/rest.ts';

// Run from the TypeScript sources through tsx (as `pnpm dev` does), the SQLite writer thread's code
// named esbuild's `__name` helper, which its worker lacked: the thread died at once, again and again,
// and every send answered 503. The bundle was fine, so only development broke.
describe('the server run from its sources (tsx)', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer({});
  });
  afterAll(() => server.kill('SIGTERM'));

  it('stores messages through its writer thread', async () => {
    const api = new Rest(server.url);
    const alice = await api.user('alice');
    const room = await api.conversation(alice.token, []);
    const reply = await api.send(alice.token, alice.id, room, 'from the sources');
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ content: 'from the sources', seq: 1 });
  });
});
