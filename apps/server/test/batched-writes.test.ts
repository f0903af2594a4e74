import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { FLUSH_SLICE_MS, frameOnce, SharedFrame, sendBatched } from '../src/sockets/batched-writes.ts';
import { Inbox } from './helpers/sockets.ts';

describe('frames of one turn leave together', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    for (const client of server?.clients ?? []) client.terminate();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  /** A server-side socket and what its peer receives: each TCP read, and each frame. */
  async function pair() {
    if (!server) {
      server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await new Promise((resolve) => server!.once('listening', resolve));
    }
    const accepted = new Promise<WebSocket>((resolve) => server!.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const frames = new Inbox<string>();
    client.on('message', (data) => frames.push(String(data)));
    await new Promise((resolve) => client.once('open', resolve));
    const ws = await accepted;
    const reads = new Inbox<number>();
    (client as unknown as { _socket: Socket })._socket.on('data', (chunk: Buffer) =>
      reads.push(chunk.length),
    );
    return { ws, frames, reads };
  }

  it('sends every frame, in order, in one write once the turn has run', async () => {
    const { ws, frames, reads } = await pair();
    const connection = (ws as unknown as { _socket: Socket })._socket;
    for (let i = 0; i < 50; i++) sendBatched(ws, new SharedFrame(`frame ${i}`));
    // A reply in the same turn joins them.
    ws.send('reply');
    expect(connection.writableCorked).toBe(1);
    expect(frames.items).toEqual([]);

    await frames.count(51);
    expect(frames.items).toEqual([...Array.from({ length: 50 }, (_, i) => `frame ${i}`), 'reply']);
    expect(connection.writableCorked).toBe(0);
    // 51 frames, one write (a loopback read may still split it; far fewer than 51 in any case).
    expect(reads.items.length).toBeLessThanOrEqual(2);

    // The next turn starts over.
    sendBatched(ws, new SharedFrame('later'));
    await frames.count(52);
    expect(frames.items.at(-1)).toBe('later');
  });

  it('leaves a closed socket alone', async () => {
    const { ws } = await pair();
    ws.terminate();
    expect(() => sendBatched(ws, new SharedFrame('too late'))).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
  });

  it("arrive as sent at every length the frame header encodes differently, each socket given the event's one frame", async () => {
    const { ws, frames } = await pair();
    // 7-bit, 16-bit and 64-bit payload lengths, at and around their limits, in UTF-8 (é is two bytes).
    const texts = [0, 1, 125, 126, 127, 65535, 65536, 70000].map((n) => 'x'.repeat(n));
    texts.push('é'.repeat(63), 'é'.repeat(64), '🎉 "quoted" \\ line\n');
    for (const text of texts) sendBatched(ws, new SharedFrame(text));
    await frames.count(texts.length);
    expect(frames.items).toEqual(texts);

    const event = { type: 'message', message: { content: 'hi' } };
    expect(frameOnce(event)).toBe(frameOnce(event));
    expect(frameOnce(event).text).toBe(JSON.stringify(event));
  });

  it('leave through ws when its sender has frames queued, after them', async () => {
    const { ws, frames } = await pair();
    const sender = (ws as unknown as { _sender: { _state: number; _queue: unknown[] } })._sender;
    // As while ws compresses or reads a Blob: what is sent meanwhile waits in its queue.
    sender._state = 1;
    ws.send('queued first');
    sendBatched(ws, new SharedFrame('then this'));
    expect(sender._queue.length).toBe(2);
    sender._state = 0;
    (sender as unknown as { dequeue(): void }).dequeue();
    await frames.count(2);
    expect(frames.items).toEqual(['queued first', 'then this']);
  });

  it('uncork in slices of a few ms: what remains goes out a turn later, in order, with what came meanwhile', async () => {
    const pairs: Awaited<ReturnType<typeof pair>>[] = [];
    for (let i = 0; i < 48; i++) pairs.push(await pair());
    // Each write as slow as a loaded machine's, 1 ms: 48 of them would hold the loop for 48 ms.
    const uncorked: number[] = [];
    pairs.forEach(({ ws }, i) => {
      const connection = (ws as unknown as { _socket: Socket })._socket;
      const uncork = connection.uncork.bind(connection);
      connection.uncork = () => {
        const until = performance.now() + 1;
        while (performance.now() < until) {}
        uncorked.push(i);
        uncork();
      };
    });
    for (const { ws } of pairs) sendBatched(ws, new SharedFrame('first'));
    // Runs right after the first slice, in the same turn.
    const afterFirstSlice = new Promise<number>((resolve) => setImmediate(() => resolve(uncorked.length)));
    const firstSlice = await afterFirstSlice;
    expect(firstSlice).toBeGreaterThanOrEqual(16);
    expect(firstSlice).toBeLessThanOrEqual(16 * Math.ceil((FLUSH_SLICE_MS + 1) / 16) + 16);
    expect(firstSlice).toBeLessThan(48);
    // A socket still waiting its turn takes more frames; they leave after the first, in the same write.
    const waiting = pairs.at(-1)!;
    sendBatched(waiting.ws, new SharedFrame('second'));
    for (const { frames } of pairs) await frames.count(1);
    await waiting.frames.count(2);
    expect(waiting.frames.items).toEqual(['first', 'second']);
    // Every socket once, in the order they were corked.
    expect(uncorked).toEqual(pairs.map((_, i) => i));
    expect(waiting.reads.items.length).toBe(1);
  });
});
