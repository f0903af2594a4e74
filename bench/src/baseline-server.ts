/**
 * The baseline: the legacy /ws wire shape with nothing else. No auth (a
 * token is the user id), no database, no validation beyond types; a message
 * is serialized once and written to every socket of every member. It is what
 * Node, `ws` and JSON cost on this machine: the physical limit of the stack.
 *
 * With BASELINE_DURABLE_FILE set it is the **durable limit**: the same, plus
 * a writer thread that commits every message to that SQLite file (WAL,
 * synchronous=FULL) before it is delivered. The ceiling a durable server can
 * approach.
 *
 * It answers just enough REST (signup, login, conversations) for the bench's
 * setup code to treat it like the real server. Run as its own process.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 0);
/** SQLite file of the durable limit; unset: the in-memory baseline. */
const DURABLE_FILE = process.env.BASELINE_DURABLE_FILE || undefined;
const MAX_FRAME_BYTES = 64 * 1024;

const userIds = new Map<string, string>();
const conversations = new Map<string, { members: string[]; seq: number }>();
const socketsByUser = new Map<string, Set<WebSocket>>();

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString();
        resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/health') return reply(res, 200, { status: 'healthy' });
  if (req.method !== 'POST') return reply(res, 404, { detail: 'Not Found' });
  const body = await readJson(req);
  if (path === '/auth/signup') {
    const username = String(body.username);
    const id = userIds.get(username) ?? randomUUID();
    userIds.set(username, id);
    return reply(res, 201, { id, username, full_name: body.full_name ?? null });
  }
  if (path === '/auth/login') {
    const id = userIds.get(String(body.username));
    if (!id) return reply(res, 401, { detail: 'Incorrect username or password' });
    return reply(res, 200, { access_token: id, refresh_token: id, token_type: 'bearer' });
  }
  if (path === '/conversations') {
    const caller = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!caller) return reply(res, 401, { detail: 'Not authenticated' });
    const ids = Array.isArray(body.member_ids) ? body.member_ids.map(String) : [];
    const members = [...new Set([caller, ...ids])];
    const id = randomUUID();
    conversations.set(id, { members, seq: 0 });
    return reply(res, 201, { id, title: body.title ?? '', members });
  }
  return reply(res, 404, { detail: 'Not Found' });
}

const http = createServer((req, res) => {
  handle(req, res).catch(() => reply(res, 422, { detail: 'Invalid JSON' }));
});

/** A message as the durable limit stores it: its columns, in the INSERT's order. */
type MessageRow = [
  id: string,
  messageId: string,
  senderId: string,
  conversationId: string,
  content: string,
  createdAt: string,
  seq: number,
];

/**
 * The durable limit's writer thread: its own connection, one prepared INSERT,
 * one IMMEDIATE transaction per batch it is handed, answered with the batch's
 * length once committed (fsynced: synchronous=FULL). One table, no index: nothing
 * a real schema would add. Plain JavaScript evaluated in the worker, as the
 * server's password workers are (tsx does not load into a worker's entry).
 */
const WRITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec(\`CREATE TABLE IF NOT EXISTS messages (id TEXT NOT NULL, message_id TEXT NOT NULL,
  sender_id TEXT NOT NULL, conversation_id TEXT NOT NULL, content TEXT NOT NULL,
  created_at TEXT NOT NULL, seq INTEGER NOT NULL)\`);
const insert = db.prepare('INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)');
const commit = db.transaction((rows) => {
  for (const row of rows) insert.run(row);
});
parentPort.on('message', (rows) => {
  commit.immediate(rows);
  parentPort.postMessage(rows.length);
});
parentPort.postMessage(0);`;

interface PendingMessage {
  row: MessageRow;
  deliver(): void;
}

/**
 * Commits messages on the writer thread, then delivers them. One batch is in
 * flight at a time; whatever arrives meanwhile gathers into the next, which
 * is handed over the moment the previous commit ends (no timer window).
 */
class DurableWriter {
  readonly #worker: Worker;
  /** Resolves once the database is open (the worker's first message). */
  readonly ready: Promise<void>;
  #gathering: PendingMessage[] = [];
  #inFlight: PendingMessage[] | undefined;

  constructor(file: string) {
    this.#worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { file, betterSqlite3: createRequire(import.meta.url).resolve('better-sqlite3') },
    });
    this.#worker.on('error', (error) => {
      process.stderr.write(`durable writer failed: ${error.stack ?? error.message}\n`);
      process.exit(1);
    });
    this.ready = new Promise((resolve) => this.#worker.once('message', () => resolve()));
    this.#worker.on('message', () => this.#committed());
  }

  /** Calls `deliver` once `row` is committed. */
  write(row: MessageRow, deliver: () => void): void {
    this.#gathering.push({ row, deliver });
    if (!this.#inFlight) this.#commitNext();
  }

  #commitNext(): void {
    if (this.#gathering.length === 0) return;
    this.#inFlight = this.#gathering;
    this.#gathering = [];
    this.#worker.postMessage(this.#inFlight.map((pending) => pending.row));
  }

  #committed(): void {
    const done = this.#inFlight ?? [];
    this.#inFlight = undefined;
    // The next commit starts before this batch is delivered: the disk and the sockets overlap.
    this.#commitNext();
    for (const pending of done) pending.deliver();
  }
}

const writer = DURABLE_FILE ? new DurableWriter(DURABLE_FILE) : undefined;

const wss = new WebSocketServer({
  server: http,
  path: '/ws',
  maxPayload: MAX_FRAME_BYTES,
  perMessageDeflate: false,
});

const UNKNOWN_TYPE = JSON.stringify({ type: 'error', reason: 'unknown type' });
const NOT_A_MEMBER = JSON.stringify({ type: 'error', reason: 'Not a member of this conversation' });
const INVALID = JSON.stringify({ type: 'error', reason: 'invalid message' });

wss.on('connection', (ws, req) => {
  const userId = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
  if (!userId) {
    ws.close(1008, 'Missing authentication token');
    return;
  }
  const mine = socketsByUser.get(userId) ?? new Set<WebSocket>();
  socketsByUser.set(userId, mine);
  mine.add(ws);
  ws.once('close', () => {
    mine.delete(ws);
    if (mine.size === 0) socketsByUser.delete(userId);
  });

  ws.on('message', (data: RawData, isBinary: boolean) => {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(isBinary ? '' : data.toString()) as Record<string, unknown>;
    } catch {
      ws.send(INVALID);
      return;
    }
    if (frame.type !== 'message') {
      ws.send(UNKNOWN_TYPE);
      return;
    }
    const { message_id, conversation_id, content } = frame;
    if (
      typeof message_id !== 'string' ||
      typeof conversation_id !== 'string' ||
      typeof content !== 'string'
    ) {
      ws.send(INVALID);
      return;
    }
    const conversation = conversations.get(conversation_id);
    if (!conversation?.members.includes(userId)) {
      ws.send(NOT_A_MEMBER);
      return;
    }
    const message = {
      id: randomUUID(),
      message_id,
      sender_id: userId,
      conversation_id,
      content,
      created_at: new Date().toISOString(),
      seq: ++conversation.seq,
    };
    const out = JSON.stringify({ type: 'message', message });
    const deliver = () => {
      for (const member of conversation.members) {
        const sockets = socketsByUser.get(member);
        if (sockets) for (const socket of sockets) socket.send(out);
      }
    };
    if (!writer) return deliver();
    writer.write(
      [message.id, message_id, userId, conversation_id, content, message.created_at, message.seq],
      deliver,
    );
  });
});

void (writer?.ready ?? Promise.resolve()).then(() =>
  http.listen(PORT, HOST, () => {
    const address = http.address();
    process.stdout.write(
      `${writer ? 'durable limit' : 'baseline'} listening on ${typeof address === 'object' && address ? address.port : PORT}\n`,
    );
  }),
);

const stop = () => {
  for (const client of wss.clients) client.terminate();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
