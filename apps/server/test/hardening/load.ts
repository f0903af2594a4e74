import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Rest, type TestUser } from '../helpers/rest.ts';
import { sleep, trpcClient } from '../helpers/sockets.ts';

/** Statuses a send may meet while the server goes away; anything else fails the burst. */
const GOING_AWAY = new Set([503]);

/**
 * Sends as fast as the server acknowledges, over REST (three lanes), /ws
 * and a tRPC socket, until stopped; collects the ids of acknowledged
 * messages: a 201, the /ws echo, a tRPC answer. A connection that fails is
 * no acknowledgement and not an error.
 */
export function burst(url: string, user: TestUser, room: string, label: string) {
  const acknowledged = new Set<string>();
  const byLane: Record<string, number> = { rest: 0, legacy: 0, trpc: 0 };
  const problems: string[] = [];
  let running = true;
  let sent = 0;
  const api = new Rest(url);
  const ack = (lane: string, id: string) => {
    acknowledged.add(id);
    byLane[lane] = (byLane[lane] ?? 0) + 1;
  };

  const rest = Array.from({ length: 3 }, async (_, lane) => {
    for (let i = 0; running; i++) {
      sent++;
      const reply = await api.send(user.token, user.id, room, `${label} rest ${lane}.${i}`).catch(() => null);
      if (reply?.status === 201) ack('rest', reply.body.id);
      else {
        if (reply && !GOING_AWAY.has(reply.status))
          problems.push(`REST ${reply.status}: ${JSON.stringify(reply.body)}`);
        await sleep(5);
      }
    }
  });

  const legacy = (async () => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?token=${user.token}`);
    ws.on('error', () => {});
    const waiting = new Set<string>();
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'error' && frame.reason !== 'server shutting down')
        problems.push(`/ws error: ${frame.reason}`);
      // The echo of our own message is its acknowledgement.
      if (frame.type === 'message' && waiting.delete(frame.message.message_id))
        ack('legacy', frame.message.id);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await new Promise((resolve) => ws.once('open', resolve)).catch(() => {});
    for (let i = 0; running && ws.readyState === WebSocket.OPEN; i++) {
      // A few frames in flight, as a client that waits for echoes keeps.
      while (waiting.size >= 8 && running && ws.readyState === WebSocket.OPEN) await sleep(1);
      const messageId = randomUUID();
      waiting.add(messageId);
      sent++;
      ws.send(
        JSON.stringify({
          type: 'message',
          message_id: messageId,
          conversation_id: room,
          content: `${label} ws ${i}`,
        }),
      );
    }
    ws.terminate();
    await closed;
  })();

  const socket = trpcClient(url, user.token, { allOverSocket: true });
  const trpc = (async () => {
    for (let i = 0; running; i++) {
      sent++;
      const message = await Promise.race([
        socket.client.messages.send
          .mutate({ message_id: randomUUID(), conversation_id: room, content: `${label} trpc ${i}` })
          .catch(() => null),
        // A call to a dead server is retried by the client forever: stop waiting when the burst stops.
        (async () => {
          while (running) await sleep(20);
          return null;
        })(),
      ]);
      if (message) ack('trpc', message.id);
      else await sleep(5);
    }
  })();

  return {
    acknowledged,
    byLane,
    sent: () => sent,
    async stop() {
      running = false;
      await Promise.all([...rest, legacy, trpc]);
      socket.close();
      if (problems.length > 0) throw new Error(`the burst met: ${problems.slice(0, 5).join('; ')}`);
    },
  };
}
