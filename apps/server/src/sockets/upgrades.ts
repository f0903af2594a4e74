import { type IncomingMessage, type Server, ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import proxyAddr from '@fastify/proxy-addr';
import { type ApiDeps, type TokenClaims, verifyToken } from '@pneumatic/api';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { reportFailure } from '../failures.ts';
import { isAllowedSocketOrigin } from '../http-hygiene.ts';
import { budgetHeaders, callerKey } from '../limits/http-rate-limit.ts';
import { bearerOf } from '../request-auth.ts';
import { inBody, toRestError } from '../rest/errors.ts';
import type { SocketCaps } from './socket-caps.ts';
import { TOO_MANY_ADDRESS_SOCKETS } from './socket-limits.ts';

/** What a socket's route is told of the upgrade that opened it; the request itself is not kept. */
export interface SocketUpgrade {
  /** The client's address, through trusted proxies as for HTTP requests. */
  readonly ip: string;
  /** The URL's query (it may carry a token: never log it). */
  readonly query: URLSearchParams;
  /** The socket's id in the log. */
  readonly id: string;
  /** The upgrade's access token (`Authorization: Bearer`, or `?token=` on /ws), verified once however often asked. */
  claims(): Promise<TokenClaims>;
}

/** Takes a socket its upgrade opened. */
export type SocketRoute = (ws: WebSocket, upgrade: SocketUpgrade) => void;

/** fastify's `trustProxy` as the configuration gives it (config.ts). */
export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

export interface SocketUpgradeOptions {
  deps: ApiDeps;
  logger: Logger;
  caps: SocketCaps;
  trustProxy: TrustProxy;
  corsOrigins: string[];
  maxPayload: number;
  /** Where an upgrade no socket route takes is served as the HTTP request it also is (fastify's handler). */
  http: (request: IncomingMessage, response: ServerResponse) => void;
  onRefused?: (reason: 'rate') => void;
}

/**
 * The client's address of a request as fastify's `request.ip` reads it with
 * the same `trustProxy` (fastify's own rule, on the library it uses).
 */
export function clientAddress(trustProxy: TrustProxy): (request: IncomingMessage) => string {
  if (trustProxy === false) return (request) => request.socket.remoteAddress ?? '';
  const trust =
    typeof trustProxy === 'function'
      ? trustProxy
      : trustProxy === true
        ? () => true
        : proxyAddr.compile(trustProxy.split(',').map((address) => address.trim()));
  return (request) => proxyAddr(request, trust);
}

/** `/ws?token=…` takes its token from the query when no Authorization header is sent: one, not empty. */
function tokenOf(request: IncomingMessage, path: string, query: URLSearchParams): string | null {
  const header = request.headers.authorization;
  if (header !== undefined || path !== '/ws') return bearerOf(header);
  const tokens = query.getAll('token');
  return tokens.length === 1 && tokens[0] ? tokens[0] : null;
}

/** An upgrade refused over HTTP, then hung up (as ws answers a refused handshake). */
function refuse(
  socket: Duplex,
  status: number,
  body: object,
  headers: Record<string, string | number> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const json = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(json)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${json}`);
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/**
 * WebSocket upgrades, /trpc and /ws, taken from node's HTTP server here
 * rather than routed through fastify: a socket's upgrade ran fastify's
 * whole request lifecycle (a response object, routing, every hook, a reply
 * that was then hijacked): about 120 calls in 75 functions a socket, a
 * fifth of a fresh process's connect on its event loop (docs/benchmarks.md,
 * thirteenth session). What that lifecycle
 * did for an upgrade is done here: the rate limit keyed like an HTTP
 * request's, the per-address cap, the origin check (ws's verifyClient),
 * then the route. Anything else that asks to upgrade (another path, another
 * protocol) is served as the plain HTTP request it is, and hung up after.
 */
export class SocketUpgrades {
  /** The sockets' server, noServer: the `connection` event has each socket with its upgrade request. */
  readonly server: WebSocketServer;
  readonly #routes = new Map<string, SocketRoute>();
  readonly #options: SocketUpgradeOptions;
  readonly #ipOf: (request: IncomingMessage) => string;
  #attached: Server | null = null;
  #count = 0;

  constructor(options: SocketUpgradeOptions) {
    this.#options = options;
    this.#ipOf = clientAddress(options.trustProxy);
    this.server = new WebSocketServer({
      noServer: true,
      // LiveSockets keeps every open socket; ws's own set would add a closure per socket to it.
      clientTracking: false,
      maxPayload: options.maxPayload,
      verifyClient: ({ origin, req }, done) =>
        done(isAllowedSocketOrigin(origin, req.headers.host, options.corsOrigins), 403, 'Origin not allowed'),
    });
  }

  /** Sockets opened at `path` (the path exactly, any query) go to `route`. */
  route(path: string, route: SocketRoute): void {
    this.#routes.set(path, route);
  }

  attach(server: Server): void {
    this.#attached = server;
    server.on('upgrade', this.#upgrade);
  }

  /** New upgrades are no longer taken (node hangs them up); open sockets stay open. */
  close(): void {
    this.#attached?.off('upgrade', this.#upgrade);
    this.#attached = null;
    this.server.close();
  }

  readonly #upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = request.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route =
      request.method === 'GET' && request.headers.upgrade?.toLowerCase() === 'websocket'
        ? this.#routes.get(path)
        : undefined;
    // Node took its own error listener off before handing the socket over: until ws adds its
    // own, an error (a reset) must not go unheard.
    socket.on('error', destroyOnError);
    if (!route) {
      this.#serveAsHttp(request, socket as Socket);
      return;
    }
    this.#admit(request, socket, head, route, path, q < 0 ? '' : url.slice(q + 1)).catch((error: unknown) => {
      const failure = toRestError(reportFailure(this.#options.logger, error), inBody);
      refuse(socket, failure.status, failure.body, failure.headers);
    });
  };

  async #admit(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    route: SocketRoute,
    path: string,
    search: string,
  ): Promise<void> {
    const { deps, caps } = this.#options;
    const ip = this.#ipOf(request);
    const query = new URLSearchParams(search);
    const token = tokenOf(request, path, query);
    let verified: Promise<TokenClaims> | undefined;
    const claims = () => {
      if (!verified) {
        verified = verifyToken(deps, token);
        // Asked for by the rate limit, whose caller may never look at a refusal.
        verified.catch(() => {});
      }
      return verified;
    };
    if (deps.budget) {
      const result = await deps.budget.consume(await callerKey(ip, token === null ? null : claims));
      if (!result.allowed) {
        this.#options.onRefused?.('rate');
        refuse(socket, 429, { detail: result.message }, budgetHeaders(result));
        return;
      }
    }
    if (socket.destroyed) return;
    // The connection counts against its address until it closes, whether or not the upgrade succeeds.
    if (!caps.admitAddress(ip, socket as Socket)) {
      refuse(socket, TOO_MANY_ADDRESS_SOCKETS.status, { detail: TOO_MANY_ADDRESS_SOCKETS.detail });
      return;
    }
    const upgrade: SocketUpgrade = {
      ip,
      query,
      id: `ws-${(++this.#count).toString(36)}`,
      claims,
    };
    // ws adds its own error listener synchronously in handleUpgrade.
    socket.off('error', destroyOnError);
    this.server.handleUpgrade(request, socket, head, (ws) => {
      this.server.emit('connection', ws, request);
      try {
        route(ws, upgrade);
      } catch (error) {
        reportFailure(this.#options.logger, error);
        ws.terminate();
      }
    });
  }

  /** An upgrade no socket route takes: fastify answers it as HTTP, and the connection ends with the answer. */
  #serveAsHttp(request: IncomingMessage, socket: Socket): void {
    const response = new ServerResponse(request);
    response.shouldKeepAlive = false;
    response.assignSocket(socket);
    response.once('finish', () => socket.end(() => socket.destroy()));
    this.#options.http(request, response);
  }
}
