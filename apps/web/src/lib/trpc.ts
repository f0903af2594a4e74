/**
 * Everything that talks to the server: the tRPC clients and their links.
 * Kept in one module so it can move into a shared SDK package.
 */
import type { AppRouter } from '@pneumatic/api';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpLink,
  jsonEncoder,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
  wsLink,
} from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import { reconnectDelay } from './backoff.ts';
import { isUnauthorized } from './errors.ts';
import { type Session, SessionEndedError } from './session.ts';

export type ApiClient = TRPCClient<AppRouter>;

export interface Endpoints {
  /** tRPC over HTTP, e.g. `/trpc` or `https://chat.example.com/trpc`. */
  httpUrl: string;
  /** tRPC over WebSocket, e.g. `wss://chat.example.com/trpc`. */
  wsUrl: string;
}

/** The endpoints of the server that served the page. */
export function endpointsFor(location: Pick<Location, 'protocol' | 'host'>): Endpoints {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return { httpUrl: '/trpc', wsUrl: `${scheme}://${location.host}/trpc` };
}

/** Close codes the server uses for a socket whose credentials ran out. */
const SOCKET_TOKEN_EXPIRED = 4401;
const SOCKET_SESSION_REVOKED = 4403;

/** Procedures that take no access token; an UNAUTHORIZED from them is an answer, not a stale token. */
const PUBLIC_PROCEDURES = new Set(['auth.signup', 'auth.login', 'auth.refresh', 'auth.logout']);

/** A client for the calls that need no login: sign up, log in, refresh, log out. */
export function createPublicClient(endpoints: Pick<Endpoints, 'httpUrl'>): ApiClient {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: endpoints.httpUrl })] });
}

/**
 * Sends each query and mutation with a current access token, and on
 * UNAUTHORIZED refreshes (or picks up a refresh already made) and tries once more.
 */
export function accessTokenLink(session: Session): TRPCLink<AppRouter> {
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

/** The socket's state as the app shows it. */
export type ConnectionStatus = 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface ConnectionState {
  get(): ConnectionStatus;
  subscribe(listener: () => void): () => void;
}

export interface SessionClient {
  client: ApiClient;
  connection: ConnectionState;
  /** Closes the socket; the client is unusable after. */
  close(): Promise<void>;
}

/**
 * The signed-in client: subscriptions over one WebSocket that authenticates
 * with a fresh access token each time it (re)connects, everything else over
 * batched HTTP with a bearer token.
 */
export function createSessionClient(session: Session, endpoints: Endpoints): SessionClient {
  let socketToken: string | null = null;
  /** The socket's token was refused: make the next connection refresh first. */
  const socketTokenRefused = () => {
    session.accessTokenAfterRejection(socketToken).catch(() => {
      // Signed out (the app tears the client down) or offline (the next connect tries again).
    });
  };

  const wsClient = createWSClient({
    url: endpoints.wsUrl,
    connectionParams: async () => {
      socketToken = await session.accessToken();
      if (!socketToken) throw new SessionEndedError('Signed out');
      return { token: socketToken };
    },
    lazy: { enabled: false, closeMs: 0 },
    retryDelayMs: (attempt) => reconnectDelay(attempt),
    // Notice a dead connection (sleeping laptop, lost Wi-Fi) within about 25 s.
    keepAlive: { enabled: true, intervalMs: 20_000, pongTimeoutMs: 5_000 },
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

  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: [
          accessTokenLink(session),
          httpBatchLink({
            url: endpoints.httpUrl,
            headers({ opList }) {
              const token = opList.map((op) => op.context.accessToken).findLast((t) => typeof t === 'string');
              return typeof token === 'string' ? { authorization: `Bearer ${token}` } : {};
            },
          }),
        ],
      }),
    ],
  });

  return { client, connection: connectionState(wsClient), close: () => wsClient.close() };
}

function isRefusedConnection(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const { id, error } = message as { id?: unknown; error?: { data?: { code?: unknown } } };
  return id === null && error?.data?.code === 'UNAUTHORIZED';
}

function connectionState(wsClient: ReturnType<typeof createWSClient>): ConnectionState {
  let status: ConnectionStatus = 'connecting';
  let everOpen = false;
  const listeners = new Set<() => void>();
  wsClient.connectionState.subscribe({
    next(state) {
      if (state.state === 'pending') everOpen = true;
      const next: ConnectionStatus =
        state.state === 'pending'
          ? 'online'
          : state.state === 'idle'
            ? 'closed'
            : everOpen
              ? 'reconnecting'
              : 'connecting';
      if (next === status) return;
      status = next;
      for (const listener of listeners) listener();
    },
  });
  return {
    get: () => status,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
