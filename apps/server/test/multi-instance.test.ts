import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer } from './helpers/process.ts';
import { Rest } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { legacySocket, sleep, trpcClient } from './helpers/sockets.ts';
import { TcpProxy } from './helpers/tcp-proxy.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('several instances on one PostgreSQL and Redis', () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let apiA: Rest;
  let apiB: Rest;
  const closers: Array<() => void> = [];
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    a = await startServer('postgres', { REDIS_URL: REDIS_URL }, { database });
    b = await startServer('postgres', { REDIS_URL: REDIS_URL }, { database });
    apiA = new Rest(a.url);
    apiB = new Rest(b.url);
  });
  afterAll(async () => {
    for (const close of closers) close();
    await a.close();
    await b.close();
    await database.drop();
  });

  it('delivers live between users connected to different instances', async () => {
    const alice = await apiA.user('alice');
    const bob = await apiB.user('bob');
    const aliceStream = trpcClient(a.url, alice.token);
    const bobStream = trpcClient(b.url, bob.token);
    closers.push(
      () => aliceStream.close(),
      () => bobStream.close(),
    );
    const sa = aliceStream.stream();
    const sb = bobStream.stream();
    await Promise.all([sa.started.count(1), sb.started.count(1)]);
    const bobLegacy = await legacySocket(b.url, `?token=${bob.token}`);
    await bobLegacy.authenticated();

    const room = await apiA.conversation(alice.token, [bob.id]);
    await sb.events.count(1); // the new conversation, announced on B
    const sent = await apiA.send(alice.token, alice.id, room, 'from A');
    const bobEvents = await sb.events.count(2);
    expect(bobEvents[1]!.data).toEqual({ type: 'message', message: sent.body });
    expect((await bobLegacy.frames.count(1))[0].message.id).toBe(sent.body.id);

    bobLegacy.send({ type: 'message', message_id: randomUUID(), conversation_id: room, content: 'from B' });
    const aliceEvents = await sa.events.count(3);
    expect(aliceEvents[2]!.data.message?.content).toBe('from B');
    bobLegacy.ws.close();
  });

  it('carries typing and presence across instances', async () => {
    const carol = await apiA.user('carol');
    const dave = await apiB.user('dave');
    const room = await apiA.conversation(carol.token, [dave.id]);
    // Dave watches from B; carol comes online and types on A.
    const daveOnB = trpcClient(b.url, dave.token);
    closers.push(() => daveOnB.close());
    const watch = daveOnB.stream(undefined, { presence: true });
    await watch.started.count(1);
    const carolOnA = trpcClient(a.url, carol.token);
    closers.push(() => carolOnA.close());
    await carolOnA.stream().started.count(1);
    await watch.events.until((items) =>
      items.some((e) => e.data.type === 'presence' && (e.data as { user_id?: string }).user_id === carol.id),
    );
    const seenFromB = (await daveOnB.client.users.list.query()).users.find((u) => u.id === carol.id);
    expect(seenFromB?.online).toBe(true);
    await carolOnA.client.conversations.typing.mutate({ conversation_id: room });
    const typing = await watch.events.until((items) => items.some((e) => e.data.type === 'typing'));
    expect(typing.find((e) => e.data.type === 'typing')!.data).toMatchObject({
      conversation_id: room,
      user_id: carol.id,
    });
    // Carol's mute on A reaches her own device on B, and no one else.
    const carolOnB = trpcClient(b.url, carol.token);
    closers.push(() => carolOnB.close());
    const carolsWatch = carolOnB.stream();
    await carolsWatch.started.count(1);
    await carolOnA.client.conversations.setMuted.mutate({ conversation_id: room, muted: true });
    const mute = await carolsWatch.events.until((items) => items.some((e) => e.data.type === 'mute'));
    expect(mute.find((e) => e.data.type === 'mute')!.data).toEqual({
      type: 'mute',
      conversation_id: room,
      muted: true,
    });
    await sleep(100);
    expect(watch.events.items.some((e) => e.data.type === 'mute')).toBe(false);
  });

  it("carries reactions to the other instance's sockets, and the reaction on A to B's history", async () => {
    const erin = await apiA.user('erin');
    const frank = await apiB.user('frank');
    const room = await apiA.conversation(erin.token, [frank.id]);
    const frankOnB = trpcClient(b.url, frank.token);
    const erinOnA = trpcClient(a.url, erin.token);
    closers.push(
      () => frankOnB.close(),
      () => erinOnA.close(),
    );
    const watch = frankOnB.stream();
    await watch.started.count(1);
    const sent = await apiA.send(erin.token, erin.id, room, 'react on the other side');
    const reacted = await erinOnA.client.messages.react.mutate({ id: sent.body.id, emoji: '👍', on: true });
    const events = await watch.events.until((items) => items.some((e) => e.data.type === 'reaction'));
    expect(events.find((e) => e.data.type === 'reaction')!.data).toEqual({ type: 'reaction', ...reacted });
    const page = await frankOnB.client.messages.list.query({ conversation_id: room });
    expect(page.messages.find((m) => m.id === sent.body.id)!.reactions).toEqual([
      { emoji: '👍', count: 1, user_ids: [erin.id] },
    ]);
  });

  it('resumes a client that moves from A to B with exactly what it missed', async () => {
    const alice = await apiA.user('mover');
    const bob = await apiA.user('talker');
    const room = await apiA.conversation(bob.token, [alice.id]);
    const onA = trpcClient(a.url, alice.token);
    const s = onA.stream();
    await s.started.count(1);
    await apiA.send(bob.token, bob.id, room, 'seen on A');
    await s.events.until((items) => items.some((e) => e.data.type === 'message'));
    const lastId = s.events.items.at(-1)!.id;
    onA.close();

    const missed: string[] = [];
    for (let i = 0; i < 20; i++) {
      const api = i % 2 === 0 ? apiA : apiB;
      missed.push((await api.send(bob.token, bob.id, room, `missed ${i}`)).body.id);
    }
    const onB = trpcClient(b.url, alice.token);
    closers.push(() => onB.close());
    const resumed = onB.stream(lastId);
    const replay = await resumed.events.count(20);
    expect(replay.map((e) => e.data.message?.id)).toEqual(missed);
    const live = await apiA.send(bob.token, bob.id, room, 'live on B');
    expect((await resumed.events.count(21))[20]!.data.message?.id).toBe(live.body.id);
    await sleep(300);
    expect(resumed.events.items).toHaveLength(21);
  });

  it("closes the user's other sockets on the other instance when the password changes on this one", async () => {
    const alice = await apiA.user('alice');
    const other = await apiB.post('/auth/login', { username: alice.username, password: alice.password });
    const onB = trpcClient(b.url, other.body.access_token);
    closers.push(() => onB.close());
    await onB.stream().started.count(1);
    const legacyOnB = await legacySocket(b.url, `?token=${other.body.access_token}`);
    closers.push(() => legacyOnB.ws.close());
    await legacyOnB.authenticated();
    const changed = await apiA.post(
      '/auth/password',
      { current_password: alice.password, new_password: 'a brand new password' },
      alice.token,
    );
    expect(changed.status).toBe(204);
    expect((await onB.closes.count(1))[0]).toMatchObject({ code: 4403, reason: 'session revoked' });
    expect((await legacyOnB.closed.count(1))[0]).toEqual({ code: 4403, reason: 'session revoked' });
    expect((await apiB.post('/auth/refresh', { refresh_token: other.body.refresh_token })).status).toBe(401);
    expect((await apiB.get('/auth/me', alice.token)).status).toBe(200);
  });
});

