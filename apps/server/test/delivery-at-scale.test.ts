import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { useChatFixture } from './helpers/chat-fixture.ts';
import type { TestUser } from './helpers/rest.ts';

const USERS = 100;
const SOCKETS_PER_USER = 10;
const MESSAGES = 40;
const SENDERS = 4;

interface Frame {
  id: number;
  result?: {
    type: string;
    id?: string;
    data?: { id: string; data: { type: string; message?: { seq: number; id: string } } };
  };
}

/** A raw /trpc socket subscribed to the event stream; resolves once the subscription started. */
async function subscriber(wsUrl: string, token: string): Promise<{ ws: WebSocket; frames: Frame[] }> {
  const ws = new WebSocket(`${wsUrl}/trpc?connectionParams=1`);
  const frames: Frame[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const text = String(data);
      if (text === 'PING') return void ws.send('PONG');
      const frame = JSON.parse(text) as Frame;
      frames.push(frame);
      if (frame.result?.type === 'started') resolve();
    });
    ws.once('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      ws.send(
        JSON.stringify({ id: 1, method: 'subscription', params: { path: 'events.stream', input: {} } }),
      );
    });
  });
  return { ws, frames };
}

describe('delivery to 1,000 subscribers of one conversation', () => {
  const f = useChatFixture('sqlite', { MAX_SOCKETS_PER_ADDRESS: USERS * SOCKETS_PER_USER + 10 });

  it('gives each subscriber every message once, in order', { timeout: 120_000 }, async () => {
    const users: TestUser[] = [f.alice];
    for (let i = 1; i < USERS; i++) users.push(await f.api.user('crowd'));
    const room = await f.api.conversation(
      f.alice.token,
      users.slice(1).map((u) => u.id),
      'crowded',
    );
    const sockets: Awaited<ReturnType<typeof subscriber>>[] = [];
    for (const user of users) {
      sockets.push(
        ...(await Promise.all(
          Array.from({ length: SOCKETS_PER_USER }, () => subscriber(f.t.wsUrl, user.token)),
        )),
      );
    }
    expect(sockets).toHaveLength(1000);

    // Several senders at once, so the writer batches them and the hub gets them back to back.
    const sent = await Promise.all(
      users.slice(0, SENDERS).map(async (sender, s) => {
        const replies = [];
        for (let i = 0; i < MESSAGES / SENDERS; i++)
          replies.push(f.api.send(sender.token, sender.id, room, `m${s}-${i}`));
        return Promise.all(replies);
      }),
    );
    for (const reply of sent.flat()) expect(reply.status).toBe(201);

    const messagesOf = (frames: Frame[]) =>
      frames
        .filter((frame) => frame.result?.data?.data.type === 'message')
        .map((frame) => frame.result!.data!);
    const deadline = Date.now() + 30_000;
    while (sockets.some((s) => messagesOf(s.frames).length < MESSAGES) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    // A moment for anything extra (a duplicate) to arrive.
    await new Promise((resolve) => setTimeout(resolve, 200));

    for (const { frames } of sockets) {
      const got = messagesOf(frames);
      expect(got).toHaveLength(MESSAGES);
      expect(got.map((e) => e.data.message!.seq)).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
      const positions = got.map((e) => Number(e.id));
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(new Set(got.map((e) => e.data.message!.id)).size).toBe(MESSAGES);
    }
    for (const { ws } of sockets) ws.terminate();
  });
});
