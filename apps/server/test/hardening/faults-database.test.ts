import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_URL, createTestDatabase, type TestDatabase } from '@pneumatic/db/testing';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ServerExit, type ServerProcess, spawnServer } from '../helpers/process.ts';
import { Rest, type TestUser } from '../helpers/rest.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { legacySocket, sleep, trpcClient } from '../helpers/sockets.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { rawRequest, report, rowCounts } from './helpers.ts';

const survived: Record<string, number> = {};
afterAll(() => report('faults-database', survived));

describe('PostgreSQL cut off under load', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let server: ServerProcess;
  let api: Rest;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const target = new URL(database.url);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    target.port = String(proxy.port);
    // Its own process: a crash shows as an exit, not as an error inside the test runner.
    server = await spawnServer({ DATABASE_URL: target.toString() }, { bundled: true });
    api = new Rest(server.url);
  });
  afterAll(async () => {
    server.kill('SIGKILL');
    await server.exited;
    await proxy.cut();
    await database.drop();
  });

  it('stays up, answers 503 (never 500, never hanging), reports not ready, and resumes once it is back', async () => {
    const url = server.url;
    const wsUrl = url.replace(/^http/, 'ws');
    let exited: number | string | null = null;
    void server.exited.then((code) => {
      exited = code;
    });
    const alice = await api.user('alice');
    const bob = await api.user('bob');
    const room = await api.conversation(alice.token, [bob.id]);
    const watcher = trpcClient(url, bob.token);
    const stream = watcher.stream();
    await stream.started.count(1);
    const legacy = await legacySocket(url, `?token=${alice.token}`);
    await legacy.authenticated();

    const acknowledged = new Set<string>();
    const statuses = new Map<number, number>();
    let running = true;
    // Enough senders that connections are checked out, mid-transaction, when the cut comes.
    const senders = Array.from({ length: 8 }, async () => {
      while (running) {
        const reply = await rawRequest(`${url}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
          body: JSON.stringify({
            message_id: randomUUID(),
            sender_id: alice.id,
            conversation_id: room,
            content: 'load',
          }),
        }).catch(() => null);
        if (!reply) {
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
          await sleep(20);
          continue;
        }
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status === 201) acknowledged.add((reply.body as { id: string }).id);
        else {
          expect(reply.status, reply.text).toBe(503);
          expect(reply.body).toEqual({ detail: 'Database unavailable, try again shortly' });
          expect(reply.headers.get('retry-after')).toBe('1');
          await sleep(20);
        }
      }
    });

    for (let cut = 1; cut <= 2; cut++) {
      await sleep(300);
      await proxy.cut();
      survived['PostgreSQL cuts'] = cut;
      await sleep(300);

      // While it is away: alive, not ready, and every kind of request answers cleanly and promptly.
      expect(exited, server.output().slice(-3000)).toBeNull();
      expect((await rawRequest(`${url}/health`)).status).toBe(200);
      const ready = await rawRequest(`${url}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'not ready', error: 'database unavailable' });
      const me = await rawRequest(`${url}/auth/me`, { headers: { authorization: `Bearer ${alice.token}` } });
      expect(me.status).toBe(503);
      const trpcCall = await rawRequest(`${url}/trpc/conversations.list`, {
        headers: { authorization: `Bearer ${alice.token}` },
      });
      expect(trpcCall.status).toBe(503);
      expect(trpcCall.headers.get('retry-after')).toBe('1');
      const errorsBefore = legacy.frames.items.filter((f) => f.type === 'error').length;
      legacy.send({
        type: 'message',
        message_id: randomUUID(),
        conversation_id: room,
        content: 'during the outage',
      });
      const frames = await legacy.frames.until(
        (items) => items.filter((f) => f.type === 'error').length > errorsBefore,
        10_000,
      );
      expect(frames.filter((f) => f.type === 'error').at(-1)).toEqual({
        type: 'error',
        reason: 'Database unavailable, try again shortly',
      });
      // A socket opened now is told to come back later (1013), not to log in again (1008).
      const late = new WebSocket(`${wsUrl}/ws?token=${alice.token}`);
      late.on('error', () => {});
      const lateClose = await new Promise<{ code: number; reason: string }>((resolve) =>
        late.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
      );
      expect(lateClose).toEqual({ code: 1013, reason: 'Database unavailable, try again shortly' });

      await proxy.restore();
      const deadline = Date.now() + 15_000;
      while ((await rawRequest(`${url}/ready`)).status !== 200) {
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(100);
      }
      // Requests resume without a restart.
      const before = acknowledged.size;
      while (acknowledged.size < before + 20) await sleep(20);
    }
    running = false;
    await Promise.all(senders);
    expect(exited, server.output().slice(-3000)).toBeNull();
    expect(statuses.get(500)).toBeUndefined();
    expect(statuses.get(0)).toBeUndefined(); // no connection was ever refused or dropped
    expect(statuses.get(503)).toBeGreaterThan(0);

    // Every acknowledged message is stored, and the watcher has each of them.
    const check = new pg.Client({ connectionString: database.url });
    await check.connect();
    const { rows } = await check.query<{ id: string }>('select id from messages');
    await check.end();
    const ids = new Set(rows.map((r) => r.id));
    expect([...acknowledged].filter((id) => !ids.has(id))).toEqual([]);
    await stream.events.until(
      (items) => [...acknowledged].every((id) => items.some((e) => e.data.message?.id === id)),
      15_000,
    );
    survived['requests answered during the PostgreSQL cuts'] = [...statuses.values()].reduce(
      (a, b) => a + b,
      0,
    );
    legacy.ws.close();
    watcher.close();
  }, 60_000);
});

