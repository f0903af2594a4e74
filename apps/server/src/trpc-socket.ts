import {
  type ApiDeps,
  appRouter,
  authenticate,
  type Context,
  callDirect,
  createContextFactory,
  DIRECT_STREAM,
  directProcedure,
  type EventSink,
  isEventStream,
  keep,
  keptOn,
  type SocketHandle,
  type StreamHandle,
  serializedOnce,
  socketIdentity,
} from '@pneumatic/api';
import {
  callTRPCProcedure,
  getErrorShape,
  getTRPCErrorFromUnknown,
  isTrackedEnvelope,
  TRPCError,
  transformTRPCResponse,
} from '@trpc/server';
import { parseConnectionParamsFromUnknown, type TRPCRequestInfo } from '@trpc/server/http';
import {
  parseTRPCMessage,
  TRPC_ERROR_CODES_BY_KEY,
  type TRPCClientOutgoingMessage,
  type TRPCErrorShape,
  type TRPCResponseMessage,
} from '@trpc/server/rpc';
import type { Logger } from 'pino';
import { type RawData, WebSocket } from 'ws';
import { reportFailure } from './failures.ts';
import { SharedFrame, sendBatched } from './sockets/batched-writes.ts';
import type { LiveSockets, SocketConnection } from './sockets/live-sockets.ts';
import {
  MAX_BATCH_SIZE,
  MAX_SUBSCRIPTIONS_PER_SOCKET,
  shedIfStalled,
  TOO_MANY_USER_SOCKETS,
} from './sockets/socket-limits.ts';
import type { SocketUpgrades } from './sockets/upgrades.ts';

type Id = number | string;
type ProcedureType = 'query' | 'mutation' | 'subscription';
type JsonRpc = '2.0' | undefined;

/** What a client gets when its error cannot be shaped: nothing about the error. */
const FALLBACK_ERROR: TRPCErrorShape = {
  code: TRPC_ERROR_CODES_BY_KEY.INTERNAL_SERVER_ERROR,
  message: 'Internal server error',
  data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 },
};

const config = appRouter._def._config;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return isObject(value) && Symbol.asyncIterator in value;
}

/** The last frame built for an event, kept on it (keep), reused while the next subscriber has the same ids (most do). */
const LAST_FRAME = Symbol('last frame');
interface LastFrame {
  subscriptionId: Id;
  jsonrpc: JsonRpc;
  eventId: string;
  frame: SharedFrame;
}

/** True when the router has no transformer: a result goes out as its own JSON. */
const PLAIN_JSON = (() => {
  const data = {};
  const out = transformTRPCResponse(config, { id: 1, result: { type: 'data', data } });
  return 'result' in out && out.result.type === 'data' && out.result.data === data;
})();

/** What every answer frame starts with, as tRPC's adapter writes it: `{"id":…,` and `"jsonrpc":"2.0",` when asked in JSON-RPC. */
function frameHead(id: Id, jsonrpc: JsonRpc): string {
  return `{"id":${JSON.stringify(id)},${jsonrpc === undefined ? '' : '"jsonrpc":"2.0",'}`;
}

/** An answer's `data` frame (`{"id","jsonrpc"?,"result":{"type":"data","data"}}`) around the data's JSON. */
export function dataFrame(id: Id, jsonrpc: JsonRpc, json: string): SharedFrame {
  return new SharedFrame(`${frameHead(id, jsonrpc)}"result":{"type":"data","data":${json}}}`);
}

/**
 * A tracked event's `data` frame, exactly as tRPC's adapter writes it
 * (`{"id","jsonrpc"?,"result":{"type":"data","data":{"id","data"},"id"}}`),
 * with the event's JSON made once for all its subscribers.
 */