describe('an instance killed while messages flow', () => {
  it('loses no acknowledged message, and its clients resume on the other instance', async () => {
    const database = await createTestDatabase('postgres');
    const env = { DATABASE_URL: database.url, REDIS_URL };
    const a = await spawnServer(env);
    const b = await spawnServer(env);
    try {
      const apiA = new Rest(a.url);
      const apiB = new Rest(b.url);
      const alice = await apiA.user('alice');
      const bob = await apiA.user('bob');
      const room = await apiA.conversation(alice.token, [bob.id]);

      const aliceOnA = trpcClient(a.url, alice.token);
      const bobOnB = trpcClient(b.url, bob.token);
      const sa = aliceOnA.stream();
      const sb = bobOnB.stream();
      await Promise.all([sa.started.count(1), sb.started.count(1)]);

      const acknowledged: string[] = [];
      let killed = false;
      const sender = (async () => {
        for (let i = 0; i < 400 && !(killed && acknowledged.length > 0 && i > 200); i++) {
          const api = i % 2 === 0 ? apiA : apiB;
          try {
            const reply = await api.send(alice.token, alice.id, room, `m${i}`);
            if (reply.status === 201) acknowledged.push(reply.body.id);
          } catch {
            // A request to the killed instance fails: not acknowledged, nothing to check.
          }
        }
      })();
      await sleep(400);
      a.kill('SIGKILL');
      killed = true;
      await a.exited;
      await sender;
      expect(acknowledged.length).toBeGreaterThan(50);

      // Every acknowledged message is stored.
      const history = await apiB.get(`/conversations/${room}/messages?limit=200`, alice.token);
      const stored = new Set<string>();
      let page = history.body;
      for (;;) {
        for (const m of page.messages) stored.add(m.id);
        if (page.next_cursor === null) break;
        page = (
          await apiB.get(`/conversations/${room}/messages?limit=200&before=${page.next_cursor}`, alice.token)
        ).body;
      }
      for (const id of acknowledged) expect(stored.has(id)).toBe(true);

      // Bob, on the surviving instance, has every acknowledged message.
      await sb.events.until(
        (items) => acknowledged.every((id) => items.some((e) => e.data.message?.id === id)),
        15_000,
      );

      // Alice resumes on B from the last event she had on A and ends up with everything.
      const lastSeen = sa.events.items.at(-1)?.id;
      aliceOnA.close();
      const aliceOnB = trpcClient(b.url, alice.token);
      const resumed = aliceOnB.stream(lastSeen);
      await resumed.started.count(1);
      const seen = new Set([...sa.events.items, ...resumed.events.items].map((e) => e.data.message?.id));
      await resumed.events.until(() => {
        for (const e of resumed.events.items) seen.add(e.data.message?.id);
        return acknowledged.every((id) => seen.has(id));
      }, 15_000);
      const ids = resumed.events.items.map((e) => e.data.message?.id);
      expect(new Set(ids).size).toBe(ids.length);
      aliceOnB.close();
      bobOnB.close();
    } finally {
      a.kill('SIGKILL');
      b.kill('SIGTERM');
      await b.exited;
      await database.drop();
    }
  }, 90_000);
});

