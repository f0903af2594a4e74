import { createTestDatabase, DIALECTS } from '@pneumatic/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnServer } from '../helpers/process.ts';
import { Rest } from '../helpers/rest.ts';
import { sleep } from '../helpers/sockets.ts';
import { report } from './helpers.ts';
import { burst } from './load.ts';

const tally: Record<string, number> = {};
afterAll(() => report('faults-shutdown', tally));

describe.each(DIALECTS)('SIGTERM during a burst of sends (%s)', (dialect) => {
  it('drains: exit code 0, every acknowledged message stored, nothing half-done', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const server = await spawnServer({ DATABASE_URL: database.url }, { bundled: true });
      const api = new Rest(server.url);
      const alice = await api.user('alice');
      const bob = await api.user('bob');
      const room = await api.conversation(alice.token, [bob.id]);

      const load = burst(server.url, alice, room, 'shutdown');
      await sleep(400);
      const signalled = performance.now();
      server.kill('SIGTERM');
      const code = await server.exited;
      const drainMs = performance.now() - signalled;
      await load.stop();
      expect(code, server.output().slice(-2000)).toBe(0);
      expect(drainMs).toBeLessThan(10_000);
      expect(load.acknowledged.size).toBeGreaterThan(20);
      expect(server.output()).not.toMatch(/"level":50/); // nothing logged as an error while draining

      // Start again on the same database and read everything back.
      const again = await spawnServer({ DATABASE_URL: database.url }, { bundled: true });
      try {
        const stored = new Set<string>();
        let before: number | null = null;
        do {
          const page: {
            status: number;
            body: { messages: Array<{ id: string }>; next_cursor: number | null };
          } = await new Rest(again.url).get(
            `/conversations/${room}/messages?limit=200${before ? `&before=${before}` : ''}`,
            alice.token,
          );
          expect(page.status).toBe(200);
          for (const m of page.body.messages) stored.add(m.id);
          before = page.body.next_cursor;
        } while (before !== null);
        const lost = [...load.acknowledged].filter((id) => !stored.has(id));
        expect(lost).toEqual([]);
        tally[`${dialect}: acknowledged`] = load.acknowledged.size;
        tally[`${dialect}: acknowledged over /ws`] = load.byLane.legacy ?? 0;
        tally[`${dialect}: acknowledged over tRPC`] = load.byLane.trpc ?? 0;
        tally[`${dialect}: stored`] = stored.size;
        tally[`${dialect}: lost`] = lost.length;
        tally[`${dialect}: drain ms`] = Math.round(drainMs);
      } finally {
        again.kill('SIGTERM');
        await again.exited;
      }
    } finally {
      await database.drop();
    }
  }, 60_000);
});
