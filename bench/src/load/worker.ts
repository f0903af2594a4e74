/**
 * A load generator process. It owns whole conversations: it opens a socket
 * for each of their members, sends their messages on an open-loop schedule
 * (message k is due at t0 + k / rate, whatever the replies), and times each
 * delivery at each member socket from that due time. The parent merges the
 * workers' reports.
 */
import { randomBytes } from 'node:crypto';
import type { AppRouter } from '@pneumatic/api';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import { Histogram } from '../histogram.ts';
import type { ConversationSpec, Member } from '../setup.ts';
import { errorText, mapLimit, sleep, withTimeout } from '../util.ts';
import type { ConnectCommand, FromWorker, StepCommand, StepReport, ToWorker } from './protocol.ts';

type WebSocketClass = NonNullable<Parameters<typeof createWSClient>[0]['WebSocket']>;

/** One member's socket, whatever the transport. */
interface Connection {
  send(conversationId: string, messageId: string, content: string): void;
  close(): void;
}

interface StepState {
  step: number;
  t0: number;
  intervalMs: number;
  seen: Uint8Array;
  received: number;
  duplicates: number;
  stale: number;
  sendErrors: number;
  latency: Histogram;
}

const CONNECT_CONCURRENCY = 25;
const CONNECT_TIMEOUT_MS = 30_000;
const MESSAGE_ID_MARKER = Buffer.from('"message_id":"');
const QUOTE = 0x22;

/** Message ids are `<nonce>:<step>:<k>`, unique per sender across runs on one server. */
const nonce = randomBytes(4).toString('hex');

let conversations: ConversationSpec[] = [];
let membersPerConversation = 1;
/** Index: conversation * membersPerConversation + member slot. */
let connections: Connection[] = [];
let state: StepState | undefined;
let lastFrameAt = 0;
let reconnects = 0;
let closing = false;

function reply(message: FromWorker): void {
  process.send?.(message);
}

/** A failed send or an error frame; between steps there is nothing to charge it to. */
function onSendError(): void {
  if (state) state.sendErrors++;
}

function onDelivery(slot: number, messageId: string): void {
  const first = messageId.indexOf(':');
  const second = messageId.indexOf(':', first + 1);
  if (first < 0 || second < 0 || messageId.slice(0, first) !== nonce) return;
  const step = Number(messageId.slice(first + 1, second));
  const k = Number(messageId.slice(second + 1));
  const s = state;
  if (!s || s.step !== step) {
    if (s) s.stale++;
    return;
  }
  const index = k * membersPerConversation + slot;
  if (index >= s.seen.length) return;
  if (s.seen[index]) {
    s.duplicates++;
    return;
  }
  s.seen[index] = 1;
  s.received++;
  s.latency.recordMs(lastFrameAt - (s.t0 + k * s.intervalMs));
}

/** Until the run closes it, a socket that fails to open rejects, and one that is lost is opened again. */
function reopenWhenLost(socket: WebSocket, reject: (error: Error) => void, open: () => Promise<void>): void {
  socket.once('error', reject);
  socket.on('error', () => {});
  socket.once('close', () => {
    if (closing) return;
    reconnects++;
    setTimeout(() => void open().catch(() => {}), 200);
  });
}

/** A legacy /ws socket (the real server's or the baseline's): raw JSON frames. */
async function openLegacy(wsUrl: string, member: Member, slot: number): Promise<Connection> {
  let ws: WebSocket;
  let probeAnswered: (() => void) | undefined;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(`${wsUrl}/ws?token=${encodeURIComponent(member.token)}`, {
        perMessageDeflate: false,
      });
      ws = socket;
      socket.on('message', (data: Buffer) => {
        lastFrameAt = performance.now();
        const at = data.indexOf(MESSAGE_ID_MARKER);
        if (at >= 0) {
          const start = at + MESSAGE_ID_MARKER.length;
          onDelivery(slot, data.toString('latin1', start, data.indexOf(QUOTE, start)));
        } else if (probeAnswered && data.includes('unknown type')) {
          probeAnswered();
          probeAnswered = undefined;
        } else {
          onSendError();
        }
      });
      socket.once('open', () => resolve());
      reopenWhenLost(socket, reject, open);
    });
  await open();
  // The server checks the token after the upgrade; a probe's answer says it is done.
  await withTimeout(
    new Promise<void>((resolve) => {
      probeAnswered = resolve;
      ws.send('{"type":"probe"}');
    }),
    CONNECT_TIMEOUT_MS,
    'legacy authentication',
  );
  return {
    send(conversationId, messageId, content) {
      if (ws.readyState !== WebSocket.OPEN) return onSendError();
      ws.send(
        JSON.stringify({ type: 'message', message_id: messageId, conversation_id: conversationId, content }),
      );
    },
    close: () => ws.close(),
  };
}