export function trackedFrame(
  subscriptionId: Id,
  jsonrpc: JsonRpc,
  eventId: string,
  event: object,
): SharedFrame {
  const last = keptOn<LastFrame>(event, LAST_FRAME);
  // Strict equality: a subscription id 1 and "1" get different frames.
  if (last && last.subscriptionId === subscriptionId && last.jsonrpc === jsonrpc && last.eventId === eventId)
    return last.frame;
  const id = JSON.stringify(eventId);
  const frame = new SharedFrame(
    `${frameHead(subscriptionId, jsonrpc)}"result":{"type":"data","data":{"id":${id},"data":${serializedOnce(event)}},"id":${id}}}`,
  );
  keep(event, LAST_FRAME, { subscriptionId, jsonrpc, eventId, frame });
  return frame;
}

/** The first frame of a socket opened with `?connectionParams=1`: `{ method: 'connectionParams', data }`. */
function connectionParamsOf(text: string | null): TRPCRequestInfo['connectionParams'] {
  let message: unknown;
  try {
    if (text === null) throw new Error('Message was binary');
    message = JSON.parse(text);
    if (!isObject(message)) throw new Error('Message was not an object');
  } catch (cause) {
    throw new TRPCError({ code: 'PARSE_ERROR', message: 'Malformed TRPCConnectionParamsMessage', cause });
  }
  return parseConnectionParamsFromUnknown(message.data);
}

export interface TrpcSocketOptions {
  sockets: LiveSockets;
  upgrades: SocketUpgrades;
}

/**
 * tRPC's WebSocket protocol at /trpc, served here rather than by tRPC's
 * adapter, frame for frame as that adapter answers (the conformance suite
 * drives both with the stock @trpc/client and compares): connectionParams
 * first, then single or batched calls, queries and mutations through
 * tRPC's own procedure caller, subscriptions answered `started`, their
 * tracked events, and `stopped`.
 *
 * What differs is the cost. The event stream writes each live event
 * straight to the socket as the hub delivers it (one frame per event made
 * once for all subscribers), without the adapter's async-iterator step,
 * promise race and envelope per subscriber and event. Keep-alive, auth
 * deadlines, token expiry and revoked sessions are LiveSockets' sweep; a
 * connection keeps one small object, and nothing of its upgrade request.
 */
