import { type ApiDeps, type AuthenticatedUser, Groups } from '@pneumatic/api';
import { sessionsRepository } from '@pneumatic/db';
import { type RawData, WebSocket } from 'ws';
import type { SocketCaps } from './socket-caps.ts';
import { AUTH_TIMEOUT, SESSION_REVOKED, TOKEN_EXPIRED, TOO_MANY_USER_SOCKETS } from './socket-limits.ts';

export type Transport = 'trpc' | 'legacy';

/** A transport's side of one socket: the protocol spoken over it. */
export interface SocketConnection {
  readonly transport: Transport;
  /** A frame from the peer, in the order they came. */
  receive(data: RawData, isBinary: boolean): void;
  /** The socket has closed (once). */
  closed(): void;
}

/** Session ids asked about in one query. */
const SESSION_CHUNK = 500;
/** The sweep's period is this fraction of its shortest deadline, within the bounds below. */
const TICKS_PER_DEADLINE = 10;
const MIN_TICK_MS = 10;
const MAX_TICK_MS = 1000;

/** Everything kept per socket, in one small object; the shared sweep reads and writes it. */
interface LiveSocket {
  readonly ws: WebSocket;
  readonly connection: SocketConnection;
  /** Epoch ms when the next ping is due. */
  pingDue: number;
  /** Epoch ms by which the peer must have answered the last ping; 0 when no answer is awaited. */
  pongDue: number;
  /** Epoch ms by which the socket must authenticate; 0 once it has (or never must). */
  authDue: number;
  /** Epoch ms when its access token expires; 0 until it authenticates. */
  expiresAt: number;
  userId: string | null;
  sessionId: string | null;
}

export interface LiveSocketSettings {
  /** How often every socket is pinged. */
  pingMs: number;
  /** How long a ping may go unanswered before the socket is terminated. */
  pongTimeoutMs: number;
  /** How long a tRPC socket may take to present its token. */
  authTimeoutMs: number;
  /** How often the logins behind live sockets are checked in the database. */
  sessionCheckMs: number;
  caps: SocketCaps;
  /** Told when a socket opens and closes, for the gauges. */
  onOpen?: (transport: Transport) => void;
  onClose?: (transport: Transport) => void;
  /** A session check that failed (the database away): nothing is closed for it. */
  onError: (error: unknown) => void;
  /** A socket that failed (a bad frame, a reset): it is dropped after this is told. */
  onSocketError: (error: Error, transport: Transport | undefined) => void;
}

/**
 * Every open WebSocket of this instance, /trpc and /ws alike, and the one
 * place that decides when a socket must go:
 *
 * - keep-alive: every socket is pinged each `pingMs` (tRPC's "PING" text on
 *   /trpc, which @trpc/client answers with "PONG"; a ping frame on /ws,
 *   which every WebSocket client answers by itself); one that has sent
 *   nothing within `pongTimeoutMs` of a ping is terminated, so a peer that
 *   vanished (lid shut, network gone) never holds a socket, its
 *   subscriptions or its user's presence;
 * - admission: a socket counts against its user's cap once it says who it
 *   is; a tRPC socket that does not within `authTimeoutMs` is closed;
 * - the login behind it: closed at its token's expiry (4401), when its
 *   session is revoked on the bus (4403), and when a periodic check finds
 *   the session gone from the database (a user deleted there).
 *
 * One timer sweeps all sockets; no socket has a timer or closure of its own.
 * The listeners on every socket are these, shared by all: frames go on to
 * the socket's connection, the transport's object for it.
 */
export class LiveSockets {
  readonly #sockets = new Map<WebSocket, LiveSocket>();
  readonly #bySession = new Groups<string, LiveSocket>();
  readonly #settings: LiveSocketSettings;
  readonly #tickMs: number;
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  #nextSessionCheck: number;
  #checkingSessions = false;
  // Listeners shared by every socket (the socket is `this` inside them): none holds a closure of its own.
  /** Inbound traffic of any kind (a pong, tRPC's "PONG", a call) proves the peer is there. */
  readonly #heard: (this: WebSocket) => void;
  readonly #received: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  readonly #closed: (this: WebSocket) => void;
  readonly #failed: (this: WebSocket, error: Error) => void;

