import { EventEmitter } from 'node:events';
import { InProcessEventBus } from '@pneumatic/api';
import type { DatabaseHandle } from '@pneumatic/db';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { LiveSockets } from '../src/sockets/live-sockets.ts';
import { SocketCaps } from '../src/sockets/socket-caps.ts';

/** What LiveSockets sees of a socket, recording what it does to it. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  /** What the socket's connection was handed. */
  readonly received: string[] = [];
  closedCalls = 0;
  readonly sent: string[] = [];
  pings = 0;
  closedWith: { code: number; reason: string } | null = null;
  terminated = false;
  send(data: string) {
    this.sent.push(data);
  }
  ping() {
    this.pings++;
  }
  close(code: number, reason: string) {
    this.closedWith ??= { code, reason };
    this.#end();
  }
  terminate() {
    this.terminated = true;
    this.#end();
  }
  #end() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close');
  }
}

const PING = 1000;
const PONG = 400;
const AUTH = 500;
const auth = (userId: string, sessionId: string, expiresAt = Date.now() + 60_000) => ({
  user: { id: userId, username: userId, full_name: null },
  sessionId,
  expiresAt,
});

describe('LiveSockets: one sweep for every socket', () => {
  let sockets: LiveSockets;
  const bus = new InProcessEventBus();
  afterEach(() => sockets.close());

  function start(perUser = 10) {
    const caps = new SocketCaps({ perUser, perAddress: 100 });
    const gauge = { open: 0 };
    sockets = new LiveSockets(
      { database: {} as DatabaseHandle, bus },
      {
        pingMs: PING,
        pongTimeoutMs: PONG,
        authTimeoutMs: AUTH,
        sessionCheckMs: 3_600_000,
        caps,
        onOpen: () => gauge.open++,
        onClose: () => gauge.open--,
        onError: () => {},
        onSocketError: (error, transport) => failures.push(`${transport}: ${error.message}`),
      },
    );
    return { caps, gauge, tick: sockets.tickMs };
  }
  const failures: string[] = [];
  const open = (transport: 'trpc' | 'legacy', mustAuthenticate = false) => {
    const ws = new FakeSocket();
    sockets.open(
      ws as unknown as WebSocket,
      {
        transport,
        receive: (data, isBinary) => ws.received.push(`${isBinary ? 'binary' : 'text'} ${String(data)}`),
        closed: () => ws.closedCalls++,
      },
      mustAuthenticate,
    );
    return ws;
  };

  it("hands each frame to the socket's connection and tells it once that the socket closed", () => {
    const { gauge } = start();
    const ws = open('legacy');
    ws.emit('message', Buffer.from('{"type":"join"}'), false);
    ws.emit('message', Buffer.from([1, 2]), true);
    expect(ws.received).toEqual(['text {"type":"join"}', 'binary \u0001\u0002']);
    ws.close(1000, 'bye');
    ws.emit('close');
    expect(ws.closedCalls).toBe(1);
    expect(gauge.open).toBe(0);
  });

  it('reports a failed socket, then drops it', () => {
    start();
    failures.length = 0;
    const ws = open('trpc', false);
    expect(ws.listenerCount('error')).toBe(1);
    ws.emit('error', new Error('invalid frame'));
    expect(failures).toEqual(['trpc: invalid frame']);
    expect(ws.terminated).toBe(true);
  });

  it('pings each transport its own way once a ping is due, and never before', () => {
    start();
    const now = Date.now();
    const trpc = open('trpc');
    const legacy = open('legacy');
    sockets.sweep(now + PING / 2);
    expect([trpc.sent, legacy.pings]).toEqual([[], 0]);
    sockets.sweep(now + PING);
    expect(trpc.sent).toEqual(['PING']);
    expect(legacy.pings).toBe(1);
  });

  it('terminates a socket that has not answered within the pong timeout (less a tick at most)', () => {
    const { gauge, tick } = start();
    const now = Date.now();
    const silent = open('legacy');
    const answering = open('trpc');
    sockets.sweep(now + PING);
    answering.emit('message', 'PONG');
    sockets.sweep(now + PING + PONG - tick - 1);
    expect(silent.terminated).toBe(false);
    sockets.sweep(now + PING + PONG);
    expect(silent.terminated).toBe(true);
    expect(answering.terminated).toBe(false);
    expect(gauge.open).toBe(1);
    expect(sockets.count()).toBe(1);
  });

  it('takes any frame, or a pong, as an answer', () => {
    start();
    const now = Date.now();
    const talker = open('legacy');
    const ponger = open('legacy');
    sockets.sweep(now + PING);
    talker.emit('message', '{"type":"join"}');
    ponger.emit('pong');
    sockets.sweep(now + PING + PONG * 2);
    expect([talker.terminated, ponger.terminated]).toEqual([false, false]);
  });

  it('closes a tRPC socket that does not authenticate in time, and not one that did', () => {
    start();
    const now = Date.now();
    const late = open('trpc', true);
    const prompt = open('trpc', true);
    expect(sockets.admit(prompt as unknown as WebSocket, auth('u1', 's1'))).toBe(true);
    sockets.sweep(now + AUTH);
    expect(late.closedWith).toEqual({ code: 1008, reason: 'Authentication timeout' });
    expect(prompt.closedWith).toBeNull();
  });

  it('closes a socket when its access token expires (4401)', () => {
    start();
    const now = Date.now();
    const ws = open('legacy');
    sockets.admit(ws as unknown as WebSocket, auth('u1', 's1', now + 200));
    sockets.sweep(now + 199);
    expect(ws.closedWith).toBeNull();
    sockets.sweep(now + 200);
    expect(ws.closedWith).toEqual({ code: 4401, reason: 'access token expired' });
  });

  it("closes a revoked session's sockets (4403), only those", () => {
    start();
    const [phone, laptop, other] = [open('trpc'), open('legacy'), open('legacy')];
    sockets.admit(phone as unknown as WebSocket, auth('u1', 's1'));
    sockets.admit(laptop as unknown as WebSocket, auth('u1', 's1'));
    sockets.admit(other as unknown as WebSocket, auth('u1', 's2'));
    bus.publish({ kind: 'session_revoked', session_id: 's1', user_id: 'u1' });
    expect(phone.closedWith).toEqual({ code: 4403, reason: 'session revoked' });
    expect(laptop.closedWith).toEqual({ code: 4403, reason: 'session revoked' });
    expect(other.closedWith).toBeNull();
  });

  it("counts sockets against their user's cap until they close", () => {
    const { caps } = start(2);
    const [a, b, c] = [open('trpc'), open('legacy'), open('legacy')];
    expect(sockets.admit(a as unknown as WebSocket, auth('u1', 's1'))).toBe(true);
    expect(sockets.admit(b as unknown as WebSocket, auth('u1', 's1'))).toBe(true);
    expect(sockets.admit(c as unknown as WebSocket, auth('u1', 's1'))).toBe(false);
    expect(c.closedWith).toEqual({ code: 1008, reason: 'Too many sockets for this user' });
    a.terminate();
    expect(caps.count('user', 'u1')).toBe(1);
  });
});