export function registerTrpcSocket(deps: ApiDeps, logger: Logger, options: TrpcSocketOptions): void {
  const createContext = createContextFactory(deps);

  const report = (error: TRPCError, path: string | undefined, type: ProcedureType | 'unknown') =>
    reportFailure(logger, error, { path, type });

  /**
   * A subscription's stop while it is set up: a flag, and an AbortSignal
   * only for a procedure that takes one (tRPC's own caller). The event
   * stream, which every socket opens, never asks for it: an AbortSignal is
   * an EventTarget, 2 % of connecting a tRPC socket.
   */
  class Cancellation {
    aborted = false;
    #controller: AbortController | undefined;

    get signal(): AbortSignal {
      if (!this.#controller) {
        this.#controller = new AbortController();
        if (this.aborted) this.#controller.abort();
      }
      return this.#controller.signal;
    }

    abort(): void {
      if (this.aborted) return;
      this.aborted = true;
      this.#controller?.abort();
    }
  }

  /**
   * One subscription of a connection. While it is being set up, `abort`
   * stops it; once the event stream runs, the subscription is this object
   * and the stream's one feed object, nothing suspended in between.
   */
  class TrpcSubscription implements EventSink {
    /** The running event stream, once started. */
    handle: StreamHandle | null = null;
    constructor(
      readonly connection: TrpcConnection,
      readonly id: Id,
      readonly jsonrpc: JsonRpc,
      readonly path: string,
      public abort: Cancellation | null,
    ) {}

    event(eventId: string, event: object): void {
      const { ws } = this.connection;
      if (ws.readyState === WebSocket.OPEN)
        sendBatched(ws, trackedFrame(this.id, this.jsonrpc, eventId, event));
    }

    /** The stream failed by itself: the client learns why, then that it stopped. */
    end(error: Error): void {
      this.connection.forget(this);
      this.connection.fail(this.id, this.jsonrpc, 'subscription', this.path, undefined, error);
      this.connection.stopped(this);
    }

    /** Stopped by the client or by the socket closing; a running stream answers `stopped` now. */
    stop(): void {
      this.abort?.abort();
      if (!this.handle) return;
      this.handle.stop();
      this.connection.forget(this);
      this.connection.stopped(this);
    }
  }

  class TrpcConnection implements SocketHandle, SocketConnection {
    readonly transport = 'trpc';
    ctx: Context | undefined;
    userId = '';
    /** Settles once the context exists (or could not be made); null until connectionParams come. */
    ready: Promise<Context | TRPCError> | null = null;
    /** Open subscriptions (at most MAX_SUBSCRIPTIONS_PER_SOCKET: a list is enough). */
    subscriptions: TrpcSubscription[] | null = null;

    constructor(
      readonly ws: WebSocket,
      readonly ip: string,
    ) {}

    shedIfStalled(): boolean {
      return shedIfStalled(this.ws);
    }

    receive(data: RawData, isBinary: boolean): void {
      const text = isBinary ? null : String(data);
      if (text === 'PONG') return;
      if (text === 'PING') {
        this.ws.send('PONG');
        return;
      }
      if (this.ready === null) {
        this.ready = this.authenticate(() => connectionParamsOf(text));
        return;
      }
      let decoded: unknown;
      try {
        if (text === null)
          throw new Error(
            'jsonEncoder received binary data. JSON uses text frames. Use a binary encoder for binary data.',
          );
        decoded = JSON.parse(text);
      } catch (cause) {
        this.#respondUnattached(new TRPCError({ code: 'PARSE_ERROR', cause }));
        return;
      }
      const raws = Array.isArray(decoded) ? decoded : [decoded];
      if (Array.isArray(decoded) && raws.length > MAX_BATCH_SIZE) {
        this.#refuseBatch(raws);
        return;
      }
      let messages: TRPCClientOutgoingMessage[];
      try {
        messages = raws.map((raw) => parseTRPCMessage(raw, config.transformer));
      } catch (cause) {
        this.#respondUnattached(new TRPCError({ code: 'PARSE_ERROR', cause }));
        return;
      }
      messages.forEach((message, index) => {
        this.#handle(message, index).catch((cause: unknown) =>
          report(getTRPCErrorFromUnknown(cause), undefined, 'unknown'),
        );
      });
    }

    /** The socket went: its subscriptions end. */
    closed(): void {
      const subscriptions = this.subscriptions ?? [];
      this.subscriptions = null;
      for (const subscription of subscriptions) subscription.stop();
    }

    subscription(id: Id): TrpcSubscription | undefined {
      return this.subscriptions?.find((subscription) => subscription.id === id);
    }

    forget(subscription: TrpcSubscription): void {
      const i = this.subscriptions?.indexOf(subscription) ?? -1;
      if (i >= 0) this.subscriptions!.splice(i, 1);
    }

    stopped({ id, jsonrpc }: TrpcSubscription): void {
      this.#respond({ id, jsonrpc, result: { type: 'stopped' } });
    }

    /** A call's failure, reported and answered. */
    fail(id: Id, jsonrpc: JsonRpc, type: ProcedureType, path: string, input: unknown, cause: unknown): void {
      const error = getTRPCErrorFromUnknown(cause);
      report(error, path, type);
      this.#respond({ id, jsonrpc, error: this.#shape(error, type, path, input) });
    }

    /** The context, from the token in connectionParams; a failure is answered, and the socket closed. */
    async authenticate(read: () => TRPCRequestInfo['connectionParams']): Promise<Context | TRPCError> {
      try {
        return await this.#contextFor(read());
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        report(error, undefined, 'unknown');
        this.#respondUnattached(error);
        setImmediate(() => this.ws.close());
        return error;
      }
    }

    async #contextFor(connectionParams: TRPCRequestInfo['connectionParams']): Promise<Context> {
      const token = connectionParams?.token;
      const auth = await authenticate(deps, typeof token === 'string' ? token : null);
      if (!options.sockets.admit(this.ws, auth))
        throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: TOO_MANY_USER_SOCKETS.reason });
      this.userId = auth.user.id;
      this.ctx = createContext(socketIdentity(auth), { ip: this.ip, socket: this });
      return this.ctx;
    }

    async #handle(message: TRPCClientOutgoingMessage, batchIndex: number): Promise<void> {
      const { id, jsonrpc } = message;
      if (id === null) {
        const error = new TRPCError({ code: 'PARSE_ERROR', message: '`id` is required' });
        report(error, undefined, 'unknown');
        return this.#respond({ id, jsonrpc, error: this.#shape(error, 'unknown', undefined, undefined) });
      }
      if (message.method === 'subscription.stop') {
        this.subscription(id)?.stop();
        return;
      }
      const { path, lastEventId } = message.params;
      const type = message.method;
      let { input } = message.params;
      if (lastEventId !== undefined)
        input = isObject(input) ? { ...input, lastEventId } : (input ?? { lastEventId });
      const fail = (cause: unknown) => this.fail(id, jsonrpc, type, path, input, cause);

      if (type === 'subscription' && this.subscription(id)) {
        return fail(new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` }));
      }
      if (type === 'subscription' && (this.subscriptions?.length ?? 0) >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
        return fail(
          new TRPCError({
            code: 'TOO_MANY_REQUESTS',
            message: `At most ${MAX_SUBSCRIPTIONS_PER_SOCKET} subscriptions on one socket`,
          }),
        );
      }
      // Only a subscription can be stopped; a query or mutation runs to its end.
      const abort = type === 'subscription' ? new Cancellation() : undefined;
      let subscription: TrpcSubscription | undefined;
      if (abort) {
        subscription = new TrpcSubscription(this, id, jsonrpc, path, abort);
        this.subscriptions ??= [];
        this.subscriptions.push(subscription);
      }
      /** Resolves true when the subscription went on running by itself (the event stream). */
      const execute = async (): Promise<boolean> => {
        const ctx = await this.ready!;
        if (ctx instanceof TRPCError) throw ctx;
        if (abort && (abort.aborted || this.ws.readyState !== WebSocket.OPEN)) return false;
        const direct = directProcedure(ctx, path, type);
        const result = direct
          ? await callDirect(direct, path, ctx, input)
          : await callTRPCProcedure({
              router: appRouter,
              path,
              getRawInput: async () => input,
              ctx,
              type,
              signal: abort?.signal,
              batchIndex,
            });
        if (!subscription || !abort) {
          if (isAsyncIterable(result))
            throw new TRPCError({
              code: 'UNSUPPORTED_MEDIA_TYPE',
              message: `Cannot return an async iterable or observable from a ${type} procedure with WebSockets`,
            });
          if (direct && isObject(result)) this.#respondData(id, jsonrpc, result);
          else this.#respond({ id, jsonrpc, result: { type: 'data', data: result } });
          return false;
        }
        if (!isAsyncIterable(result))
          throw new TRPCError({
            code: 'INTERNAL_SERVER_ERROR',
            message: `Subscription ${path} did not return an observable or a AsyncGenerator`,
          });
        if (abort.aborted || this.ws.readyState !== WebSocket.OPEN) return false;
        if (PLAIN_JSON) this.ws.send(`${frameHead(id, jsonrpc)}"result":{"type":"started"}}`);
        else this.#respond({ id, jsonrpc, result: { type: 'started' } });
        if (isEventStream(result)) {
          subscription.abort = null;
          subscription.handle = result[DIRECT_STREAM](subscription);
          return true;
        }
        try {
          await this.#iterate(id, jsonrpc, result, abort.signal);
        } catch (cause) {
          // The client learns why, then that the subscription stopped.
          abort.abort();
          fail(cause);
        }
        return false;
      };
      let running: boolean;
      try {
        running = await execute();
      } catch (cause) {
        if (subscription) this.forget(subscription);
        const error = getTRPCErrorFromUnknown(cause);
        // A subscription stopped while it was being set up is not a failure.
        const cancelled =
          abort?.aborted === true &&
          error.code === 'INTERNAL_SERVER_ERROR' &&
          (error.cause as Error | undefined)?.name === 'AbortError';
        if (!cancelled) fail(error);
        return;
      }
      if (subscription && !running) {
        this.forget(subscription);
        this.stopped(subscription);
      }
    }

    /** A subscription other than the event stream: tRPC's loop, one event at a time. */
    async #iterate(
      id: Id,
      jsonrpc: JsonRpc,
      iterable: AsyncIterable<unknown>,
      signal: AbortSignal,
    ): Promise<void> {
      const iterator = iterable[Symbol.asyncIterator]();
      const stopped = new Promise<'stopped'>((resolve) =>
        signal.addEventListener('abort', () => resolve('stopped'), { once: true }),
      );
      try {
        for (;;) {
          const next = await Promise.race([iterator.next(), stopped]);
          if (next === 'stopped' || next.done) return;
          const value = next.value;
          if (isTrackedEnvelope(value)) {
            const [eventId, data] = value;
            this.#respond({
              id,
              jsonrpc,
              result: { type: 'data', data: { id: eventId, data }, id: eventId },
            });
          } else this.#respond({ id, jsonrpc, result: { type: 'data', data: value } });
        }
      } finally {
        await iterator.return?.();
      }
    }

    #shape(
      error: TRPCError,
      type: ProcedureType | 'unknown',
      path: string | undefined,
      input: unknown,
    ): TRPCErrorShape {
      try {
        return getErrorShape({ config, error, type, path, input, ctx: this.ctx });
      } catch (cause) {
        report(getTRPCErrorFromUnknown(cause), path, type);
        return FALLBACK_ERROR;
      }
    }

    /** A failure tied to no call (a frame that is not JSON, a refused login): answered with id null. */
    #respondUnattached(error: TRPCError): void {
      this.#respond({ id: null, error: this.#shape(error, 'unknown', undefined, undefined) });
    }

    /** Batches past the limit: every call in it is refused, as a batched HTTP call would be. */
    #refuseBatch(raws: unknown[]): void {
      const error = new TRPCError({ code: 'BAD_REQUEST', message: 'Batch call exceeds maximum size' });
      report(error, undefined, 'unknown');
      const shape = this.#shape(error, 'unknown', undefined, undefined);
      let answered = false;
      for (const raw of raws) {
        if (!isObject(raw) || raw.method === 'subscription.stop') continue;
        if (typeof raw.id !== 'number' && typeof raw.id !== 'string') continue;
        this.#respond({ id: raw.id, jsonrpc: raw.jsonrpc === '2.0' ? '2.0' : undefined, error: shape });
        answered = true;
      }
      if (!answered) this.#respond({ id: null, error: shape });
    }

    /** Replies go only while the socket is open. */
    #respond(message: TRPCResponseMessage): void {
      if (this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.send(JSON.stringify(transformTRPCResponse(config, message)));
    }

    /**
     * A direct call's answer (a send's message), frame for frame as #respond
     * writes it, around the result's JSON made once (serializedOnce): the
     * message events that carry the same message are written around it too.
     */
    #respondData(id: Id, jsonrpc: JsonRpc, result: object): void {
      if (PLAIN_JSON) sendBatched(this.ws, dataFrame(id, jsonrpc, serializedOnce(result)));
      else this.#respond({ id, jsonrpc, result: { type: 'data', data: result } });
    }
  }

  options.upgrades.route('/trpc', (socket, upgrade) => {
    const connection = new TrpcConnection(socket, upgrade.ip);
    options.sockets.open(socket, connection, true);
    // Without `?connectionParams=1` the client sends none: the context is made at once, with no token.
    if (upgrade.query.get('connectionParams') !== '1') connection.ready = connection.authenticate(() => null);
  });
}