/** The start of every frame of the subscription (request id 1): events, `started`, `stopped`, its errors. */
const SUBSCRIPTION_FRAME = Buffer.from('{"id":1,');
const STARTED = Buffer.from('{"id":1,"result":{"type":"started"');
const SUBSCRIPTION_DATA = Buffer.from('{"id":1,"result":{"type":"data"');
const MESSAGE_EVENT = Buffer.from('"data":{"type":"message"');
const ERROR_KEY = Buffer.from('"error":');

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/**
 * tRPC's WebSocket protocol spoken directly, as the legacy client speaks
 * `/ws`: the same frames `@trpc/client`'s wsLink sends (connectionParams,
 * one `events.stream` subscription, `messages.send` mutations, PONG for the
 * server's PING), the replies read by scanning bytes instead of through the
 * client's observables. The server does exactly the same work for either;
 * the stock client costs the load generator about five times the CPU per
 * delivery, and on two shared cores that CPU is taken from the server
 * (docs/benchmarks.md). `--trpc-client stock` runs the stock client instead.
 */
async function openTrpcWire(
  wsUrl: string,
  member: Member,
  slot: number,
  subscribe: boolean,
): Promise<Connection> {
  let ws: WebSocket;
  let nextId = 2;
  let ready: ((error?: Error) => void) | undefined;
  const firstRequest = subscribe
    ? '{"id":1,"method":"subscription","params":{"path":"events.stream","input":{}}}'
    : '{"id":1,"method":"query","params":{"path":"auth.me"}}';
  const open = () =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(`${wsUrl}/trpc?connectionParams=1`, { perMessageDeflate: false });
      ws = socket;
      socket.on('message', (data: Buffer) => {
        lastFrameAt = performance.now();
        if (data.length === 4 && data.toString('latin1') === 'PING') return socket.send('PONG');
        if (startsWith(data, SUBSCRIPTION_FRAME)) {
          if (startsWith(data, SUBSCRIPTION_DATA)) {
            if (!subscribe) {
              ready?.();
              ready = undefined;
              return;
            }
            if (data.indexOf(MESSAGE_EVENT) < 0) return;
            const at = data.indexOf(MESSAGE_ID_MARKER);
            const start = at + MESSAGE_ID_MARKER.length;
            if (at >= 0) onDelivery(slot, data.toString('latin1', start, data.indexOf(QUOTE, start)));
            return;
          }
          if (startsWith(data, STARTED)) {
            ready?.();
            ready = undefined;
            return;
          }
          // `stopped`, or the subscription's error.
          ready?.(new Error(`tRPC subscription: ${data.toString('utf8', 0, 200)}`));
          ready = undefined;
          return onSendError();
        }
        // A mutation's answer: only its errors matter, the event is the delivery.
        const comma = data.indexOf(0x2c);
        if (
          comma > 0 &&
          data.compare(ERROR_KEY, 0, ERROR_KEY.length, comma + 1, comma + 1 + ERROR_KEY.length) === 0
        )
          onSendError();
      });
      socket.once('open', () => {
        socket.send(JSON.stringify({ method: 'connectionParams', data: { token: member.token } }));
        socket.send(firstRequest);
        resolve();
      });
      reopenWhenLost(socket, reject, open);
    });
  const answered = new Promise<void>((resolve, reject) => {
    ready = (error) => (error ? reject(error) : resolve());
  });
  await open();
  await withTimeout(answered, CONNECT_TIMEOUT_MS, subscribe ? 'tRPC subscription' : 'tRPC authentication');
  return {
    send(conversationId, messageId, content) {
      if (ws.readyState !== WebSocket.OPEN) return onSendError();
      ws.send(
        `{"id":${nextId++},"method":"mutation","params":{"path":"messages.send","input":${JSON.stringify({
          message_id: messageId,
          conversation_id: conversationId,
          content,
        })}}}`,
      );
    },
    close: () => ws.close(),
  };
}

/** The stock @trpc/client with its own WebSocket: subscription and mutations over the same link. */
async function openTrpc(
  wsUrl: string,
  member: Member,
  slot: number,
  subscribe: boolean,
): Promise<Connection> {
  const wsClient = createWSClient({
    url: `${wsUrl}/trpc`,
    WebSocket: WebSocket as unknown as WebSocketClass,
    connectionParams: { token: member.token },
    retryDelayMs: () => 500,
    onClose: () => {
      if (!closing) reconnects++;
    },
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
  if (subscribe) {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        client.events.stream.subscribe(
          {},
          {
            onStarted: () => resolve(),
            onData: (event) => {
              lastFrameAt = performance.now();
              if (event.data.type === 'message') onDelivery(slot, event.data.message.message_id);
            },
            onError: (error) => {
              onSendError();
              reject(error);
            },
          },
        );
      }),
      CONNECT_TIMEOUT_MS,
      'tRPC subscription',
    );
  } else {
    // A query proves the connection parameters were received and the context built.
    await withTimeout(client.auth.me.query(), CONNECT_TIMEOUT_MS, 'tRPC authentication');
  }
  return {
    send(conversationId, messageId, content) {
      client.messages.send
        .mutate({ message_id: messageId, conversation_id: conversationId, content })
        .then(undefined, onSendError);
    },
    close: () => void wsClient.close(),
  };
}

