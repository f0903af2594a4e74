/**
 * The tRPC links: a bearer token on every HTTP call with one retry after a
 * refresh, and the WebSocket that carries subscriptions.
 */
import { type TRPCLink, type TRPCWebSocketClient } from '@trpc/client';
import { type Session } from './session.ts';
import type { PneumaticRouter } from './types.ts';
/** Close codes the server uses for a socket whose credentials ran out. */
export declare const SOCKET_TOKEN_EXPIRED = 4401;
export declare const SOCKET_SESSION_REVOKED = 4403;
/**
 * Sends each query and mutation with a current access token, and on
 * UNAUTHORIZED refreshes (or picks up a refresh already made) and tries once more.
 */
export declare function accessTokenLink(session: Session): TRPCLink<PneumaticRouter>;
/** The `authorization` header for a batch: the token its calls were given by {@link accessTokenLink}. */
export declare function bearerHeader(
  opList: readonly {
    context: Record<string, unknown>;
  }[],
): Record<string, string>;
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
  keepAlive:
    | {
        intervalMs: number;
        pongTimeoutMs: number;
      }
    | false;
  /** Reports the raw state changes of the tRPC socket client. */
  onState(state: 'idle' | 'connecting' | 'pending'): void;
}
/**
 * The WebSocket for subscriptions. It opens while a subscription is running,
 * authenticates with a fresh access token each time it (re)connects, and
 * when the server closes it for an expired (4401) or revoked (4403) login,
 * makes the next connection refresh first.
 */
export declare function createSocket(options: SocketOptions): TRPCWebSocketClient;
/**
 * Sends subscriptions over the socket `getSocket` returns, created on first
 * use: a client that never subscribes never needs a WebSocket class.
 */
export declare function lazySocketLink(getSocket: () => TRPCWebSocketClient): TRPCLink<PneumaticRouter>;
/** Turns the socket's raw states into {@link ConnectionStatus}es that listeners can read. */
export declare class ConnectionTracker implements ConnectionState {
  #private;
  readonly get: () => ConnectionStatus;
  readonly subscribe: (listener: () => void) => () => void;
  update(state: 'idle' | 'connecting' | 'pending'): void;
}