describe('a locked SQLite database', () => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let room: string;
  beforeAll(async () => {
    t = await startServer('sqlite');
    api = new Rest(t.url);
    alice = await api.user('alice');
    room = await api.conversation(alice.token, []);
  });
  afterAll(() => t.close());

  it('answers writes with 503 "busy" while another process holds it, stores no half-record, then recovers', async () => {
    const before = await rowCounts(t.server.database.db);
    const lock = new Database(t.database.url);
    lock.exec('BEGIN EXCLUSIVE');
    survived['SQLite locked by another connection'] = 1;
    try {
      const legacy = await legacySocket(t.url, `?token=${alice.token}`);
      await legacy.authenticated();
      const client = trpcClient(t.url, alice.token);
      const started = performance.now();
      const [send, create, viaTrpc] = await Promise.all([
        api.send(alice.token, alice.id, room, 'while locked'),
        api.post('/conversations', { title: 'while locked', member_ids: [] }, alice.token),
        rawRequest(`${t.url}/trpc/messages.send`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
          body: JSON.stringify({ message_id: randomUUID(), conversation_id: room, content: 'while locked' }),
        }),
      ]);
      legacy.send({
        type: 'message',
        message_id: randomUUID(),
        conversation_id: room,
        content: 'while locked',
      });
      const [frame] = await legacy.frames.count(1, 10_000);
      // Waiting is bounded by the busy timeout (5 s): nothing hangs.
      expect(performance.now() - started).toBeLessThan(8000);
      for (const reply of [send, create]) {
        expect(reply.status).toBe(503);
        expect(reply.body).toEqual({ detail: 'Database busy, try again shortly' });
        expect(reply.headers.get('retry-after')).toBe('1');
      }
      expect(viaTrpc.status).toBe(503);
      expect(frame).toEqual({ type: 'error', reason: 'Database busy, try again shortly' });
      // Reads go on (WAL), and the process is fine.
      expect((await api.get(`/conversations/${room}/messages`, alice.token)).status).toBe(200);
      expect((await api.get('/health')).status).toBe(200);
      legacy.ws.close();
      client.close();
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    expect(await rowCounts(t.server.database.db)).toEqual(before);
    expect((await api.send(alice.token, alice.id, room, 'after')).status).toBe(201);
  }, 30_000);

  it('answers writes with 503 "read-only" when the database stops taking writes, then recovers', async () => {
    // The main connection's writes (messages have a connection of their own, in the writer thread,
    // whose SQLite error codes reach the same translation: see the db package's message store tests).
    const db = t.server.database.db;
    await sql`pragma query_only = on`.execute(db);
    survived['SQLite read-only at run time'] = 1;
    try {
      const reply = await api.post('/conversations', { title: 'read-only', member_ids: [] }, alice.token);
      expect(reply.status).toBe(503);
      expect(reply.body).toEqual({ detail: 'Database is read-only' });
      expect(reply.headers.get('retry-after')).toBe('1');
    } finally {
      await sql`pragma query_only = off`.execute(db);
    }
    expect(
      (await api.post('/conversations', { title: 'writable', member_ids: [] }, alice.token)).status,
    ).toBe(201);
  });
});

describe('a database the server cannot use at start-up', () => {
  async function startFailure(env: Record<string, string>) {
    const error = await spawnServer(env, { bundled: true, honourFilePermissions: true }).then(
      (server) => {
        server.kill('SIGKILL');
        return null;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServerExit);
    const exit = error as ServerExit;
    expect(exit.code).toBe(1);
    const lines = exit.stderr.trim().split('\n');
    expect(lines, exit.stderr).toHaveLength(1);
    expect(lines[0]).not.toMatch(/^\s+at |\.ts:\d|\.js:\d/);
    return lines[0]!;
  }

  let template = '';
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-template-'));
    template = join(dir, 'pneumatic.db');
    const server = await spawnServer({ DATABASE_URL: template, DATA_DIR: dir }, { bundled: true });
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  /** A copy of a migrated SQLite file in a folder of its own. */
  function migratedFile() {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-ro-'));
    chmodSync(dir, 0o777);
    const file = join(dir, 'pneumatic.db');
    copyFileSync(template, file);
    return { dir, file };
  }

  it('stops with one line naming a read-only SQLite file', async () => {
    const { dir, file } = migratedFile();
    chmodSync(file, 0o444);
    const line = await startFailure({ DATABASE_URL: file, DATA_DIR: dir });
    expect(line).toBe(
      `pneumatic: Cannot write the database at ${file}: it is read-only (check the permissions of the file and its folder)`,
    );
    survived['read-only SQLite at start-up'] = 1;
  });

  it('stops with one line when the SQLite folder is read-only', async () => {
    const { dir, file } = migratedFile();
    chmodSync(file, 0o666);
    chmodSync(dir, 0o555);
    const line = await startFailure({ DATABASE_URL: file, DATA_DIR: dir });
    expect(line).toMatch(new RegExp(`^pneumatic: Cannot (write|open) the database at ${file}: `));
    chmodSync(dir, 0o777);
    survived['read-only SQLite folder at start-up'] = 1;
  });

  it('stops with one line when PostgreSQL cannot be reached', async () => {
    const url = new URL(ADMIN_URL);
    url.port = '1';
    const line = await startFailure({ DATABASE_URL: url.toString() });
    expect(line).toMatch(
      /^pneumatic: Cannot reach the database at postgres:\/\/.*127\.0\.0\.1:1\/.*ECONNREFUSED/,
    );
    survived['unreachable PostgreSQL at start-up'] = 1;
  });
});
