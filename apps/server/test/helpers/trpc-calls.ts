import type { TestUser } from './rest.ts';
import { trpcClient } from './sockets.ts';

export type Client = ReturnType<typeof trpcClient>;

/** What a tRPC call that must fail failed with: its tRPC code and message. */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { data?: { code?: string } }).data?.code, message: (error as Error).message };
  }
  throw new Error('expected a rejection');
}

/** tRPC clients made on demand for the users of a test file, closed together at its end. */
export function clientPool(url: () => string) {
  const clients: ReturnType<typeof trpcClient>[] = [];
  return {
    as(user: TestUser) {
      const client = trpcClient(url(), user.token);
      clients.push(client);
      return client;
    },
    closeAll() {
      for (const client of clients.splice(0)) client.close();
    },
  };
}

/**
 * One tRPC client per user, made on first use: each holds a socket, and a
 * user's sockets are capped. `close` closes them all.
 */
export function clientPerUser(url: () => string) {
  const pool = clientPool(url);
  const clients = new Map<string, Client>();
  return {
    as(user: TestUser): Client {
      const client = clients.get(user.id) ?? pool.as(user);
      clients.set(user.id, client);
      return client;
    },
    close: () => pool.closeAll(),
  };
}
