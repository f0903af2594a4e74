import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { legacySocket, sleep, trpcClient } from './helpers/sockets.ts';

describe.each(DIALECTS)('live delivery over tRPC subscriptions (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let chat: string;
  const clients: Array<{ close(): void }> = [];
  const connect = (token: string) => {
    const c = trpcClient(t.url, token);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    t = await startServer(dialect, { REPLAY_LIMIT: 50 });
    api = new Rest(t.url);
    alice = await api.user('alice');
    bob = await api.user('bob');
    mallory = await api.user('mallory');
    chat = await api.conversation(alice.token, [bob.id]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t.close();
  });

  it('delivers to every device of every member and to no one else', async () => {
    const phone = connect(alice.token).stream();
    const laptop = connect(alice.token).stream();
    const bobs = connect(bob.token).stream();
    const outsider = connect(mallory.token).stream();
    await Promise.all([phone, laptop, bobs, outsider].map((s) => s.started.count(1)));

    const sent = await api.send(bob.token, bob.id, chat, 'to all devices');
    for (const s of [phone, laptop, bobs]) {
      const [item] = await s.events.count(1);
      expect(item!.data).toEqual({ type: 'message', message: sent.body });
      expect(item!.id).toMatch(/^\d+$/);
    }
    await sleep(200);
    expect(outsider.events.items).toHaveLength(0);
    for (const s of [phone, laptop, bobs, outsider]) s.unsubscribe();
  });

  it('announces a new conversation to the members it adds', async () => {
    const carol = await api.user('carol');
    const s = connect(carol.token).stream();
    await s.started.count(1);
    const id = await api.conversation(alice.token, [carol.id, bob.id], 'welcome carol');
    const [item] = await s.events.count(1);
    expect(item!.data).toMatchObject({ type: 'conversation', conversation: { id, title: 'welcome carol' } });
    s.unsubscribe();
  });

  it('brings a message sent over REST to tRPC and /ws alike, and one sent over /ws to tRPC', async () => {
    const s = connect(bob.token).stream();
    await s.started.count(1);
    const legacy = await legacySocket(t.url, `?token=${bob.token}`);
    await api.send(alice.token, alice.id, chat, 'from rest');
    await s.events.count(1);
    const [frame] = await legacy.frames.count(1);
    expect(frame).toMatchObject({ type: 'message', message: { content: 'from rest', sender_id: alice.id } });

    const aliceLegacy = await legacySocket(t.url, `?token=${alice.token}`);
    aliceLegacy.send({
      type: 'message',
      message_id: randomUUID(),
      conversation_id: chat,
      content: 'from ws',
    });
    const items = await s.events.count(2);
    expect(items[1]!.data.message).toMatchObject({ content: 'from ws' });
    expect(Number(items[1]!.id)).toBeGreaterThan(Number(items[0]!.id));
    legacy.ws.close();
    aliceLegacy.ws.close();
    s.unsubscribe();
  });

  it('delivers nothing new for a repeated message_id', async () => {
    const s = connect(bob.token).stream();
    await s.started.count(1);
    const messageId = randomUUID();
    await api.send(alice.token, alice.id, chat, 'once only', messageId);
    await api.send(alice.token, alice.id, chat, 'once only', messageId);
    await s.events.count(1);
    await sleep(300);
    expect(s.events.items).toHaveLength(1);
    s.unsubscribe();
  });

  it('resumes after a disconnect with exactly the missed messages, then live', async () => {
    const first = connect(bob.token);
    const s = first.stream();
    await s.started.count(1);
    await api.send(alice.token, alice.id, chat, 'before the gap');
    const [last] = await s.events.count(1);
    first.close();

    const missed: string[] = [];
    for (let i = 0; i < 30; i++) {
      missed.push((await api.send(alice.token, alice.id, chat, `missed ${i}`)).body.id);
    }
    const resumed = connect(bob.token).stream(last!.id);
    await resumed.started.count(1);
    const replay = await resumed.events.count(30);
    expect(replay.map((e) => e.data.message?.id)).toEqual(missed);
    const ids = replay.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const live = await api.send(alice.token, alice.id, chat, 'live again');
    const all = await resumed.events.count(31);
    expect(all[30]!.data.message?.id).toBe(live.body.id);
    await sleep(200);
    expect(resumed.events.items).toHaveLength(31);
    resumed.unsubscribe();
  });

  it('tells a client that missed more than the replay bound to resync', async () => {
    const first = connect(bob.token);
    const s = first.stream();
    await s.started.count(1);
    await api.send(alice.token, alice.id, chat, 'mark');
    const [last] = await s.events.count(1);
    first.close();
    for (let i = 0; i < 51; i++) await api.send(alice.token, alice.id, chat, `flood ${i}`);

    const resumed = connect(bob.token).stream(last!.id);
    const [resync] = await resumed.events.count(1);
    expect(resync!.data).toEqual({ type: 'resync' });
    const live = await api.send(alice.token, alice.id, chat, 'after resync');
    const items = await resumed.events.count(2);
    expect(items[1]!.data.message?.id).toBe(live.body.id);
    resumed.unsubscribe();
  });

  it('keeps order and loses nothing with many concurrent senders', async () => {
    const dave = await api.user('dave');
    const room = await api.conversation(alice.token, [bob.id, dave.id], 'busy');
    const s = connect(dave.token).stream();
    await s.started.count(1);
    const senders = [alice, bob, dave];
    const sent = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        api.send(senders[i % 3]!.token, senders[i % 3]!.id, room, `c${i}`),
      ),
    );
    const items = await s.events.count(60);
    expect(new Set(items.map((e) => e.data.message?.id))).toEqual(new Set(sent.map((r) => r.body.id)));
    const positions = items.map((e) => Number(e.id));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    const seqs = items.map((e) => e.data.message!.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    s.unsubscribe();
  });

  it('refuses a socket without a valid token, saying why, and closes it', async () => {
    const ws = new WebSocket(`${t.wsUrl}/trpc?connectionParams=1`);
    const frames: string[] = [];
    ws.on('message', (data) => frames.push(data.toString()));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ method: 'connectionParams', data: { token: 'not-a-token' } }));
    await closed;
    const error = JSON.parse(frames[0]!);
    expect(error.error.message).toBe('Invalid authentication token');
    expect(error.error.data.code).toBe('UNAUTHORIZED');
  });

  it('closes live sockets of a login that logs out', async () => {
    const erin = await api.user('erin');
    const c = connect(erin.token);
    const s = c.stream();
    await s.started.count(1);
    const legacy = await legacySocket(t.url, `?token=${erin.token}`);
    await legacy.authenticated();
    expect((await api.post('/auth/logout', { refresh_token: erin.refreshToken })).status).toBe(204);
    const [closed] = await c.closes.count(1);
    expect(closed).toMatchObject({ code: 4403, reason: 'session revoked' });
    const [legacyClosed] = await legacy.closed.count(1);
    expect(legacyClosed).toEqual({ code: 4403, reason: 'session revoked' });
  });

  it('closes live sockets of a family revoked by refresh-token reuse', async () => {
    const fay = await api.user('fay');
    const c = connect(fay.token);
    const s = c.stream();
    await s.started.count(1);
    await api.post('/auth/refresh', { refresh_token: fay.refreshToken });
    await api.post('/auth/refresh', { refresh_token: fay.refreshToken });
    const [closed] = await c.closes.count(1);
    expect(closed?.code).toBe(4403);
  });
});

describe('token expiry on live sockets', () => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    t = await startServer('sqlite', { ACCESS_TOKEN_TTL_SECONDS: 3 });
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  it('closes the socket with a reason the client can act on when the access token expires', async () => {
    const user = await api.user('brief');
    const c = trpcClient(t.url, user.token);
    const s = c.stream();
    await s.started.count(1);
    const legacy = await legacySocket(t.url, `?token=${user.token}`);
    await legacy.authenticated();
    const [closed] = await c.closes.count(1, 6000);
    expect(closed).toMatchObject({ code: 4401, reason: 'access token expired' });
    const [legacyClosed] = await legacy.closed.count(1, 6000);
    expect(legacyClosed).toEqual({ code: 4401, reason: 'access token expired' });
    c.close();
  });
});
