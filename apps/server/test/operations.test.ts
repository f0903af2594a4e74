import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { trpcClient } from './helpers/sockets.ts';
import { serverForSuite } from './helpers/suite.ts';

describe('operations endpoints', () => {
  const suite = serverForSuite();

  it('answers /health and /ready', async () => {
    expect(await suite.api.get('/health')).toMatchObject({ status: 200, body: { status: 'healthy' } });
    expect(await suite.api.get('/ready')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('publishes an OpenAPI document listing every REST path', async () => {
    const reply = await suite.api.get('/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.body.openapi).toMatch(/^3\./);
    const paths = Object.entries(reply.body.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(paths.sort()).toEqual(
      [
        'POST /auth/signup',
        'POST /auth/login',
        'POST /auth/refresh',
        'POST /auth/logout',
        'GET /auth/me',
        'PATCH /auth/me',
        'DELETE /auth/me',
        'POST /auth/password',
        'GET /auth/sessions',
        'DELETE /auth/sessions/{session_id}',
        'GET /users',
        'GET /conversations',
        'POST /conversations',
        'GET /conversations/{conversation_id}/messages',
        'POST /messages',
        'POST /files',
        'GET /files/{id}',
        'GET /files/{id}/{name}',
      ].sort(),
    );
    expect(reply.body.components.schemas.Message.required).toEqual(
      expect.arrayContaining(['id', 'message_id', 'sender_id', 'conversation_id', 'content', 'created_at']),
    );
  });

  it('renders the docs page', async () => {
    const reply = await fetch(`${suite.t.url}/docs`, { redirect: 'follow' });
    expect(reply.status).toBe(200);
    expect(await reply.text()).toMatch(/swagger/i);
  });

  it("serves the docs page's scripts, styles and icons, with their length on HEAD", async () => {
    const html = await (await fetch(`${suite.t.url}/docs`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/docs\/static\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(expect.arrayContaining(['/docs/static/swagger-ui-bundle.js']));
    for (const asset of assets) {
      const reply = await fetch(`${suite.t.url}${asset}`);
      expect(reply.status, asset).toBe(200);
      const length = (await reply.arrayBuffer()).byteLength;
      expect(length, asset).toBeGreaterThan(0);
      const head = await fetch(`${suite.t.url}${asset}`, { method: 'HEAD' });
      expect(head.headers.get('content-length'), asset).toBe(String(length));
    }
  });

  it('exposes the contract metrics', async () => {
    const reply = await fetch(`${suite.t.url}/metrics`);
    const text = await reply.text();
    for (const name of [
      'pneumatic_websocket_connections_total',
      'pneumatic_websocket_connections_active',
      'pneumatic_messages_sent_total',
      'pneumatic_messages_per_second',
      'process_cpu_seconds_total',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('counts sockets opened and open, by transport, and subscriptions open', async () => {
    const alice = await suite.api.user('alice-sockets');
    const series = async () => {
      const text = await (await fetch(`${suite.t.url}/metrics`)).text();
      const read = (name: string) =>
        Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      return {
        opened: read('pneumatic_websocket_connections_total{transport="trpc"}'),
        open: read('pneumatic_websocket_connections_active{transport="trpc"}'),
        legacyOpened: read('pneumatic_websocket_connections_total{transport="legacy"}'),
        subscriptions: read('pneumatic_subscriptions_active'),
      };
    };
    const before = await series();
    const client = trpcClient(suite.t.url, alice.token);
    const stream = client.stream();
    await stream.started.count(1);
    expect(await series()).toEqual({
      opened: before.opened + 1,
      open: before.open + 1,
      legacyOpened: before.legacyOpened,
      subscriptions: before.subscriptions + 1,
    });
    client.close();
    await expect.poll(series).toEqual({ ...before, opened: before.opened + 1 });
  });

  it('counts stored messages in the metrics', async () => {
    const alice = await suite.api.user('alice');
    const room = await suite.api.conversation(alice.token, []);
    const value = async () => {
      const text = await (await fetch(`${suite.t.url}/metrics`)).text();
      return Number(/^pneumatic_messages_sent_total (\S+)$/m.exec(text)?.[1]);
    };
    const before = await value();
    await suite.api.send(alice.token, alice.id, room, 'one');
    await suite.api.send(alice.token, alice.id, room, 'two');
    expect(await value()).toBe(before + 2);
  });

  it('times procedures and queries in the metrics', async () => {
    const alice = await suite.api.user('alice-timed');
    const room = await suite.api.conversation(alice.token, []);
    const count = async (series: string) => {
      const text = await (await fetch(`${suite.t.url}/metrics`)).text();
      const escaped = series.replace(/[{}.]/g, '\\$&');
      return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const sends = 'pneumatic_trpc_procedure_duration_seconds_count{path="messages.send",type="mutation"}';
    const queries = 'pneumatic_db_query_duration_seconds_count{outcome="ok"}';
    const [sendsBefore, queriesBefore] = [await count(sends), await count(queries)];
    await suite.api.send(alice.token, alice.id, room, 'timed');
    expect(await count(sends)).toBe(sendsBefore + 1);
    expect(await count(queries)).toBeGreaterThan(queriesBefore);
    expect(await count('pneumatic_db_query_duration_seconds_count{outcome="error"}')).toBe(0);
  });

  it('sends old static pages to the web app and answers unknown paths with 404 JSON', async () => {
    const old = await fetch(`${suite.t.url}/static/chat.html`, { redirect: 'manual' });
    expect(old.status).toBe(301);
    expect(old.headers.get('location')).toBe('/');
    expect(await suite.api.get('/nope')).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
  });
});

describe('configuration', () => {
  const base = { DATA_DIR: '/tmp/pneumatic-config-test' };

  it('refuses a short SECRET_KEY naming the variable', () => {
    expect(() => loadConfig({ ...base, SECRET_KEY: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, SECRET_KEY: 'short' })).toThrow(/SECRET_KEY/);
  });

  it('requires SECRET_KEY in production', () => {
    expect(() => loadConfig({ ...base, NODE_ENV: 'production' })).toThrow(/SECRET_KEY is required/);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PASSWORD_MIN_LENGTH', '0'],
    ['RATE_LIMIT_PER_MINUTE', '-1'],
    ['REDIS_URL', 'http://x'],
    ['LOG_LEVEL', 'loud'],
    ['UPLOAD_TIMEOUT_MS', '1000'],
    ['MAX_UPLOADS_PER_USER', '0'],
  ])('refuses a bad %s in one line naming it', (name, value) => {
    try {
      loadConfig({ ...base, SECRET_KEY: 'k'.repeat(32), [name]: value });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(name);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('keeps a generated development secret across restarts', () => {
    const dir = `/tmp/pneumatic-config-${process.pid}`;
    const first = loadConfig({ DATA_DIR: dir }).SECRET_KEY;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig({ DATA_DIR: dir }).SECRET_KEY).toBe(first);
  });

  it('reads DATABASE_URL forms', () => {
    expect(loadConfig({ ...base, SECRET_KEY: 'k'.repeat(32) }).DATABASE_URL).toMatch(/pneumatic\.db$/);
  });
});
