import { randomUUID } from 'node:crypto';
import { type RouterOutputs, sweepAbandonedFiles } from '@pneumatic/api';

/** A tRPC HTTP answer that succeeded. */
type TrpcAnswer<T> = { result: { data: T } };

import { DIALECTS } from '@pneumatic/db/testing';
import { describe, expect, it } from 'vitest';
import { useChatFixture } from './helpers/chat-fixture.ts';
import { download, png, sendWithFiles, slowUpload, storedFiles, upload } from './helpers/files.ts';

const QUOTA = 64 * 1024;

describe.each(DIALECTS)('files (%s)', (dialect) => {
  const f = useChatFixture(dialect, { UPLOAD_QUOTA_BYTES_PER_DAY: QUOTA });

  it('uploads an image, sends it, and serves it inline to a member with its size known', async () => {
    const image = png(7, 3);
    const uploaded = await upload(f.t, f.alice.token, f.chat, image, {
      name: 'cat.png',
      contentType: 'image/png',
    });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toEqual({
      id: expect.any(String),
      name: 'cat.png',
      size: image.length,
      type: 'image/png',
      width: 7,
      height: 3,
      url: `/files/${uploaded.body.id}/cat.png`,
      conversation_id: f.chat,
      created_at: expect.any(String),
    });

    const sent = await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'look', [uploaded.body.id]);
    expect(sent.status).toBe(201);
    const { conversation_id: _, created_at: __, ...attachment } = uploaded.body;
    expect(sent.body.attachments).toEqual([attachment]);

    const history = await f.api.get(`/conversations/${f.chat}/messages`, f.bob.token);
    expect(history.body.messages.at(-1).attachments).toEqual([attachment]);

    const got = await download(f.t, attachment.url, f.bob.token);
    expect(got.status).toBe(200);
    expect(got.bytes.equals(image)).toBe(true);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('content-disposition')).toBe(
      `inline; filename="cat.png"; filename*=UTF-8''cat.png`,
    );
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await download(f.t, `/files/${attachment.id}`, f.bob.token)).status).toBe(200);
  });

  it('sends a file-only message, and a plain file as an attachment download', async () => {
    const bytes = Buffer.from('%PDF-1.4\n% not much of a pdf\n');
    const uploaded = await upload(f.t, f.alice.token, f.chat, bytes, { name: 'report.pdf' });
    expect(uploaded.body).toMatchObject({ type: 'application/pdf', width: null, height: null });
    const sent = await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, '', [uploaded.body.id]);
    expect(sent.status).toBe(201);
    expect(sent.body.content).toBe('');
    const got = await download(f.t, uploaded.body.url, f.bob.token);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('content-disposition')).toMatch(/^attachment; /);
    // Without files, the text is still required.
    expect((await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, '  ', [])).status).toBe(422);
  });

  it('takes the ten files a message may carry uploaded side by side, as the web app sends them', async () => {
    const dora = await f.api.user('dora');
    const room = await f.api.conversation(dora.token, [f.alice.id]);
    // Each upload takes about 400 ms, so all ten are in progress at once.
    const uploads = await Promise.all(
      Array.from({ length: 10 }, () => slowUpload(f.t, dora.token, room, 4, 100, 512)),
    );
    expect(uploads.map((u) => u.status)).toEqual(Array(10).fill(201));
    const ids = uploads.map((u) => (u.body as { id: string }).id);
    const sent = await sendWithFiles(f.t, dora.token, dora.id, room, 'ten of them', ids);
    expect(sent.status).toBe(201);
    expect(sent.body.attachments).toHaveLength(10);
  });

  it('refuses a non-member, a guessed id and no token alike', async () => {
    const uploaded = await upload(f.t, f.alice.token, f.chat, png(2, 2), { name: 'secret.png' });
    await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'secret', [uploaded.body.id]);
    const { id } = uploaded.body;
    const refused = await download(f.t, `/files/${id}`, f.mallory.token);
    expect(refused.status).toBe(404);
    expect(refused.bytes.toString()).toBe(JSON.stringify({ detail: 'File not found' }));
    expect((await download(f.t, `/files/${randomUUID()}`, f.bob.token)).status).toBe(404);
    expect((await download(f.t, '/files/not-a-uuid', f.bob.token)).status).toBe(404);
    expect((await download(f.t, `/files/${id}`)).status).toBe(401);
    // Nor can an outsider upload into the conversation.
    expect((await upload(f.t, f.mallory.token, f.chat, png(1, 1))).status).toBe(403);
    expect((await upload(f.t, f.mallory.token, randomUUID(), png(1, 1))).status).toBe(404);
  });

  it('keeps a pending upload to its uploader, and lets only they attach it, to its conversation', async () => {
    const uploaded = await upload(f.t, f.alice.token, f.chat, png(1, 1), { name: 'draft.png' });
    const { id } = uploaded.body;
    expect((await download(f.t, `/files/${id}`, f.bob.token)).status).toBe(404);
    expect((await download(f.t, `/files/${id}`, f.alice.token)).status).toBe(200);
    const stolen = await sendWithFiles(f.t, f.bob.token, f.bob.id, f.chat, 'mine now', [id]);
    expect(stolen.status).toBe(422);
    expect(stolen.body.detail?.[0]?.loc).toEqual(['body', 'attachment_ids', 0]);
    const elsewhere = await f.api.conversation(f.alice.token, [f.mallory.id]);
    expect((await sendWithFiles(f.t, f.alice.token, f.alice.id, elsewhere, 'moved', [id])).status).toBe(422);
    // An outsider hears 403 about the conversation first, not about the files.
    expect((await sendWithFiles(f.t, f.mallory.token, f.mallory.id, f.chat, 'x', [id])).status).toBe(403);
    const once = await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'first', [id]);
    expect(once.status).toBe(201);
    expect((await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'again', [id])).status).toBe(422);
  });

  it('deletes the files of a deleted message: rows and bytes', async () => {
    const before = await storedFiles(f.t);
    const uploaded = await upload(f.t, f.alice.token, f.chat, png(4, 4), { name: 'gone.png' });
    const sent = await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'soon gone', [uploaded.body.id]);
    expect((await storedFiles(f.t)).rows).toBe(before.rows + 1);
    const deleted = await fetch(`${f.t.url}/trpc/messages.delete`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.alice.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: sent.body.id }),
    });
    expect(deleted.status).toBe(200);
    const answer = (await deleted.json()) as TrpcAnswer<RouterOutputs['messages']['delete']>;
    expect(answer.result.data.attachments).toEqual([]);
    expect((await download(f.t, uploaded.body.url, f.bob.token)).status).toBe(404);
    expect((await download(f.t, uploaded.body.url, f.alice.token)).status).toBe(404);
    expect(await storedFiles(f.t)).toEqual(before);
  });

  it('finds messages by the names of their files', async () => {
    const uploaded = await upload(f.t, f.alice.token, f.chat, Buffer.from('minutes'), {
      name: 'quarterly-zebra.txt',
    });
    await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'notes attached', [uploaded.body.id]);
    const input = encodeURIComponent(JSON.stringify({ query: 'zebra', conversation_id: f.chat }));
    const reply = await fetch(`${f.t.url}/trpc/messages.search?input=${input}`, {
      headers: { authorization: `Bearer ${f.bob.token}` },
    });
    const { results } = ((await reply.json()) as TrpcAnswer<RouterOutputs['messages']['search']>).result.data;
    expect(results.map((r) => r.message.content)).toEqual(['notes attached']);
  });

  it('gives a signed link for <img> tags: this file, this member, until it expires', async () => {
    const uploaded = await upload(f.t, f.alice.token, f.chat, png(3, 3), { name: 'linked.png' });
    await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'linked', [uploaded.body.id]);
    const link = async (token: string, id: string) => {
      const input = encodeURIComponent(JSON.stringify({ id }));
      const reply = await fetch(`${f.t.url}/trpc/files.link?input=${input}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return {
        status: reply.status,
        body: (await reply.json()) as TrpcAnswer<RouterOutputs['files']['link']>,
      };
    };
    const bobs = await link(f.bob.token, uploaded.body.id);
    expect(bobs.status).toBe(200);
    const { url } = bobs.body.result.data;
    expect(url).not.toContain(f.bob.token);
    expect((await download(f.t, url)).status).toBe(200);
    expect((await link(f.mallory.token, uploaded.body.id)).status).toBe(404);
    // For another file, or altered, it opens nothing.
    const other = await upload(f.t, f.alice.token, f.chat, png(1, 1));
    expect((await download(f.t, url.replace(uploaded.body.id, other.body.id))).status).toBe(401);
    expect(
      (
        await download(
          f.t,
          url.replace(/.(?=$)/, (c) => (c === 'A' ? 'B' : 'A')),
        )
      ).status,
    ).toBe(401);
  });

  it('removes uploads no message carried once they are abandoned', async () => {
    const before = await storedFiles(f.t);
    await upload(f.t, f.alice.token, f.chat, png(1, 1), { name: 'forgotten.png' });
    expect((await storedFiles(f.t)).rows).toBe(before.rows + 1);
    const deps = f.t.server.deps;
    expect(await sweepAbandonedFiles(deps)).toBe(0);
    const later = Date.now() + (f.t.config.UPLOAD_PENDING_TTL_SECONDS + 1) * 1000;
    expect(await sweepAbandonedFiles(deps, later)).toBeGreaterThanOrEqual(1);
    const after = await storedFiles(f.t);
    // Only pending ones went: files that messages carry are still there.
    expect(after.rows).toBeGreaterThan(0);
    const attached = await f.t.server.database.db
      .selectFrom('files')
      .select('id')
      .where('message_key', 'is', null)
      .execute();
    expect(attached).toEqual([]);
  });

  it('stops a user at the daily quota with a clear 429, leaving nothing of the refused upload', async () => {
    const carol = await f.api.user('carol');
    const room = await f.api.conversation(carol.token, [f.alice.id]);
    const small = Buffer.alloc(4 * 1024, 1);
    let accepted = 0;
    for (let i = 0; i < QUOTA / small.length; i++) {
      const reply = await upload(f.t, carol.token, room, small, { name: `part-${i}.bin` });
      expect(reply.status).toBe(201);
      accepted++;
    }
    expect(accepted).toBe(16);
    const before = await storedFiles(f.t);
    const refused = await upload(f.t, carol.token, room, small);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ detail: 'Upload quota exceeded: at most 65536 bytes per day' });
    const streamed = await upload(f.t, carol.token, room, small, { chunked: true });
    expect(streamed.status).toBe(429);
    expect(await storedFiles(f.t)).toEqual(before);
    // Another user's quota is their own.
    expect((await upload(f.t, f.alice.token, f.chat, small)).status).toBe(201);
  });
});
