import { request as httpRequest } from 'node:http';
import { DIALECTS } from '@pneumatic/db/testing';
import { describe, expect, it } from 'vitest';
import { useChatFixture } from '../helpers/chat-fixture.ts';
import { download, png, sendWithFiles, slowUpload, storedFiles, upload } from '../helpers/files.ts';
import type { TestServer } from '../helpers/server.ts';

const MAX = 64 * 1024;
const STALL_MS = 300;
/** Any other request must have arrived within this; an upload within UPLOAD_MS. */
const REQUEST_MS = 1000;
const UPLOAD_MS = 3000;
const UPLOADS_AT_ONCE = 2;

/** Sends `first` bytes of a body that claims `length`, then nothing; resolves with the status (or `closed`). */
function stalledUpload(t: TestServer, token: string, conversationId: string, length: number, first: Buffer) {
  return new Promise<number | 'closed'>((resolve) => {
    const url = new URL(`${t.url}/files?conversation_id=${conversationId}&name=slow.bin`);
    const req = httpRequest(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-length': String(length) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve('closed'));
    req.write(first);
  });
}

describe.each(DIALECTS)('hostile uploads (%s)', (dialect) => {
  const f = useChatFixture(dialect, {
    MAX_UPLOAD_BYTES: MAX,
    UPLOAD_STALL_TIMEOUT_MS: STALL_MS,
    HTTP_HEADERS_TIMEOUT_MS: 500,
    HTTP_REQUEST_TIMEOUT_MS: REQUEST_MS,
    UPLOAD_TIMEOUT_MS: UPLOAD_MS,
    MAX_UPLOADS_PER_USER: UPLOADS_AT_ONCE,
  });

  it('takes an upload on a slow link for longer than any other request may take', async () => {
    // 20 chunks, one every 100 ms: about 2 s, twice the request timeout, within the upload's.
    const slow = await slowUpload(f.t, f.alice.token, f.chat, 20, 100);
    expect(slow.status).toBe(201);
    expect(slow.ms).toBeGreaterThan(REQUEST_MS);
    expect(slow.body).toMatchObject({ name: 'slow-link.bin', size: 20 * 2048 });
  });

  it('drops an upload still arriving past its deadline, and removes what it had sent', async () => {
    const before = await storedFiles(f.t);
    // 30 chunks, one every 150 ms: never stalled, but 4.5 s in all, past the upload's 3 s.
    const late = await slowUpload(f.t, f.alice.token, f.chat, 30, 150);
    expect(late.status).toBe(408);
    expect(late.ms).toBeLessThan(UPLOAD_MS + 2000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await storedFiles(f.t)).toEqual(before);
  });

  it('takes a few uploads of one user at once, and refuses more until one ends', async () => {
    const running = Array.from({ length: UPLOADS_AT_ONCE }, () =>
      slowUpload(f.t, f.alice.token, f.chat, 8, 100),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const refused = await upload(f.t, f.alice.token, f.chat, Buffer.from('one more'));
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ detail: `At most ${UPLOADS_AT_ONCE} uploads at once` });
    // Another user is not held back by alice's.
    expect((await upload(f.t, f.bob.token, f.chat, Buffer.from('mine'))).status).toBe(201);
    for (const { status } of await Promise.all(running)) expect(status).toBe(201);
    expect((await upload(f.t, f.alice.token, f.chat, Buffer.from('one more'))).status).toBe(201);
  });

  it('refuses an oversize upload by its Content-Length, and by counting without one, leaving nothing', async () => {
    const before = await storedFiles(f.t);
    const big = Buffer.alloc(MAX + 1, 7);
    const declared = await upload(f.t, f.alice.token, f.chat, big);
    expect(declared.status).toBe(413);
    expect(declared.body).toEqual({ detail: `File too large: at most ${MAX} bytes` });
    const counted = await upload(f.t, f.alice.token, f.chat, Buffer.alloc(MAX * 4, 7), { chunked: true });
    expect(counted.status).toBe(413);
    expect(await storedFiles(f.t)).toEqual(before);
    // Exactly the limit is fine.
    expect((await upload(f.t, f.alice.token, f.chat, Buffer.alloc(MAX, 7), { chunked: true })).status).toBe(
      201,
    );
  });

  it('never serves inline what only claims to be an image: HTML or SVG named .png, sent as image/png', async () => {
    const html = Buffer.from('<!doctype html><script>alert(document.cookie)</script>');
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
    );
    for (const [bytes, name] of [
      [html, 'cute.png'],
      [svg, 'logo.png'],
      [svg, 'logo.svg'],
    ] as const) {
      const uploaded = await upload(f.t, f.alice.token, f.chat, bytes, { name, contentType: 'image/png' });
      expect(uploaded.status).toBe(201);
      expect(uploaded.body).toMatchObject({ type: 'application/octet-stream', width: null, height: null });
      await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'trust me', [uploaded.body.id]);
      const got = await download(f.t, uploaded.body.url, f.bob.token);
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(got.headers.get('content-disposition')).toMatch(/^attachment; /);
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');
      expect(got.headers.get('content-security-policy')).toContain('sandbox');
    }
    // And a real PNG sent as text/html with a .html name is still a PNG.
    const real = await upload(f.t, f.alice.token, f.chat, png(2, 2), {
      name: 'page.html',
      contentType: 'text/html',
    });
    expect(real.body).toMatchObject({ type: 'image/png', width: 2, height: 2 });
  });

  it('drops an upload that stalls, and removes what it had sent', async () => {
    const before = await storedFiles(f.t);
    const outcome = await stalledUpload(f.t, f.alice.token, f.chat, 32 * 1024, Buffer.alloc(1000, 1));
    expect(outcome).toBe(408);
    // The row is removed right after the answer; give the cleanup a moment.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await storedFiles(f.t)).toEqual(before);
  });

  it('drops an upload interrupted by the client, leaving nothing', async () => {
    const before = await storedFiles(f.t);
    await new Promise<void>((resolve) => {
      const url = new URL(`${f.t.url}/files?conversation_id=${f.chat}`);
      const req = httpRequest(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${f.alice.token}`, 'content-length': String(32 * 1024) },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(4000, 2), () => setTimeout(() => req.destroy(), 50));
      req.on('close', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await storedFiles(f.t)).toEqual(before);
  });

  it('cleans path tricks and control characters out of names, for storage and Content-Disposition', async () => {
    const cases: [string, string][] = [
      ['../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\win.ini', 'win.ini'],
      ['evil\r\nSet-Cookie: x=1.txt', 'evilSet-Cookie: x=1.txt'],
      ['nul\u0000byte.txt', 'nulbyte.txt'],
      ['rtl\u202Egnp.exe', 'rtlgnp.exe'],
      ['...', 'file'],
      ['.hidden', 'hidden'],
      ['résumé "final".pdf', 'résumé "final".pdf'],
    ];
    for (const [given, stored] of cases) {
      const uploaded = await upload(f.t, f.alice.token, f.chat, Buffer.from('text'), { name: given });
      expect(uploaded.status).toBe(201);
      expect(uploaded.body.name).toBe(stored);
      await sendWithFiles(f.t, f.alice.token, f.alice.id, f.chat, 'named', [uploaded.body.id]);
      const got = await download(f.t, uploaded.body.url, f.bob.token);
      expect(got.status).toBe(200);
      const disposition = got.headers.get('content-disposition')!;
      expect(disposition).not.toMatch(/[\r\n\0]/);
      expect(got.headers.get('set-cookie')).toBeNull();
      const star = /filename\*=UTF-8''(.+)$/.exec(disposition)![1]!;
      expect(decodeURIComponent(star)).toBe(stored);
      expect(/filename="([^"]*)"/.exec(disposition)![1]).toMatch(/^[\x20-\x7e]*$/);
    }
  });
});
