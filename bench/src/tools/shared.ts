// What the profiling tools (steps.ts, connect-rounds.ts, writer.ts, insert-cost.ts) share: a server of the kind
// asked for, each thread's CPU between two readings, and the writer tools' population.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor } from '@pneumatic/db';
import { seedRooms } from '@pneumatic/db/testing';
import { ensureServerBuilt, type ServerProcess, startBaselineServer, startRealServer } from '../processes.ts';

export const KINDS = ['legacy', 'trpc', 'durable-limit'] as const;
export type Kind = (typeof KINDS)[number];

export function isKind(value: string | undefined): value is Kind {
  return (KINDS as readonly string[]).includes(value ?? '');
}

/** The real server (legacy or tRPC load alike) or the durable limit, in a temp folder removed by `stop`. */
export async function startServer(
  kind: Kind,
): Promise<{ server: ServerProcess; restart(): Promise<ServerProcess>; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'pneumatic-tool-'));
  if (kind !== 'durable-limit') ensureServerBuilt();
  const start = () =>
    kind === 'durable-limit'
      ? startBaselineServer({ durableFile: join(dir, 'messages.db') })
      : startRealServer({ dataDir: dir });
  let server = await start();
  return {
    get server() {
      return server;
    },
    /** A new process on the same data: what `pnpm bench` measures connecting on (its population made on another). */
    async restart() {
      await server.stop();
      server = await start();
      return server;
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Each thread's CPU between two readings of `server.threadCpuSeconds()`,
 * in µs per `units` (messages, sockets), busiest first: `main` for the event
 * loop, the thread id otherwise (the busiest other one of the real server is
 * its SQLite writer thread). Threads under 0.005 s are left out.
 */
export function threadCpuPer(
  server: Pick<ServerProcess, 'pid'>,
  before: Map<number, number>,
  after: Map<number, number>,
  units: number,
): string {
  return [...after]
    .map(([tid, seconds]) => [tid, seconds - (before.get(tid) ?? 0)] as const)
    .filter(([, seconds]) => seconds >= 0.005)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([tid, seconds]) => `${tid === server.pid ? 'main' : tid} ${((seconds * 1e6) / units).toFixed(1)}`)
    .join(', ');
}

/** A conversation of the writer tools' population: its id and its members' user ids. */
export interface Room {
  id: string;
  members: string[];
}

/**
 * The writer tools' population, straight into a migrated database: 200
 * conversations of 5 members (the bench's), each member a user of its own.
 */
export async function seedPopulation(db: Executor, conversations = 200, members = 5): Promise<Room[]> {
  const rooms: Room[] = [];
  for (let r = 0; r < conversations; r++) {
    const room = { id: randomUUID(), members: Array.from({ length: members }, () => randomUUID()) };
    await seedRooms(db, room.members, [room.id]);
    rooms.push(room);
  }
  return rooms;
}
