import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { useChatFixture } from './helpers/chat-fixture.ts';
import { legacySocket, sleep, trpcClient } from './helpers/sockets.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Whether anything still holds the requests once collected (WeakRefs clear only between jobs). */
async function retained(requests: WeakRef<IncomingMessage>[]): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await sleep(20);
    gc();
  }
  await sleep(20);
  return requests.filter((ref) => ref.deref() !== undefined).length;
}

/**
 * An open socket keeps nothing of the HTTP request that opened it: not the
 * request with its headers. Thousands of idle sockets would otherwise each hold a
 * request's worth of memory for as long as they stay open.
 */
describe('what an open socket keeps', () => {
  const f = useChatFixture('sqlite');

  it('lets the upgrade request go while legacy and tRPC sockets stay open and deliver', async () => {
    const requests: WeakRef<IncomingMessage>[] = [];
    const track = (_ws: WebSocket, request: IncomingMessage) => requests.push(new WeakRef(request));
    f.t.server.upgrades.server.on('connection', track);
    try {
      const legacy = await legacySocket(f.t.url, `?token=${f.bob.token}`);
      await legacy.authenticated();
      const trpc = trpcClient(f.t.url, f.bob.token);
      const stream = trpc.stream();
      await stream.started.count(1);
      const idle = trpcClient(f.t.url, f.alice.token);
      await idle.client.auth.me.query();
      expect(requests.length).toBeGreaterThanOrEqual(2);

      expect(await retained(requests)).toBe(0);

      // Still served: a message reaches both of bob's sockets.
      const sent = await f.api.send(f.alice.token, f.alice.id, f.chat, 'after the collection');
      expect(sent.status).toBe(201);
      const [frame] = await legacy.frames.count(1);
      expect(frame).toMatchObject({ type: 'message', message: { content: 'after the collection' } });
      const [event] = await stream.events.count(1);
      expect(event?.data.message?.content).toBe('after the collection');
      legacy.ws.close();
      trpc.close();
      idle.close();
    } finally {
      f.t.server.upgrades.server.off('connection', track);
    }
  });
});
