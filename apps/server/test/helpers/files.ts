import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { RouterOutputs } from '@pneumatic/api';
import type { Reply } from './rest.ts';
import type { TestServer } from './server.ts';

/** A real PNG of `width` × `height` grey pixels. */
export function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0;
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface UploadOptions {
  name?: string;
  contentType?: string;
  /** Send the body as a stream (chunked, no Content-Length). */
  chunked?: boolean;
}

/** `POST /files` as curl sends it: the raw body is the file. */
export async function upload(
  t: TestServer,
  token: string,
  conversationId: string,
  bytes: Uint8Array,
  options: UploadOptions = {},
): Promise<Reply> {
  const query = new URLSearchParams({ conversation_id: conversationId });
  if (options.name !== undefined) query.set('name', options.name);
  const body = options.chunked
    ? new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 16 * 1024)
            controller.enqueue(bytes.subarray(i, i + 16 * 1024));
          controller.close();
        },
      })
    : bytes;
  const response = await fetch(`${t.url}/files?${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': options.contentType ?? 'application/octet-stream',
    },
    body,
    ...(options.chunked ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, body: parsed, headers: response.headers };
}

export async function download(t: TestServer, path: string, token?: string) {
  const response = await fetch(`${t.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

export async function sendWithFiles(
  t: TestServer,
  token: string,
  sender: string,
  conversationId: string,
  content: string,
  attachmentIds: string[],
) {
  const response = await fetch(`${t.url}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      message_id: randomUUID(),
      sender_id: sender,
      conversation_id: conversationId,
      content,
      attachment_ids: attachmentIds,
    }),
  });
  // The message on 201; on a refusal, the contract's error body.
  const body = (await response.json()) as Partial<RouterOutputs['messages']['send']> & {
    detail?: { loc: (string | number)[]; msg: string }[];
  };
  return { status: response.status, body };
}

/** What is stored of files, in rows and bytes: all zero once nothing is left behind. */
export async function storedFiles(t: TestServer): Promise<{ rows: number; chunks: number; onDisk: number }> {
  const { db } = t.server.database;
  const rows = await db
    .selectFrom('files')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const chunks = await db
    .selectFrom('file_chunks')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const dir = join(t.config.DATA_DIR, 'files');
  return {
    rows: Number(rows.n),
    chunks: Number(chunks.n),
    onDisk: existsSync(dir) ? readdirSync(dir).length : 0,
  };
}

/**
 * An upload of `chunks` chunks of `chunkBytes`, one every `everyMs` (a slow link),
 * its Content-Length declared; resolves with the status (or `closed`) and how long it took.
 */
export function slowUpload(
  t: TestServer,
  token: string,
  conversationId: string,
  chunks: number,
  everyMs: number,
  chunkBytes = 2048,
) {
  const chunk = Buffer.alloc(chunkBytes, 5);
  const started = performance.now();
  return new Promise<{ status: number | 'closed'; ms: number; body?: unknown }>((resolve) => {
    const url = new URL(`${t.url}/files?conversation_id=${conversationId}&name=slow-link.bin`);
    const req = httpRequest(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-length': String(chunk.length * chunks) },
    });
    let sent = 0;
    const timer = setInterval(() => {
      if (sent === chunks || req.destroyed) return clearInterval(timer);
      req.write(chunk);
      if (++sent === chunks) req.end();
    }, everyMs);
    const done = (status: number | 'closed', body?: unknown) => {
      clearInterval(timer);
      resolve({ status, ms: performance.now() - started, body });
    };
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => done(res.statusCode ?? 0, text ? JSON.parse(text) : undefined));
    });
    req.on('error', () => done('closed'));
  });
}