async function connect(command: ConnectCommand): Promise<void> {
  const start = performance.now();
  closing = false;
  conversations = command.conversations;
  membersPerConversation = Math.max(1, ...conversations.map((c) => c.members.length));
  const slots = conversations.flatMap((c) => c.members.map((member, slot) => ({ member, slot })));
  connections = await mapLimit(slots, CONNECT_CONCURRENCY, ({ member, slot }) =>
    command.transport === 'trpc'
      ? (process.env.BENCH_TRPC_CLIENT === 'stock' ? openTrpc : openTrpcWire)(
          command.wsUrl,
          member,
          slot,
          command.subscribe,
        )
      : openLegacy(command.wsUrl, member, slot),
  );
  reconnects = 0;
  reply({ type: 'connected', sockets: connections.length, ms: performance.now() - start });
}

/** Words to build message texts from; drawn with a skew, as people write (a few words very often). */
const WORDS = (
  'the a to and of i you it in is that for on me we this be with so what are at have was not my just ' +
  'can do no if but all get up out now like one your there how about they when time lunch meeting today ' +
  'tomorrow call ship deploy review build test fix bug release coffee later sure thanks ok yes great ' +
  'send file doc link check plan sprint ticket branch merge server client socket cache query index page ' +
  'weekend train office remote home late early morning evening friday monday budget design draft notes'
).split(' ');

/** A deterministic pseudo-random number generator (mulberry32), so runs send the same texts. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 512 message texts of about `bytes` characters each: varied words, so search indexes see real-ish text. */
function contentsOf(bytes: number): string[] {
  const next = random(bytes);
  return Array.from({ length: 512 }, (_, i) => {
    let text = `#${i}`;
    while (text.length < bytes) text += ` ${WORDS[Math.floor(next() ** 2 * WORDS.length)]}`;
    return text.slice(0, bytes).trim();
  });
}

async function runStep(command: StepCommand): Promise<StepReport> {
  const count = conversations.length;
  const total = Math.max(1, Math.round((command.rate * command.durationMs) / 1000));
  const intervalMs = 1000 / command.rate;
  const t0 = command.startAt - performance.timeOrigin;
  const contents = contentsOf(command.contentBytes);
  const s: StepState = {
    step: command.step,
    t0,
    intervalMs,
    seen: new Uint8Array(total * membersPerConversation),
    received: 0,
    duplicates: 0,
    stale: 0,
    sendErrors: 0,
    latency: new Histogram(),
  };
  state = s;
  const reconnectsBefore = reconnects;
  const maxBacklog = Math.max(
    membersPerConversation * 50,
    (command.rate * membersPerConversation * command.maxBacklogMs) / 1000,
  );
  let cpuBefore = process.cpuUsage();
  let cpuShare = 0;
  let k = 0;
  let firstSend = 0;
  let lastSend = 0;
  let aborted = false;

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (k < total && t0 + k * intervalMs <= now) {
        const conversation = conversations[k % count]!;
        const sender = Math.floor(k / count) % conversation.members.length;
        connections[(k % count) * membersPerConversation + sender]!.send(
          conversation.id,
          `${nonce}:${command.step}:${k}`,
          contents[k % contents.length]!,
        );
        if (k === 0) {
          firstSend = now;
          cpuBefore = process.cpuUsage();
        }
        lastSend = now;
        k++;
      }
      const done = () => {
        const cpu = process.cpuUsage(cpuBefore);
        const wallMs = performance.now() - firstSend;
        cpuShare = wallMs > 0 ? (cpu.user + cpu.system) / 1000 / wallMs : 0;
        resolve();
      };
      if (k * membersPerConversation - s.received > maxBacklog) {
        aborted = true;
        return done();
      }
      if (k >= total) return done();
      setTimeout(tick, Math.min(50, Math.max(0, t0 + k * intervalMs - performance.now())));
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });

  const expected = k * membersPerConversation;
  const deadline = (aborted ? performance.now() : t0 + (k - 1) * intervalMs) + command.drainMs;
  while (s.received < expected && performance.now() < deadline) await sleep(10);
  state = undefined;
  return {
    step: command.step,
    sent: k,
    sendSpanMs: lastSend - firstSend,
    expected,
    received: s.received,
    duplicates: s.duplicates,
    stale: s.stale,
    sendErrors: s.sendErrors,
    aborted,
    latency: s.latency.toData(),
    cpuShare,
    reconnects: reconnects - reconnectsBefore,
  };
}

/** Resolves once nothing has arrived for 300 ms (the server's backlog is drained), at most 20 s. */
async function settle(): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (performance.now() - lastFrameAt < 300 && performance.now() < deadline) await sleep(50);
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'connect':
      return connect(message);
    case 'step':
      return reply({ type: 'stepDone', report: await runStep(message) });
    case 'settle':
      await settle();
      return reply({ type: 'settled' });
    case 'close':
      closing = true;
      for (const connection of connections) connection.close();
      connections = [];
      await sleep(100);
      reply({ type: 'closed' });
      return;
  }
}

process.on('message', (message: ToWorker) => {
  handle(message).catch((error: unknown) => {
    reply({ type: 'failed', message: errorText(error) });
  });
});
process.on('disconnect', () => process.exit(0));