  constructor(
    private readonly deps: Pick<ApiDeps, 'database' | 'bus'>,
    settings: LiveSocketSettings,
  ) {
    this.#settings = settings;
    const sockets = this.#sockets;
    this.#heard = function (this: WebSocket) {
      const socket = sockets.get(this);
      if (socket) socket.pongDue = 0;
    };
    this.#received = function (this: WebSocket, data: RawData, isBinary: boolean) {
      const socket = sockets.get(this);
      if (!socket) return;
      socket.pongDue = 0;
      socket.connection.receive(data, isBinary);
    };
    this.#failed = function (this: WebSocket, error: Error) {
      settings.onSocketError(error, sockets.get(this)?.connection.transport);
      this.terminate();
    };
    const forget = (ws: WebSocket) => this.#forget(ws);
    this.#closed = function (this: WebSocket) {
      forget(this);
    };
    const shortest = Math.min(settings.pingMs, settings.pongTimeoutMs, settings.authTimeoutMs);
    this.#tickMs = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(shortest / TICKS_PER_DEADLINE)));
    this.#nextSessionCheck = Date.now() + settings.sessionCheckMs;
    this.#timer = setInterval(() => this.sweep(Date.now()), this.#tickMs);
    this.#timer.unref();
    this.#unsubscribe = deps.bus.subscribe((event) => {
      if (event.kind === 'session_revoked') this.#closeSession(event.session_id, SESSION_REVOKED);
    });
  }

  /** How often the sweep runs. */
  get tickMs(): number {
    return this.#tickMs;
  }

  /** Open sockets, of one transport or all. */
  count(transport?: Transport): number {
    if (transport === undefined) return this.#sockets.size;
    let n = 0;
    for (const socket of this.#sockets.values()) if (socket.connection.transport === transport) n++;
    return n;
  }

  /**
   * Takes a socket that just opened, spoken to through `connection`: it is
   * pinged from now on and, when `mustAuthenticate`, closed unless `admit`
   * is called within the auth timeout.
   */
  open(ws: WebSocket, connection: SocketConnection, mustAuthenticate: boolean): void {
    const now = Date.now();
    this.#sockets.set(ws, {
      ws,
      connection,
      pingDue: now + this.#settings.pingMs - this.#tickMs,
      pongDue: 0,
      authDue: mustAuthenticate ? now + this.#settings.authTimeoutMs : 0,
      expiresAt: 0,
      userId: null,
      sessionId: null,
    });
    // A socket error is reported and the connection dropped.
    ws.on('error', this.#failed);
    ws.on('pong', this.#heard);
    ws.on('message', this.#received);
    // on, not once: once wraps the listener in a closure per socket; close comes once anyway.
    ws.on('close', this.#closed);
    this.#settings.onOpen?.(connection.transport);
  }

  /**
   * The socket has said who it is. Counts it against the user's cap (false,
   * and the socket closed with 1008, when the user is at it) and ties it to
   * the login: closed when the token expires or the session ends.
   */
  admit(ws: WebSocket, auth: AuthenticatedUser): boolean {
    const socket = this.#sockets.get(ws);
    if (!socket || ws.readyState !== WebSocket.OPEN) return false;
    if (socket.userId !== null) return true;
    if (!this.#settings.caps.admitUser(auth.user.id)) {
      ws.close(TOO_MANY_USER_SOCKETS.code, TOO_MANY_USER_SOCKETS.reason);
      return false;
    }
    socket.authDue = 0;
    socket.expiresAt = auth.expiresAt;
    socket.userId = auth.user.id;
    socket.sessionId = auth.sessionId;
    this.#bySession.add(auth.sessionId, socket);
    return true;
  }

  /** Closes every socket (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const ws of this.#sockets.keys()) ws.close(code, reason);
  }

  /** Stops the sweep; sockets still open stay open. */
  close(): void {
    clearInterval(this.#timer);
    this.#unsubscribe();
  }

  /**
   * One pass over every socket: deadlines first (authentication, token
   * expiry, an unanswered ping), then pings that are due. Public for tests.
   */
  sweep(now: number): void {
    const { pingMs, pongTimeoutMs, sessionCheckMs } = this.#settings;
    for (const socket of this.#sockets.values()) {
      const { ws } = socket;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (socket.authDue !== 0 && now >= socket.authDue) {
        socket.authDue = 0;
        ws.close(AUTH_TIMEOUT.code, AUTH_TIMEOUT.reason);
      } else if (socket.expiresAt !== 0 && now >= socket.expiresAt) {
        socket.expiresAt = 0;
        ws.close(TOKEN_EXPIRED.code, TOKEN_EXPIRED.reason);
      } else if (socket.pongDue !== 0) {
        if (now >= socket.pongDue) ws.terminate();
      } else if (now >= socket.pingDue) {
        // Due a tick early at most, and answered within the timeout less a tick at least, so a
        // silent peer is gone within pingMs + pongTimeoutMs of its last word.
        socket.pingDue = now + pingMs - this.#tickMs;
        socket.pongDue = now + pongTimeoutMs - this.#tickMs;
        if (socket.connection.transport === 'trpc') ws.send('PING');
        else ws.ping();
      }
    }
    if (now >= this.#nextSessionCheck) {
      this.#nextSessionCheck = now + sessionCheckMs;
      void this.checkSessions();
    }
  }

  /**
   * Closes the sockets of logins that no longer stand in the database. Logout
   * and token reuse close them at once through the bus; this catches what
   * the bus never announces. A database that does not answer closes nothing.
   */
  async checkSessions(): Promise<void> {
    if (this.#checkingSessions || this.#bySession.size === 0) return;
    this.#checkingSessions = true;
    try {
      const ids = [...this.#bySession.keys()];
      const now = new Date().toISOString();
      for (let i = 0; i < ids.length; i += SESSION_CHUNK) {
        const chunk = ids.slice(i, i + SESSION_CHUNK);
        const standing = await sessionsRepository.findStandingSessions(this.deps.database.db, chunk, now);
        for (const id of chunk) if (!standing.has(id)) this.#closeSession(id, SESSION_REVOKED);
      }
    } catch (error) {
      this.#settings.onError(error);
    } finally {
      this.#checkingSessions = false;
    }
  }

  #closeSession(sessionId: string, { code, reason }: { code: number; reason: string }): void {
    for (const socket of this.#bySession.get(sessionId)) socket.ws.close(code, reason);
  }

  #forget(ws: WebSocket): void {
    const socket = this.#sockets.get(ws);
    if (!socket) return;
    this.#sockets.delete(ws);
    if (socket.userId !== null) this.#settings.caps.releaseUser(socket.userId);
    if (socket.sessionId !== null) this.#bySession.delete(socket.sessionId, socket);
    this.#settings.onClose?.(socket.connection.transport);
    socket.connection.closed();
  }
}
