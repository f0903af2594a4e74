import { type EventsOptions, type StreamEventWithId } from './events.ts';
import { type ConnectionState, type WebSocketConstructor } from './links.ts';
import { type Lock, Session, type SessionEndedError, type TokenPair, type TokenStorage } from './session.ts';
import type { LoginInput, Message, PneumaticApi, SignupInput, TokenPairResponse, User } from './types.ts';
export interface PneumaticClientOptions {
  /**
   * The server's address, e.g. `https://chat.example.com` (a path prefix is
   * kept). tRPC is served at `<url>/trpc`, over HTTP and WebSocket. Required.
   */
  url: string;
  /**
   * A token pair from an earlier login: the client starts signed in with it,
   * and keeps rotating it. Default: none, so call {@link PneumaticClient.login}.
   */
  tokens?: TokenPair | null;
  /**
   * Where the token pair is kept, so a restarted process or a reloaded page
   * keeps its login. `localTokenStorage()` suits browsers. Default: memory.
   */
  storage?: TokenStorage;
  /**
   * Serializes refreshes among clients that share `storage` (browser tabs).
   * Default: the Web Locks API where present, else nothing (one process
   * shares its single refresh in flight anyway).
   */
  lock?: Lock;
  /**
   * Called once when the login is over without {@link PneumaticClient.logout}:
   * the server refused the refresh token (expired, or the login was revoked),
   * or another tab signed out. Log in again to go on. Default: none.
   */
  onSessionEnded?: (error: SessionEndedError) => void;
  /**
   * Refresh the access token this long before it expires (at most half its
   * lifetime), in the background. Default 60 000 ms.
   */
  refreshLeadMs?: number;
  /**
   * The WebSocket class for subscriptions. Default: the global `WebSocket`.
   * Node 20 has none: pass `WebSocket` from the `ws` package.
   */
  WebSocket?: WebSocketConstructor;
  /** The `fetch` for HTTP calls. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * Wait before reconnect (or resubscribe, or send retry) number `attempt`,
   * counted from 0. Default: {@link reconnectDelay}, about 0.5 s doubling up
   * to 10 s, with jitter.
   */
  reconnectDelayMs?: (attempt: number) => number;
  /**
   * Ping the server this often and drop the socket when no pong comes back
   * in time, to notice a dead connection (a sleeping laptop, lost Wi-Fi).
   * `false` turns it off. Default `{ intervalMs: 20_000, pongTimeoutMs: 5_000 }`.
   */
  keepAlive?:
    | {
        intervalMs: number;
        pongTimeoutMs: number;
      }
    | false;
  /** How often {@link PneumaticClient.sendMessage} tries again after a network failure. Default 5. */
  sendRetries?: number;
}
export interface SendMessageOptions {
  /**
   * The message's `message_id`. Default: a fresh UUID. Pass the id of an
   * earlier attempt to retry it: the server stores it once.
   */
  messageId?: string;
  /** Tries after a network failure or a 502/503/504, with the same id. Default: the client's `sendRetries`. */
  retries?: number;
  /** Gives up (the promise rejects with the last error, or an AbortError before the first try). */
  signal?: AbortSignal;
}
export interface HistoryOptions {
  /** Messages fetched per request, 1 to 200. Default 50. */
  pageSize?: number;
  /** Start below this `seq` (exclusive). Default: from the newest message. */
  before?: number | null;
  signal?: AbortSignal;
}
/**
 * A Pneumatic client: the typed API ({@link PneumaticClient.api}), the
 * login it runs under, and helpers for sending, history and live events.
 * Create it with {@link createPneumaticClient}.
 */
export declare class PneumaticClient {
  #private;
  /** Every procedure, typed: `api.conversations.list.query()`, `api.messages.send.mutate({…})`, … */
  readonly api: PneumaticApi;
  /** The token pair and its refresh; `session.subscribe` tells when the signed-in user changes. */
  readonly session: Session;
  /** The state of the WebSocket that carries subscriptions. */
  readonly connection: ConnectionState;
  constructor(options: PneumaticClientOptions);
  /** The signed-in user's id, or null. */
  get userId(): string | null;
  /** Logs in with `auth.login` and keeps the token pair. */
  login(credentials: LoginInput): Promise<TokenPairResponse>;
  /** Creates an account with `auth.signup`. It does not log in: call {@link login} after. */
  signup(input: SignupInput): Promise<User>;
  /**
   * Forgets the tokens at once and revokes the login on the server
   * (`auth.logout`); the promise rejects if the server could not be told.
   */
  logout(): Promise<void>;
  /**
   * Sends a message. It gets a `message_id` (a fresh UUID unless given), and
   * a send that fails on the way (network, 502/503/504) is tried again with
   * that same id, so the server stores it once however many attempts reach it.
   */
  sendMessage(conversationId: string, content: string, options?: SendMessageOptions): Promise<Message>;
  /**
   * A conversation's messages from the newest back to the first, fetched a
   * page at a time (`messages.list` with `cursor` = the previous `next_cursor`).
   */
  history(conversationId: string, options?: HistoryOptions): AsyncGenerator<Message, void, undefined>;
  /**
   * Everything that happens in the user's conversations, live: `message`,
   * `conversation` (created, or the user was added) and `resync` (too much
   * was missed: refetch). Reconnects resume after the last event, so none is
   * missed or repeated. Ends on `signal` or {@link close}; throws
   * `SessionEndedError` when the login is over.
   */
  events(options?: EventsOptions): AsyncGenerator<StreamEventWithId, void, undefined>;
  /**
   * Closes the socket, stops the background refresh and ends every `events()`
   * iterator. The tokens stay in `storage`; the client is not used after.
   */
  close(): Promise<void>;
}
/**
 * Creates a client for the Pneumatic server at `options.url`.
 *
 * @example
 * const client = createPneumaticClient({ url: 'https://chat.example.com', WebSocket });
 * await client.login({ username: 'alice', password: '…' });
 * await client.sendMessage(conversationId, 'Hello!');
 */
export declare function createPneumaticClient(options: PneumaticClientOptions): PneumaticClient;
