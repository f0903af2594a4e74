import type { AppRouter } from '@pneumatic/api';
import { createTestDatabase, type TestDatabase } from '@pneumatic/db/testing';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ServerProcess, spawnServer } from '../helpers/process.ts';
import { Rest } from '../helpers/rest.ts';
import { Inbox, type StreamItem, sleep } from '../helpers/sockets.ts';
import { report } from './helpers.ts';
import { burst } from './load.ts';

const CRASHES = Number(process.env.HARDENING_CRASHES ?? 20);

describe('kill -9 during a burst of sends (SQLite)', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let currentUrl = '';
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    server?.kill('SIGKILL');
    await server?.exited;
    await database.drop();
  });

  const start = async () => {
    server = await spawnServer({ DATABASE_URL: database.url }, { bundled: true });
    currentUrl = server.url;
  };

  it(`loses no acknowledged message across ${CRASHES} crashes, keeps the file sound, and resumes the stream`, async () => {
    await start();
    const api = new Rest(currentUrl);
    const alice = await api.user('alice');
    const bob = await api.user('bob');
    const room = await api.conversation(alice.token, [bob.id]);

    // Bob's stream follows the server from process to process, resuming from its last event id.
    const received = new Inbox<StreamItem>();
    const wsClient = createWSClient({
      url: () => `${currentUrl.replace(/^http/, 'ws')}/trpc`,
      WebSocket: WebSocket as never,
      connectionParams: () => ({ token: bob.token }),
      retryDelayMs: () => 100,
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
    const started = new Inbox<true>();
    const sub = client.events.stream.subscribe(
      {},
      {
        onStarted: () => started.push(true),
        onData: (item) => {
          const event = item as unknown as StreamItem;
          if (event.data.type === 'message') received.push(event);
        },
      },
    );
    await started.count(1);

    const acknowledged = new Set<string>();
    let attempts = 0;
    for (let round = 0; round < CRASHES; round++) {
      const load = burst(currentUrl, alice, room, `round ${round}`);
      await sleep(100 + Math.floor(Math.random() * 200));
      server.kill('SIGKILL');
      expect(await server.exited).toBe('SIGKILL');
      await load.stop();
      attempts += load.sent();
      for (const id of load.acknowledged) acknowledged.add(id);

      // What the process acknowledged is on disk, and the file is sound.
      const file = new Database(database.url);
      expect(file.pragma('integrity_check', { simple: true })).toBe('ok');
      const stored = new Set(
        (file.prepare('select id from messages').all() as Array<{ id: string }>).map((r) => r.id),
      );
      file.close();
      const lost = [...load.acknowledged].filter((id) => !stored.has(id));
      expect(lost, `round ${round}: acknowledged but not stored`).toEqual([]);

      await start();
    }

    // The stream resumed each time without a gap or a repeat: it holds every stored message once, in order.
    const file = new Database(database.url, { readonly: true });
    const all = file
      .prepare('select id, seq from messages where conversation_id = ? order by seq')
      .all(room) as Array<{ id: string; seq: number }>;
    file.close();
    expect(all.map((m) => m.seq)).toEqual(all.map((_, i) => i + 1));
    await received.until((items) => items.length >= all.length, 20_000);
    await sleep(300);
    expect(received.items.map((e) => e.data.message?.id)).toEqual(all.map((m) => m.id));
    expect(acknowledged.size).toBeGreaterThan(CRASHES * 10);

    report('faults-crash', {
      crashes: CRASHES,
      'sends attempted': attempts,
      acknowledged: acknowledged.size,
      'stored messages': all.length,
      'acknowledged but lost': 0,
      'stream events received': received.items.length,
    });
    sub.unsubscribe();
    wsClient.close();
  }, 180_000);
});
