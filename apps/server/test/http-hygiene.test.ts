import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '../src/logger.ts';
import { Rest } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { legacySocket, trpcClient } from './helpers/sockets.ts';

describe('HTTP hygiene', () => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    t = await startServer('sqlite', { CORS_ORIGINS: ['https://chat.example.com'] });
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  it('sends security headers and a content security policy', async () => {
    const reply = await fetch(`${t.url}/health`);
    const csp = reply.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    expect(reply.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('answers CORS for configured origins only', async () => {
    const allowed = await fetch(`${t.url}/users`, {
      method: 'OPTIONS',
      headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://chat.example.com');
    const denied = await fetch(`${t.url}/users`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses WebSocket upgrades from foreign origins', async () => {
    const user = await api.user('origin');
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${t.wsUrl}/ws?token=${user.token}`, { origin: 'https://evil.example' });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => {});
    });
    expect(refused).toBe(403);
    const ok = await legacySocket(t.url, `?token=${user.token}`, { origin: 'https://chat.example.com' });
    await ok.authenticated();
    ok.ws.close();
  });

  it('refuses bodies over the limit with 413', async () => {
    const reply = await api.request('POST', '/auth/login', {
      raw: JSON.stringify({ username: 'x'.repeat(300_000) }),
    });
    expect(reply.status).toBe(413);
  });
});

describe('logs', () => {
  it('are JSON lines with request id, route and user, and never carry tokens, passwords or content', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const t = await startServer('sqlite', {}, { logger: createLogger('debug', { destination: sink }) });
    try {
      const api = new Rest(t.url);
      const user = await api.user('logged');
      const secretContent = `secret-${randomUUID()}`;
      const room = await api.conversation(user.token, []);
      await api.send(user.token, user.id, room, secretContent);
      const socket = await legacySocket(t.url, `?token=${user.token}`);
      await socket.authenticated();
      socket.ws.close();
      const client = trpcClient(t.url, user.token);
      const s = client.stream();
      await s.started.count(1);
      client.close();
      await api.post('/auth/refresh', { refresh_token: user.refreshToken });
      await new Promise((resolve) => setTimeout(resolve, 100));

      const text = lines.join('\n');
      for (const secret of [user.token, user.refreshToken, user.password, secretContent]) {
        expect(text).not.toContain(secret);
      }
      expect(text).not.toContain('$argon2id$');
      const parsed = lines.map((line) => JSON.parse(line));
      // A start that migrates says so before it does (a rebuild can take a while), then that it is ready.
      const applying = parsed.findIndex((l) => l.msg === 'applying migrations');
      expect(parsed[applying]?.pending).toContain('2026-12-07-0012-message-key-order');
      expect(applying).toBeLessThan(parsed.findIndex((l) => l.msg === 'database ready'));
      const completed = parsed.filter((l) => l.msg === 'request completed');
      expect(completed.length).toBeGreaterThan(3);
      const me = parsed.find(
        (l) => l.msg === 'request completed' && l.route === '/conversations' && l.userId === user.id,
      );
      expect(me).toMatchObject({ reqId: expect.any(String), userId: user.id, level: 30 });
      expect(parsed.some((l) => l.event === 'migrations')).toBe(true);
      expect(parsed.some((l) => l.event === 'message stored')).toBe(true);
    } finally {
      await t.close();
    }
  });
});
