import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { clientAddress } from '../src/sockets/upgrades.ts';
import { RawTrpcSocket } from './hardening/helpers.ts';
import { Rest } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { legacySocket } from './helpers/sockets.ts';

/** Sends `request` on a plain TCP connection; resolves with everything the server wrote before hanging up. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), hostname, () => socket.write(request));
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no hang-up; got ${JSON.stringify(text)}`)), 5000);
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.on('error', reject);
  });
}

/** Opens a WebSocket at `path`: 101 and the socket, or the status it was refused with and that it was hung up on. */
function upgrade(url: string, path: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, { headers });
  ws.on('error', () => {});
  return new Promise<{ status: number; ws: WebSocket; body?: string; headers?: IncomingMessage['headers'] }>(
    (resolve) => {
      ws.once('open', () => resolve({ status: 101, ws }));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ws, body, headers: res.headers }));
      });
    },
  );
}

describe('socket upgrades', () => {
  let t: TestServer;
  let api: Rest;
  beforeAll(async () => {
    t = await startServer('sqlite', {
      RATE_LIMIT_PER_MINUTE: 5,
      RATE_LIMIT_PER_HOUR: 1000,
      TRUST_PROXY: true,
    });
    api = new Rest(t.url);
  });
  afterAll(() => t.close());

  it('answers an upgrade to a path without sockets as the HTTP request it is, then hangs up', async () => {
    const unknown = await upgrade(t.url, '/no/such/socket', { 'x-forwarded-for': '10.1.0.1' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body!)).toEqual({ detail: 'Not Found' });
    const health = await upgrade(t.url, '/health', { 'x-forwarded-for': '10.1.0.2' });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body!)).toEqual({ status: 'healthy' });
    // Another protocol's upgrade (curl --http2 over plain HTTP asks for h2c) is answered in HTTP/1.1.
    const h2c = await rawExchange(
      t.url,
      'GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n',
    );
    expect(h2c).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(h2c).toMatch(/\r\nconnection: close\r\n/i);
    expect(h2c.endsWith('{"status":"healthy"}')).toBe(true);
    // A socket path asked with another method is no socket either.
    const posted = await rawExchange(
      t.url,
      'POST /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: 0\r\n\r\n',
    );
    expect(posted).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
  });

  it("spends the caller's budget on each upgrade: the user's with a token, the address's without", async () => {
    const dana = await api.user('dana');
    // Sign-up and login spent the address's budget: another address opens the sockets.
    const from = { 'x-forwarded-for': '10.2.0.1' };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const opened = await upgrade(t.url, `/ws?token=${dana.token}`, from);
      statuses.push(opened.status);
      if (opened.status === 429) {
        expect(JSON.parse(opened.body!)).toEqual({ detail: 'Rate limit exceeded: 5 requests per minute' });
        expect(Number(opened.headers!['retry-after'])).toBeGreaterThan(0);
        expect(opened.headers!['x-ratelimit-remaining']).toBe('0');
      }
      opened.ws.close();
    }
    expect(statuses).toEqual([101, 101, 101, 101, 101, 429]);
    // Her budget, not the address's: a tRPC socket (no token at the upgrade) from there still opens.
    const trpc = await RawTrpcSocket.open(t.url, dana.token, from);
    expect(await trpc.call('query', 'auth.me', undefined)).toBeDefined();
    expect(trpc.closed).toBeNull();
    trpc.close();
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/pneumatic_websocket_refused_total\{reason="rate"\} 1/);
  });

  it('reads a /ws token from the query only when it is one, and logs the socket in with it', async () => {
    const erin = await api.user('erin');
    const twice = await legacySocket(t.url, `?token=${erin.token}&token=${erin.token}`, {
      'x-forwarded-for': '10.3.0.1',
    });
    expect(await twice.closed.count(1)).toEqual([{ code: 1008, reason: 'Missing authentication token' }]);
    const once = await legacySocket(t.url, `?token=${erin.token}`, { 'x-forwarded-for': '10.3.0.2' });
    await once.authenticated();
    once.ws.close();
    twice.ws.close();
  });
});

describe("a client's address", () => {
  const request = (remoteAddress: string, forwarded?: string) =>
    ({
      socket: { remoteAddress },
      connection: { remoteAddress },
      headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded },
    }) as unknown as IncomingMessage;

  it("is read through trusted proxies as fastify's request.ip reads it", () => {
    expect(clientAddress(false)(request('10.0.0.9', '1.2.3.4'))).toBe('10.0.0.9');
    expect(clientAddress(true)(request('10.0.0.9', '1.2.3.4, 5.6.7.8'))).toBe('1.2.3.4');
    const listed = clientAddress('10.0.0.9, 5.6.7.8');
    expect(listed(request('10.0.0.9', '1.2.3.4, 5.6.7.8'))).toBe('1.2.3.4');
    expect(listed(request('10.0.0.9', '1.2.3.4, 9.9.9.9'))).toBe('9.9.9.9');
    expect(listed(request('10.0.0.8', '1.2.3.4'))).toBe('10.0.0.8');
    const oneHop = clientAddress((_address, hop) => hop < 1);
    expect(oneHop(request('10.0.0.9', '1.2.3.4, 5.6.7.8'))).toBe('5.6.7.8');
  });
});
