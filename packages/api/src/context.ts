import type { Context as OtelContext } from '@opentelemetry/api';
import type { ApiDeps } from './deps.ts';
import type { AuthenticatedUser } from './services/auth.service.ts';

export interface Context {
  deps: ApiDeps;
  /** The bearer token presented: Authorization header on HTTP, connectionParams on sockets. */
  token: string | null;
  /**
   * Authentication already resolved by the host: once per socket when it
   * opens, or once per REST request. Absent, procedures resolve `token`.
   */
  auth?: AuthenticatedUser;
  /** Set by the host for WebSocket connections: the socket this context serves. */
  socket?: SocketHandle;
  /** The client's address (after TRUST_PROXY), for per-address limits. */
  ip: string;
  /** The trace context of the HTTP request, when tracing is on. */
  traceParent?: OtelContext;
}

/** What the API needs of a socket: a way to shed a peer that stopped reading. */
export interface SocketHandle {
  /** True (and the socket is being cut off) when the peer has stopped reading. */
  shedIfStalled(): boolean;
}

export function createContextFactory(deps: ApiDeps) {
  return (
    token: string | null,
    resolved: { ip: string; auth?: AuthenticatedUser; socket?: SocketHandle; traceParent?: OtelContext },
  ): Context => ({
    deps,
    token,
    ip: resolved.ip,
    auth: resolved.auth,
    socket: resolved.socket,
    traceParent: resolved.traceParent,
  });
}
