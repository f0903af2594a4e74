/**
 * The baseline: the legacy /ws wire shape with nothing else. No auth (a
 * token is the user id), no database, no validation beyond types; a message
 * is serialized once and written to every socket of every member. It is what
 * Node, `ws` and JSON cost on this machine: the physical limit of the stack.
 *
 * It answers just enough REST (signup, login, conversations) for the bench's
 * setup code to treat it like the real server. Run as its own process.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';

const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 0);
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
    const out = JSON.stringify({
      type: 'message',
      message: {
        id: randomUUID(),
        message_id,
        sender_id: userId,
        conversation_id,
        content,
        created_at: new Date().toISOString(),
        seq: ++conversation.seq,
      },
    });
    for (const member of conversation.members) {
      const sockets = socketsByUser.get(member);
      if (sockets) for (const socket of sockets) socket.send(out);
    }
  });
});

http.listen(PORT, HOST, () => {
  const address = http.address();
  process.stdout.write(
    `baseline listening on ${typeof address === 'object' && address ? address.port : PORT}\n`,
  );
});

const stop = () => {
  for (const client of wss.clients) client.terminate();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
