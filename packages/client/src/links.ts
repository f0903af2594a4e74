/**
 * The tRPC links: a bearer token on every HTTP call with one retry after a
 * refresh, and the WebSocket that carries subscriptions.
 */
import {
  createWSClient,
  jsonEncoder,
  TRPCClientError,
  type TRPCLink,
  type TRPCWebSocketClient,
  wsLink,
} from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import { isUnauthorized } from './errors.ts';
import { type Session, SessionEndedError } from './session.ts';
import type { PneumaticRouter } from './types.ts';

/** Close codes the server uses for a socket whose credentials ran out. */
export const SOCKET_TOKEN_EXPIRED = 4401;
export const SOCKET_SESSION_REVOKED = 4403;

/** Procedures that take no access token; an UNAUTHORIZED from them is an answer, not a stale token. */
const PUBLIC_PROCEDURES = new Set(['auth.signup', 'auth.login', 'auth.refresh', 'auth.logout']);

/**
 * Sends each query and mutation with a current access token, and on
 * UNAUTHORIZED refreshes (or picks up a refresh already made) and tries once more.
 */
export function accessTokenLink(session: Session): TRPCLink<PneumaticRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        if (PUBLIC_PROCEDURES.has(op.path)) return next(op).subscribe(observer);
        let current: Unsubscribable | undefined;
        let stopped = false;
        const attempt = (token: string | null, isRetry: boolean) => {
          if (stopped) return;
          current = next({ ...op, context: { ...op.context, accessToken: token } }).subscribe({
            next: (result) => observer.next(result),
            complete: () => observer.complete(),
            error: (error) => {
              if (isRetry || !isUnauthorized(error)) {
                observer.error(error);
                return;
              }
              session.accessTokenAfterRejection(token).then(
                (fresh) => attempt(fresh, true),
                () => observer.error(error),
              );
            },
          });
        };
        session.accessToken().then(
          (token) => attempt(token, false),
          (error: unknown) => observer.error(TRPCClientError.from(toError(error))),
        );
        return () => {
          stopped = true;
          current?.unsubscribe();
        };
      });
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The `authorization` header for a batch: the token its calls were given by {@link accessTokenLink}. */
export function bearerHeader(
  opList: readonly { context: Record<string, unknown> }[],
): Record<string, string> {
  const token = opList.map((op) => op.context.accessToken).findLast((t) => typeof t === 'string');
  return typeof token === 'string' ? { authorization: `Bearer ${token}` } : {};
}

/**
 * A WebSocket class: the browser's, or `WebSocket` from the `ws` package on
 * Node 20 (which has no global one).
 */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): object;
  readonly CONNECTING: number;
  readonly OPEN: number;
  readonly CLOSING: number;
  readonly CLOSED: number;
}

/** The socket's state as an app would show it. */
export type ConnectionStatus = 'connecting' | 'online' | 'reconnecting' | 'closed';

/** The socket's state, readable at any time and observable (React's `useSyncExternalStore` fits). */
export interface ConnectionState {
  get(): ConnectionStatus;
  subscribe(listener: () => void): () => void;
}

export interface SocketOptions {
  url: string;
  session: Session;
  WebSocket: WebSocketConstructor;
  reconnectDelayMs: (attempt: number) => number;
  keepAlive: { intervalMs: number; pongTimeoutMs: number } | false;
  /** Reports the raw state changes of the tRPC socket client. */
  onState(state: 'idle' | 'connecting' | 'pending'): void;
}

/**
 * The WebSocket for subscriptions. It opens while a subscription is running,
 * authenticates with a fresh access token each time it (re)connects, and
 * when the server closes it for an expired (4401) or revoked (4403) login,
 * makes the next connection refresh first.
 */
export function createSocket(options: SocketOptions): TRPCWebSocketClient {
  const { session } = options;
  let socketToken: string | null = null;
  /** The socket's token was refused: make the next connection refresh first. */
  const socketTokenRefused = () => {
    session.accessTokenAfterRejection(socketToken).catch(() => {
      // The login is over (the client closes the socket) or offline (the next connect tries again).
    });
  };

  const client = createWSClient({
    url: options.url,
    WebSocket: options.WebSocket as unknown as typeof WebSocket,
    connectionParams: async () => {
      socketToken = await session.accessToken();
      if (!socketToken) throw new SessionEndedError('Signed out');
      return { token: socketToken };
    },
    // Open while subscriptions run; a short grace keeps it across a resubscribe.
    lazy: { enabled: true, closeMs: 1_000 },
    retryDelayMs: options.reconnectDelayMs,
    keepAlive: options.keepAlive ? { enabled: true, ...options.keepAlive } : { enabled: false },
    experimental_encoder: {
      encode: jsonEncoder.encode,
      decode(data) {
        const message = jsonEncoder.decode(data);
        // The server answers a refused connection with an error without an id, then closes.
        if (isRefusedConnection(message)) socketTokenRefused();
        return message;
      },
    },
    onClose(cause) {
      if (cause?.code === SOCKET_TOKEN_EXPIRED || cause?.code === SOCKET_SESSION_REVOKED)
        socketTokenRefused();
    },
  });
  client.connectionState.subscribe({ next: (state) => options.onState(state.state) });
  return client;
}

function isRefusedConnection(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const { id, error } = message as { id?: unknown; error?: { data?: { code?: unknown } } };
  return id === null && error?.data?.code === 'UNAUTHORIZED';
}

/**
 * Sends subscriptions over the socket `getSocket` returns, created on first
 * use: a client that never subscribes never needs a WebSocket class.
 */
export function lazySocketLink(getSocket: () => TRPCWebSocketClient): TRPCLink<PneumaticRouter> {
  return (runtime) =>
    ({ op, next }) =>
      observable((observer) => {
        let socket: TRPCWebSocketClient;
        try {
          socket = getSocket();
        } catch (error) {
          observer.error(TRPCClientError.from(toError(error)));
          return () => {};
        }
        return wsLink<PneumaticRouter>({ client: socket })(runtime)({ op, next }).subscribe(observer);
      });
}

/** Turns the socket's raw states into {@link ConnectionStatus}es that listeners can read. */
export class ConnectionTracker implements ConnectionState {
  #status: ConnectionStatus = 'closed';
  #everOpen = false;
  readonly #listeners = new Set<() => void>();

  readonly get = (): ConnectionStatus => this.#status;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  update(state: 'idle' | 'connecting' | 'pending'): void {
    if (state === 'pending') this.#everOpen = true;
    if (state === 'idle') this.#everOpen = false;
    const next: ConnectionStatus =
      state === 'pending'
        ? 'online'
        : state === 'idle'
          ? 'closed'
          : this.#everOpen
            ? 'reconnecting'
            : 'connecting';
    if (next === this.#status) return;
    this.#status = next;
    for (const listener of this.#listeners) listener();
  }
}
