import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '@pneumatic/db';
import { type Kysely, sql } from 'kysely';
import { expect } from 'vitest';
import WebSocket from 'ws';

/** Text that must never reach a client: stack frames, SQL, driver and file names. */
export const LEAK =
  /\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\.js:\d+|SqliteError|sqlite_|\bpg_|postgres|\bselect\b.+\bfrom\b|\binsert into\b|\bupdate\b.+\bset\b|\bdelete from\b|syntax error|violates|duplicate key|relation "|TypeError|ReferenceError|Cannot read prop/i;

/** Statuses a hostile request may get; anything else (a 5xx above all) is a defect. */
export const CLIENT_ERRORS = new Set([400, 401, 403, 404, 405, 408, 409, 413, 414, 415, 422, 429, 431]);

export const TABLES = [
  'users',
  'sessions',
  'conversations',
  'conversation_members',
  'messages',
  'events',
] as const;
export type RowCounts = Record<(typeof TABLES)[number], number>;

export async function rowCounts(db: Kysely<Database>): Promise<RowCounts> {
  const columns = TABLES.map((table) => sql`(select count(*) from ${sql.table(table)}) as ${sql.ref(table)}`);
  const { rows } = await sql<Record<string, number | string>>`select ${sql.join(columns)}`.execute(db);
  return Object.fromEntries(TABLES.map((table) => [table, Number(rows[0]![table])])) as RowCounts;
}

/**
 * What must hold whatever was thrown at the server: no half-stored record.
 * Every conversation's messages are exactly seq 1..last_seq; every message
 * and event has its own log position, none past the head; every member row
 * points at a user and a conversation (foreign keys), every session at a user.
 */
export async function expectConsistent(db: Kysely<Database>): Promise<void> {
  const gaps = await sql<{ id: string; last_seq: number; n: number | string; top: number | null }>`
    select c.id, c.last_seq, count(m.id) as n, max(m.seq) as top
    from conversations c left join messages m on m.conversation_id = c.id
    group by c.id, c.last_seq`.execute(db);
  for (const row of gaps.rows) {
    expect(Number(row.n), `messages of ${row.id}`).toBe(row.last_seq);
    expect(row.top ?? 0, `highest seq of ${row.id}`).toBe(row.last_seq);
  }
  const positions = await sql<{ pos: number | string }>`
    select pos from messages union all select pos from events`.execute(db);
  const all = positions.rows.map((r) => Number(r.pos));
  expect(new Set(all).size, 'log positions are unique').toBe(all.length);
  const head = await sql<{ pos: number | string }>`select pos from log_head where id = 1`.execute(db);
  expect(Math.max(0, ...all)).toBeLessThanOrEqual(Number(head.rows[0]!.pos));
  const orphans = await sql<{ n: number | string }>`
    select count(*) as n from conversation_members cm
    where not exists (select 1 from users u where u.id = cm.user_id)
       or not exists (select 1 from conversations c where c.id = cm.conversation_id)`.execute(db);
  expect(Number(orphans.rows[0]!.n), 'orphan member rows').toBe(0);
  const sessions = await sql<{ n: number | string }>`
    select count(*) as n from sessions s where not exists (select 1 from users u where u.id = s.user_id)`.execute(
    db,
  );
  expect(Number(sessions.rows[0]!.n), 'orphan sessions').toBe(0);
}

export interface RawReply {
  status: number;
  text: string;
  body: unknown;
  headers: Headers;
  ms: number;
}

/** One HTTP request that must be answered within `timeoutMs`; a hang fails the test. */
export async function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  timeoutMs = 10_000,
): Promise<RawReply> {
  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(`${init.method ?? 'GET'} ${url.slice(0, 200)} got no answer: ${String(error)}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, text, body, headers: response.headers, ms: performance.now() - started };
}

/** A 4xx with a readable message and nothing from the inside. */
export function expectCleanRefusal(reply: { status: number; text: string }, what: string): void {
  expect(
    CLIENT_ERRORS.has(reply.status),
    `${what}: status ${reply.status}: ${reply.text.slice(0, 300)}`,
  ).toBe(true);
  expect(reply.text, `${what}: leaks internals`).not.toMatch(LEAK);
}

/** Tallies of what the suite tried, written to test-output/ for the report and CI logs. */
export function report(name: string, counts: Record<string, number>): void {
  const dir = join(import.meta.dirname, '..', '..', 'test-output');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `hardening-${name}.json`), `${JSON.stringify(counts, null, 2)}\n`);
  process.stdout.write(`hardening ${name}: ${JSON.stringify(counts)}\n`);
}

/** The p-th percentile (0–100) of some durations. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export interface TrpcSocketReply {
  id?: number | string | null;
  result?: { type?: string; data?: unknown };
  error?: { message: string; code: number; data?: { code?: string; httpStatus?: number; stack?: unknown } };
}

/**
 * A tRPC WebSocket driven by hand, frame by frame, so a test can send what the
 * typed client never would and see each answer (or the close).
 */
export class RawTrpcSocket {
  readonly replies: TrpcSocketReply[] = [];
  closed: { code: number; reason: string } | null = null;
  #nextId = 1;
  #waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let reply: TrpcSocketReply;
      try {
        reply = JSON.parse(data.toString()) as TrpcSocketReply;
      } catch {
        reply = { error: { message: `unparsable reply: ${data.toString().slice(0, 100)}`, code: 0 } };
      }
      this.replies.push(reply);
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
    ws.on('error', () => {});
  }

  /** Opens /trpc and, with a token, authenticates through connectionParams as the real client does. */
  static async open(baseUrl: string, token: string | null, headers: Record<string, string> = {}) {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/trpc?connectionParams=1`, { headers });
    const socket = new RawTrpcSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (token !== null) ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
    return socket;
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves with the first reply matching `predicate`, or null once the socket closed. */
  async until(
    predicate: (reply: TrpcSocketReply) => boolean,
    timeoutMs = 5000,
  ): Promise<TrpcSocketReply | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.replies.findIndex(predicate);
      if (index >= 0) return this.replies.splice(index, 1)[0]!;
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no tRPC reply in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends one call and waits for its answer (for a subscription: started, or its error). */
  async call(
    method: 'query' | 'mutation' | 'subscription',
    path: string,
    input: unknown,
  ): Promise<TrpcSocketReply | null> {
    // String ids never meet the numbers a fuzzed frame carries.
    const id = `call-${this.#nextId++}`;
    this.ws.send(JSON.stringify({ id, method, params: { path, input } }));
    const reply = await this.until((r) => r.id === id);
    if (method === 'subscription' && reply?.result && this.ws.readyState === WebSocket.OPEN)
      this.ws.send(JSON.stringify({ id, method: 'subscription.stop' }));
    return reply;
  }

  close(): void {
    this.ws.close();
  }
}