describe('a Redis outage', () => {
  it('leaves both instances up, and once Redis is back every client has every message', async () => {
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(REDIS_URL).port || 6379));
    await proxy.start();
    const database = await createTestDatabase('postgres');
    const a = await startServer('postgres', { REDIS_URL: proxy.url }, { database });
    const b = await startServer('postgres', { REDIS_URL: proxy.url }, { database });
    try {
      const apiA = new Rest(a.url);
      const apiB = new Rest(b.url);
      const alice = await apiA.user('alice');
      const bob = await apiB.user('bob');
      const room = await apiA.conversation(alice.token, [bob.id]);
      const onA = trpcClient(a.url, alice.token);
      const onB = trpcClient(b.url, bob.token);
      const sa = onA.stream();
      const sb = onB.stream();
      await Promise.all([sa.started.count(1), sb.started.count(1)]);

      const sent: string[] = [];
      sent.push((await apiA.send(alice.token, alice.id, room, 'before')).body.id);
      await proxy.cut();
      for (let i = 0; i < 10; i++) {
        sent.push((await apiA.send(alice.token, alice.id, room, `during A ${i}`)).body.id);
        sent.push((await apiB.send(bob.token, bob.id, room, `during B ${i}`)).body.id);
        await sleep(200);
      }
      // Both instances keep serving; readiness reports the outage.
      expect((await fetch(`${a.url}/health`)).status).toBe(200);
      expect((await fetch(`${b.url}/ready`)).status).toBe(503);
      await proxy.restore();
      sent.push((await apiB.send(bob.token, bob.id, room, 'after')).body.id);

      const hasAll = (items: typeof sa.events.items) =>
        sent.every((id) => items.some((e) => e.data.message?.id === id));
      await sa.events.until(hasAll, 15_000);
      await sb.events.until(hasAll, 15_000);
      for (const s of [sa, sb]) {
        const ids = s.events.items.map((e) => Number(e.id));
        expect(ids).toEqual([...new Set(ids)].sort((x, y) => x - y));
      }
      await expect.poll(async () => (await fetch(`${b.url}/ready`)).status, { timeout: 10_000 }).toBe(200);
      onA.close();
      onB.close();
    } finally {
      await a.close();
      await b.close();
      await proxy.cut();
      await database.drop();
    }
  }, 60_000);
});
