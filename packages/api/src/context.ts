import type { Context as OtelContext } from '@opentelemetry/api';
import type { ApiDeps } from './deps.ts';
import { fail } from './errors.ts';
import type { AuthenticatedUser } from './services/auth.service.ts';

export interface Context {
  deps: ApiDeps;
  /**
   * Who is calling: resolved by the host at most once per HTTP request (the
   * token its rate limit already verified) or once per socket (when it
   * opened). Rejects with UNAUTHORIZED saying why.
   */
  identify(): Promise<AuthenticatedUser>;
  /**
   * Over HTTP: the account the request's access token names, its signature
   * and expiry checked but not yet its login (no query). Only for a read
   * that answers members alone and starts alongside identify(), whose
   * outcome decides before anything is answered (memberReadProcedure).
   * Rejects as identify() does for a missing or invalid token.
   */
  claimedUserId?(): Promise<string>;
  /** Set by the host for WebSocket connections: the socket this context serves. */
  socket?: SocketHandle;
  /** The client's address (after TRUST_PROXY), for per-address limits. */
  ip: string;
  /** The client's User-Agent, over HTTP: kept with a login for its sessions list. */
  userAgent?: string;
  /** The trace context of the HTTP request, when tracing is on. */
  traceParent?: OtelContext;
}

/** What the API needs of an authenticated socket. */
export interface SocketHandle {
  /** Whose socket it is. */
  readonly userId: string;
  /** True (and the socket is being cut off) when the peer has stopped reading. */
  shedIfStalled(): boolean;
}

export function createContextFactory(deps: ApiDeps) {
  return (
    identify: () => Promise<AuthenticatedUser>,
    host: {
      ip: string;
      userAgent?: string;
      socket?: SocketHandle;
      traceParent?: OtelContext;
      claimedUserId?: () => Promise<string>;
    },
  ): Context => ({
    deps,
    identify,
    claimedUserId: host.claimedUserId,
    ip: host.ip,
    userAgent: host.userAgent,
    socket: host.socket,
    traceParent: host.traceParent,
  });
}

/** A socket's identity, resolved when it opened: good until its access token expires. */
export function socketIdentity(auth: AuthenticatedUser): () => Promise<AuthenticatedUser> {
  const resolved = Promise.resolve(auth);
  // The socket is closed at expiry; this covers the moments in between.
  return () => (auth.expiresAt > Date.now() ? resolved : Promise.reject(fail.unauthorized('expired')));
}

/** An identity resolved on first use and remembered: one check per HTTP request, however many calls it batches. */
export function requestIdentity(resolve: () => Promise<AuthenticatedUser>): () => Promise<AuthenticatedUser> {
  let resolved: Promise<AuthenticatedUser> | undefined;
  return () => {
    resolved ??= resolve();
    return resolved;
  };
}

/** No identity: every authenticated procedure answers UNAUTHORIZED (the CLI's anonymous calls). */
export const anonymous = (): Promise<AuthenticatedUser> => Promise.reject(fail.unauthorized('missing'));
