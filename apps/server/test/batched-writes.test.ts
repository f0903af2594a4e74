import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { sendBatched } from '../src/sockets/batched-writes.ts';
import { Inbox } from './helpers/sockets.ts';

describe('frames of one turn leave together', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    for (const client of server?.clients ?? []) client.terminate();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A server-side socket and what its peer receives: each TCP read, and each frame. */
  async function pair() {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server!.once('listening', resolve));
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
    for (let i = 0; i < 50; i++) sendBatched(ws, `frame ${i}`);
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
    sendBatched(ws, 'later');
    await frames.count(52);
    expect(frames.items.at(-1)).toBe('later');
  });

  it('leaves a closed socket alone', async () => {
    const { ws } = await pair();
    ws.terminate();
    expect(() => sendBatched(ws, 'too late')).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
  });
});
