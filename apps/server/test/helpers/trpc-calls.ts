import type { TestUser } from './rest.ts';
import { trpcClient } from './sockets.ts';

export type Client = ReturnType<typeof trpcClient>;

/** A tRPC call's failure reduced to its code and message; fails the test if the call succeeds. */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { data?: { code?: string } }).data?.code, message: (error as Error).message };
  }
  throw new Error('expected a rejection');
}

/**
 * One tRPC client per user, made on first use: each holds a socket, and a
 * user's sockets are capped. `close` closes them all.
 */
export function clientPerUser(url: () => string) {
  const clients = new Map<string, Client>();
  return {
    as(user: TestUser): Client {
      const c = clients.get(user.id) ?? trpcClient(url(), user.token);
      clients.set(user.id, c);
      return c;
    },
    close() {
      for (const c of clients.values()) c.close();
    },
  };
}
