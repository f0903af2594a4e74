import { type RunningServer, startServer } from '@pneumatic/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionStatus } from '../src/index.ts';
import { liveEvents, signUp, sleep } from './support/people.ts';

// The server pings every 200 ms and drops a socket silent for 150 ms after a ping.
const PING_MS = 200;
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ env: { SOCKET_PING_MS: String(PING_MS), SOCKET_PONG_TIMEOUT_MS: '150' } });
});

afterAll(async () => {
  await server?.close();
});

/** tRPC sockets the server has accepted since it started. */
async function socketsOpened(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('pneumatic_websocket_connections_total{transport="trpc"}'));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

describe("the server's keep-alive", () => {
  it('keeps an SDK client on one socket across many ping periods, still delivering', async () => {
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const events = await liveEvents(bob);
    const statuses: ConnectionStatus[] = [];
    bob.connection.subscribe(() => statuses.push(bob.connection.get()));
    const opened = await socketsOpened();

    await sleep(PING_MS * 12);
    // Answered every PING: never dropped, never reconnected.
    expect(statuses).toEqual([]);
    expect(bob.connection.get()).toBe('online');
    expect(await socketsOpened()).toBe(opened);

    const conversation = await alice.api.conversations.create.mutate({
      title: '',
      member_ids: [bob.userId!],
    });
    await alice.sendMessage(conversation.id, 'are you there?');
    await events.until((items) =>
      items.some((e) => e.type === 'message' && e.message.content === 'are you there?'),
    );
    await Promise.all([alice.close(), bob.close()]);
  });
});
