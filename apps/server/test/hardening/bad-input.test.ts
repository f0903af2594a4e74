import { randomUUID } from 'node:crypto';
import type { Database } from '@pneumatic/db';
import { DIALECTS } from '@pneumatic/db/testing';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from '../helpers/rest.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { legacySocket } from '../helpers/sockets.ts';
import {
  expectCleanRefusal,
  expectConsistent,
  LEAK,
  type RawReply,
  RawTrpcSocket,
  type RowCounts,
  rawRequest,
  report,
  rowCounts,
  type TrpcSocketReply,
} from './helpers.ts';
import {
  deep,
  hostileAuthorization,
  hostileBodyText,
  hostileInput,
  hostileString,
  hostileValue,
} from './hostile.ts';

/**
 * Cases per entry point and dialect. About 40 entry points (10 REST routes,
 * 20 procedures over HTTP and again over a socket, the /ws frame types) on two
 * dialects: several thousand inputs in all, in well under a minute.
 */
const RUNS = Number(process.env.HARDENING_RUNS ?? 60);

type ProcedureType = 'query' | 'mutation' | 'subscription';

describe.each(DIALECTS)('hostile input (%s)', (dialect) => {
  let t: TestServer;
  let db: Kysely<Database>;
  let api: Rest;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let mallory: TestUser;
  let chat: string;
  let group: string;
  let leavable: string;
  let ownMessage: string;
  let bobsMessage: string;
  let last: RowCounts;
  const tried: Record<string, number> = {};

  beforeAll(async () => {
    t = await startServer(dialect);
    db = t.server.database.db;
    api = new Rest(t.url);
    alice = await api.user('alice');
    bob = await api.user('bob');
    carol = await api.user('carol');
    mallory = await api.user('mallory');
    chat = await api.conversation(alice.token, [bob.id]);
    group = await api.conversation(alice.token, [bob.id, carol.id], 'group');
    leavable = await api.conversation(alice.token, [bob.id, carol.id], 'to leave');
    ownMessage = (await api.send(alice.token, alice.id, group, 'mine')).body.id;
    bobsMessage = (await api.send(bob.token, bob.id, group, 'bobs')).body.id;
    last = await rowCounts(db);
  });

  afterAll(async () => {
    await expectConsistent(db);
    report(`inputs-${dialect}`, tried);
    await t.close();
  });

  const show = (value: unknown) => {
    try {
      return (JSON.stringify(value) ?? String(value)).slice(0, 300);
    } catch {
      return String(value).slice(0, 300);
    }
  };

  /** A refusal must be clean and store nothing; a success is allowed (the input happened to be valid). */
  async function settle(entry: string, status: number, text: string, input: unknown): Promise<void> {
    tried[entry] = (tried[entry] ?? 0) + 1;
    const now = await rowCounts(db);
    if (status >= 400) {
      expectCleanRefusal({ status, text }, `${entry} ${show(input)}`);
      expect(now, `${entry} stored something it refused: ${show(input)}`).toEqual(last);
    } else {
      expect(status, `${entry} ${show(input)}`).toBeLessThan(300);
    }
    last = now;
  }

  const restBody = (method: string, path: string, token: string | undefined, body: string) =>
    rawRequest(`${t.url}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
    });

  describe('REST', () => {
    const routes = () =>
      [
        [
          '/auth/signup',
          undefined,
          { username: `u${randomUUID().slice(0, 8)}`, password: 'password1', full_name: 'U' },
        ],
        ['/auth/login', undefined, { username: alice.username, password: 'wrong password' }],
        ['/auth/refresh', undefined, { refresh_token: 'not-a-token' }],
        ['/auth/logout', undefined, { refresh_token: 'not-a-token' }],
        ['/conversations', alice.token, { title: 'fuzzed', member_ids: [bob.id] }],
        [
          '/messages',
          alice.token,
          { message_id: 'm', sender_id: alice.id, conversation_id: chat, content: 'hello' },
        ],
      ] as const;

    it('answers hostile JSON bodies on every POST route with a clean 4xx, storing nothing', async () => {
      for (const [path, token, valid] of routes()) {
        await fc.assert(
          fc.asyncProperty(hostileInput(valid), async (input) => {
            const reply = await restBody('POST', path, token, JSON.stringify(input) ?? 'null');
            await settle(`POST ${path}`, reply.status, reply.text, input);
          }),
          { numRuns: RUNS },
        );
      }
    });

    it('answers bodies that are not JSON objects (deep, broken, huge) with a clean 4xx', async () => {
      for (const [path, token] of routes()) {
        await fc.assert(
          fc.asyncProperty(hostileBodyText, async (text) => {
            const reply = await restBody('POST', path, token, text);
            await settle(`POST ${path} (raw)`, reply.status, reply.text, text.slice(0, 100));
            expect(reply.status, text.slice(0, 100)).toBeGreaterThanOrEqual(400);
          }),
          { numRuns: Math.ceil(RUNS / 3) },
        );
      }
    });

    it('answers hostile paths, queries and Authorization headers on every GET route', async () => {
      const part = fc.oneof(
        hostileString.map((text) => encodeURIComponent(text.toWellFormed())),
        fc.constantFrom(
          '%',
          '%ZZ',
          '%E0%A4%A',
          '%ED%A0%80',
          '..',
          '%2e%2e',
          '%00',
          '-1',
          '1e3',
          '0x10',
          '',
          '[]',
        ),
        fc.integer().map(String),
        fc.constant(String(2 ** 53)),
      );
      const query = fc
        .array(fc.tuple(fc.constantFrom('limit', 'before', 'limit[]', 'before[a]', 'x'), part), {
          maxLength: 3,
        })
        .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.constant(chat), fc.constant(group), part), query, async (id, search) => {
          const path = `/conversations/${id}/messages?${search}`;
          const reply = await rawRequest(`${t.url}${path}`, {
            headers: { authorization: `Bearer ${alice.token}` },
          });
          await settle('GET /conversations/{id}/messages', reply.status, reply.text, path);
        }),
        { numRuns: RUNS * 2 },
      );
      for (const path of ['/auth/me', '/users', '/conversations', `/conversations/${chat}/messages`]) {
        await fc.assert(
          fc.asyncProperty(hostileAuthorization, async (authorization) => {
            const reply = await rawRequest(`${t.url}${path}`, { headers: { authorization } });
            await settle(
              `GET ${path.replace(chat, '{id}')} (auth)`,
              reply.status,
              reply.text,
              authorization.slice(0, 80),
            );
            expect(reply.status).toBe(401);
          }),
          { numRuns: Math.ceil(RUNS / 2) },
        );
      }
    });

    it('keeps the {detail} shape for requests fastify refuses before any route', async () => {
      for (const path of ['/conversations/%E0%A4%A/messages', `/conversations/${'a'.repeat(300)}/messages`]) {
        const reply = await rawRequest(`${t.url}${path}`, {
          headers: { authorization: `Bearer ${alice.token}` },
        });
        expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
        expect(reply.body).toEqual({ detail: expect.any(String) });
      }
    });
  });

  /** Every procedure of packages/api/src/routers, with a valid input to mutate. */
  const procedures = (): Array<[string, ProcedureType, Record<string, unknown> | undefined]> => [
    [
      'auth.signup',
      'mutation',
      { username: `p${randomUUID().slice(0, 8)}`, password: 'password1', full_name: 'P' },
    ],
    ['auth.login', 'mutation', { username: alice.username, password: 'wrong password' }],
    ['auth.refresh', 'mutation', { refresh_token: 'not-a-token' }],
    ['auth.logout', 'mutation', { refresh_token: 'not-a-token' }],
    ['auth.me', 'query', undefined],
    ['users.list', 'query', undefined],
    ['conversations.list', 'query', undefined],
    ['conversations.get', 'query', { conversation_id: group }],
    ['conversations.create', 'mutation', { title: 'fuzzed', member_ids: [bob.id] }],
    ['conversations.markRead', 'mutation', { conversation_id: group, seq: 1 }],
    ['conversations.addMembers', 'mutation', { conversation_id: group, user_ids: [mallory.id] }],
    ['conversations.leave', 'mutation', { conversation_id: leavable }],
    ['conversations.rename', 'mutation', { conversation_id: group, title: 'renamed' }],
    ['conversations.typing', 'mutation', { conversation_id: group }],
    ['messages.list', 'query', { conversation_id: group, limit: 10, cursor: 2 }],
    ['messages.send', 'mutation', { message_id: 'p', conversation_id: group, content: 'hi' }],
    ['messages.edit', 'mutation', { id: ownMessage, content: 'edited' }],
    ['messages.delete', 'mutation', { id: bobsMessage }],
    ['messages.search', 'query', { query: 'mine', conversation_id: group, limit: 5, cursor: 3 }],
    ['events.stream', 'subscription', { lastEventId: '1' }],
  ];

  function expectCleanTrpcError(reply: TrpcSocketReply | null, what: string) {
    if (!reply?.error) return;
    expect(reply.error.data?.httpStatus ?? 0, `${what}: ${show(reply.error)}`).toBeLessThan(500);
    expect(reply.error.data?.stack, what).toBeUndefined();
    expect(reply.error.message, what).not.toMatch(LEAK);
  }

  describe('tRPC', () => {
    it('answers hostile input to every procedure over HTTP with a clean 4xx', async () => {
      for (const [path, type, valid] of procedures()) {
        if (type === 'subscription') continue;
        await fc.assert(
          fc.asyncProperty(valid ? hostileInput(valid) : hostileValue, async (input) => {
            const json = JSON.stringify(input);
            const reply: RawReply =
              type === 'query'
                ? await rawRequest(
                    `${t.url}/trpc/${path}${json === undefined ? '' : `?input=${encodeURIComponent(json)}`}`,
                    { headers: { authorization: `Bearer ${alice.token}` } },
                  )
                : await restBody('POST', `/trpc/${path}`, alice.token, json ?? '');
            await settle(`trpc http ${path}`, reply.status, reply.text, input);
            const body = reply.body as { error?: { data?: { stack?: unknown } } };
            expect(body?.error?.data?.stack).toBeUndefined();
          }),
          { numRuns: RUNS },
        );
      }
    });

    it('answers broken batches and raw bodies over HTTP with a clean 4xx', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom(...procedures().map(([p]) => p), 'nope', '', '..'), {
            minLength: 1,
            maxLength: 120,
          }),
          hostileBodyText,
          async (paths, text) => {
            const reply = await restBody('POST', `/trpc/${paths.join(',')}?batch=1`, alice.token, text);
            await settle('trpc http batch', reply.status, reply.text, paths.join(','));
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('refuses subscriptions over HTTP: they are served over sockets, where the caps count them', async () => {
      const reply = await rawRequest(`${t.url}/trpc/events.stream?input=${encodeURIComponent('{}')}`, {
        headers: { authorization: `Bearer ${alice.token}`, accept: 'text/event-stream' },
      });
      expect(reply.status).toBe(405);
      expect(reply.body).toMatchObject({ error: { data: { code: 'METHOD_NOT_SUPPORTED' } } });
    });

    it('answers hostile input to every procedure over a socket, and the socket keeps serving', async () => {
      let socket = await RawTrpcSocket.open(t.url, alice.token);
      for (const [path, type, valid] of procedures()) {
        await fc.assert(
          fc.asyncProperty(valid ? hostileInput(valid) : hostileValue, async (input) => {
            if (socket.closed) socket = await RawTrpcSocket.open(t.url, alice.token);
            const reply = await socket.call(type, path, input);
            tried[`trpc ws ${path}`] = (tried[`trpc ws ${path}`] ?? 0) + 1;
            if (reply === null) {
              // Only a frame over the size limit may cost the socket.
              expect(socket.closed?.code, `${path} ${show(input)}`).toBe(1009);
              const frame = JSON.stringify({ id: 'call-1', method: type, params: { path, input } });
              expect(Buffer.byteLength(frame)).toBeGreaterThan(63 * 1024);
            }
            expectCleanTrpcError(reply, `trpc ws ${path} ${show(input)}`);
            const now = await rowCounts(db);
            if (reply?.error) expect(now, `${path} stored something it refused`).toEqual(last);
            last = now;
          }),
          { numRuns: Math.ceil(RUNS / 2) },
        );
      }
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            hostileBodyText,
            hostileInput({ id: 1, method: 'query', params: { path: 'auth.me', input: null } }).map(
              (v) => JSON.stringify(v) ?? '',
            ),
          ),
          async (text) => {
            if (socket.closed) socket = await RawTrpcSocket.open(t.url, alice.token);
            socket.ws.send(text);
            tried['trpc ws raw frame'] = (tried['trpc ws raw frame'] ?? 0) + 1;
            const me = await socket.call('query', 'auth.me', undefined);
            if (me === null) {
              expect(socket.closed?.code).toBe(1009);
              return;
            }
            expect(me.result?.data, text.slice(0, 100)).toMatchObject({ id: alice.id });
            for (const reply of socket.replies.splice(0))
              expectCleanTrpcError(reply, `raw frame ${text.slice(0, 100)}`);
          },
        ),
        { numRuns: RUNS },
      );
      socket.close();
    });
  });

  describe('legacy /ws', () => {
    it('answers every hostile frame with exactly one clean frame and stays open', async () => {
      let s = await legacySocket(t.url, `?token=${alice.token}`);
      await s.authenticated();
      const frames = fc.oneof(
        hostileInput({ type: 'message', message_id: 'w', conversation_id: group, content: 'hi' }).map(
          (v) => JSON.stringify(v) ?? '',
        ),
        hostileInput({ type: 'join', conversation_id: group }).map((v) => JSON.stringify(v) ?? ''),
        hostileInput({ type: 'dance' }).map((v) => JSON.stringify(v) ?? ''),
        hostileBodyText,
      );
      await fc.assert(
        fc.asyncProperty(frames, fc.boolean(), async (text, binary) => {
          if (s.ws.readyState !== s.ws.OPEN) {
            s = await legacySocket(t.url, `?token=${alice.token}`);
            await s.authenticated();
          }
          const before = s.frames.items.length;
          s.ws.send(binary ? Buffer.from(text) : text, { binary });
          tried['legacy frame'] = (tried['legacy frame'] ?? 0) + 1;
          if (Buffer.byteLength(text) > 64 * 1024) {
            expect((await s.closed.count(1))[0]!.code).toBe(1009);
            return;
          }
          const [answer] = (await s.frames.count(before + 1)).slice(before);
          expect(['error', 'joined', 'message'], show(answer)).toContain(answer.type);
          if (answer.type === 'error') {
            expect(answer.reason, text.slice(0, 200)).toEqual(expect.any(String));
            expect(answer.reason).not.toBe('internal error');
            expect(answer.reason).not.toMatch(LEAK);
          }
          const now = await rowCounts(db);
          if (answer.type === 'error')
            expect(now, `stored a refused frame ${text.slice(0, 200)}`).toEqual(last);
          last = now;
        }),
        { numRuns: RUNS * 4 },
      );
      s.ws.close();
    });

    it('answers a frame nested 30,000 levels deep with an error frame', async () => {
      const s = await legacySocket(t.url, `?token=${alice.token}`);
      s.send(`{"type":"join","conversation_id":${deep(30_000, 'array')}}`);
      const [answer] = await s.frames.count(1);
      expect(answer).toMatchObject({ type: 'error', reason: expect.stringContaining('conversation_id') });
      s.ws.close();
    });
  });
});
