import { randomBytes } from 'node:crypto';
import type { RouterOutputs } from '@pneumatic/api';
import { createTestDatabase, type TestDatabase } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, png, sendWithFiles, storedFiles, upload } from './helpers/files.ts';
import { Rest } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { trpcClient } from './helpers/sockets.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('files across instances on one PostgreSQL and Redis', () => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    // No shared disk: each instance has a data directory of its own (startServer's), the bytes are in PostgreSQL.
    a = await startServer('postgres', { REDIS_URL }, { database });
    b = await startServer('postgres', { REDIS_URL }, { database });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await database.drop();
  });

  it('serves from one instance what was uploaded through the other, and deletes it from either', async () => {
    const apiA = new Rest(a.url);
    const alice = await apiA.user('alice');
    const bob = await apiA.user('bob');
    const room = await apiA.conversation(alice.token, [bob.id]);
    const bobOnB = trpcClient(b.url, bob.token);
    const stream = bobOnB.stream();
    await stream.started.count(1);

    // Several chunks' worth, not a multiple of the chunk size.
    const bytes = randomBytes(700 * 1024 + 123);
    const file = await upload(a, alice.token, room, bytes, { name: 'big.bin', chunked: true });
    expect(file.status).toBe(201);
    const image = await upload(a, alice.token, room, png(5, 4), { name: 'small.png' });
    const sent = await sendWithFiles(a, alice.token, alice.id, room, 'two files', [
      file.body.id,
      image.body.id,
    ]);
    expect(sent.status).toBe(201);

    const events = await stream.events.count(1);
    const live = events.find((e) => e.data.type === 'message')!.data
      .message as RouterOutputs['messages']['send'];
    expect(live.attachments.map((x) => x.name)).toEqual(['big.bin', 'small.png']);
    expect(live.attachments[1]).toMatchObject({ width: 5, height: 4, type: 'image/png' });

    const got = await download(b, file.body.url, bob.token);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(bytes)).toBe(true);
    expect((await download(b, image.body.url, bob.token)).bytes.equals(png(5, 4))).toBe(true);

    const deleted = await fetch(`${b.url}/trpc/messages.delete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: sent.body.id }),
    });
    expect(deleted.status).toBe(200);
    expect((await download(a, file.body.url, bob.token)).status).toBe(404);
    expect(await storedFiles(a)).toEqual({ rows: 0, chunks: 0, onDisk: 0 });
    bobOnB.close();
  });
});
