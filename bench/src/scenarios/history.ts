import { join } from 'node:path';
import {
  createPostgresDatabase,
  type HistoryQueryTimer,
  postgresHistoryTimer,
  seedPostgresMessages,
  seedSqliteMessages,
  sqliteHistoryTimer,
} from '../database.ts';
import { Histogram, type LatencySummary } from '../histogram.ts';
import { HttpClient } from '../http.ts';
import { cpuSince, type ServerProcess, startRealServer, waitForQuietMachine } from '../processes.ts';
import { createPopulation } from '../setup.ts';
import { log } from '../util.ts';

export interface RequestTiming {
  /** Round trip seen by the client: request to last byte, keep-alive connection. */
  client: LatencySummary;
  /** The server's own time, from its `Server-Timing: app;dur=` header: no loopback, no client. */
  server: LatencySummary;
  /** Server process CPU per request (µs), and PostgreSQL's: steadier than latency on a busy machine. */
  serverCpuUs: number;
  databaseCpuUs: number;
}

export interface PageTiming extends RequestTiming {
  path: string;
  /** The same query run straight on the database (prepared), no server around it. */
  query: LatencySummary;
}

export interface HistoryResult {
  database: 'sqlite' | 'postgres';
  messages: number;
  seedSeconds: number;
  /** GET /health over the same connection: the floor of any request (HTTP, fastify, loopback). */
  health: RequestTiming;
  latest: PageTiming;
  deep: PageTiming;
}

const LIMIT = 50;

async function timeRequests(
  target: ServerProcess,
  http: HttpClient,
  path: string,
  token: string | undefined,
  count: number,
  check: (body: unknown) => void,
): Promise<RequestTiming> {
  const client = new Histogram();
  const server = new Histogram();
  const cpuBefore = target.cpuSeconds();
  const databaseBefore = target.databaseCpu();
  for (let i = 0; i < count; i++) {
    const reply = await http.get<unknown>(path, token);
    if (reply.status !== 200) throw new Error(`GET ${path}: HTTP ${reply.status}`);
    if (reply.serverMs === undefined) throw new Error(`GET ${path}: no Server-Timing app;dur= header`);
    if (i === 0) check(reply.body);
    client.recordMs(reply.ms);
    server.recordMs(reply.serverMs);
  }
  return {
    client: client.summary(),
    server: server.summary(),
    serverCpuUs: ((target.cpuSeconds() - cpuBefore) / count) * 1e6,
    databaseCpuUs: (cpuSince(databaseBefore, target.databaseCpu()) / count) * 1e6,
  };
}

async function timeQuery(timer: HistoryQueryTimer, before: number | undefined, count: number) {
  const histogram = new Histogram();
  for (let i = 0; i < count; i++) histogram.recordMs(await timer.run(before));
  return histogram.summary();
}

function expectPage(lastSeq: number) {
  return (body: unknown) => {
    const messages = (body as { messages?: Array<{ seq: number }> }).messages ?? [];
    if (messages.length !== LIMIT || messages.at(-1)?.seq !== lastSeq)
      throw new Error(`unexpected page: ${messages.length} messages ending at seq ${messages.at(-1)?.seq}`);
  };
}

/**
 * A conversation with `messages` messages, seeded straight into the
 * database, then the latest page and a page from the middle, each timed
 * sequentially over one keep-alive connection.
 */
export async function runHistory(options: {
  database: 'sqlite' | 'postgres';
  dataDir: string;
  messages: number;
  requests: number;
  quick: boolean;
  quietWaitMs: number;
}): Promise<HistoryResult> {
  const pg = options.database === 'postgres' ? await createPostgresDatabase() : undefined;
  const sqliteFile = join(options.dataDir, 'pneumatic.db');
  const start = () =>
    startRealServer({
      dataDir: options.dataDir,
      databaseUrl: pg?.url,
      name: 'history',
      quick: options.quick,
    });
  let server: ServerProcess | undefined;
  let timer: HistoryQueryTimer | undefined;
  try {
    server = await start();
    const [conversation] = await createPopulation(server.url, { conversations: 1, members: 2 });
    const { id: conversationId, members } = conversation!;
    await server.stop();
    server = undefined;

    const seedStart = performance.now();
    const target = { conversationId, senderId: members[0]!.userId, count: options.messages };
    if (pg) await seedPostgresMessages(pg.url, target);
    else seedSqliteMessages(sqliteFile, target);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    log(`history (${options.database}): ${options.messages} messages seeded in ${seedSeconds.toFixed(1)} s`);

    server = await start();
    const http = new HttpClient(server.url, 1);
    const token = members[0]!.token;
    const deepBefore = Math.floor(options.messages / 2);
    const latestPath = `/conversations/${conversationId}/messages?limit=${LIMIT}`;
    const deepPath = `${latestPath}&before=${deepBefore}`;
    try {
      // Warm the server's code paths and the database cache.
      const warm = Math.min(200, Math.ceil(options.requests / 3));
      await timeRequests(server, http, '/health', undefined, warm, () => {});
      await timeRequests(server, http, latestPath, token, warm, expectPage(options.messages));
      await timeRequests(server, http, deepPath, token, warm, expectPage(deepBefore - 1));
      await waitForQuietMachine(options.quietWaitMs);
      const health = await timeRequests(server, http, '/health', undefined, options.requests, () => {});
      const latest = await timeRequests(server, http, latestPath, token, options.requests, () => {});
      const deep = await timeRequests(server, http, deepPath, token, options.requests, () => {});
      timer = pg
        ? await postgresHistoryTimer(pg.url, conversationId, LIMIT)
        : sqliteHistoryTimer(sqliteFile, conversationId, LIMIT);
      await timeQuery(timer, undefined, warm);
      const latestQuery = await timeQuery(timer, undefined, options.requests);
      const deepQuery = await timeQuery(timer, deepBefore, options.requests);
      const result: HistoryResult = {
        database: options.database,
        messages: options.messages,
        seedSeconds,
        health,
        latest: { path: latestPath.replace(conversationId, '{id}'), ...latest, query: latestQuery },
        deep: { path: deepPath.replace(conversationId, '{id}'), ...deep, query: deepQuery },
      };
      const figures = (t: RequestTiming) =>
        `server p50 ${t.server.p50Ms.toFixed(2)} p99 ${t.server.p99Ms.toFixed(2)} ms, ${t.serverCpuUs.toFixed(0)} µs cpu ` +
        `(client p50 ${t.client.p50Ms.toFixed(2)} p99 ${t.client.p99Ms.toFixed(2)} ms)`;
      log(
        `history (${options.database}): latest ${figures(latest)}; deep ${figures(deep)}; health ${figures(health)}; ` +
          `query alone p99 ${latestQuery.p99Ms.toFixed(2)} / ${deepQuery.p99Ms.toFixed(2)} ms`,
      );
      return result;
    } finally {
      http.close();
    }
  } finally {
    await timer?.close();
    await server?.stop();
    await pg?.drop();
  }
}
