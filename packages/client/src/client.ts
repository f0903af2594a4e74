import {
  createTRPCClient,
  httpBatchLink,
  splitLink,
  type TRPCLink,
  type TRPCWebSocketClient,
} from '@trpc/client';
import { reconnectDelay } from './backoff.ts';
import { httpStatus, isNetworkFailure, isUnauthorized } from './errors.ts';
import { delay, type EventsOptions, type StreamEventWithId, streamEvents } from './events.ts';
import {
  accessTokenLink,
  bearerHeader,
  type ConnectionState,
  ConnectionTracker,
  createSocket,
  lazySocketLink,
  type WebSocketConstructor,
} from './links.ts';
import { newMessageId } from './message-id.ts';
import {
  type Lock,
  memoryTokenStorage,
  Session,
  type SessionEndedError,
  type TokenPair,
  type TokenStorage,
} from './session.ts';
import type {
  Attachment,
  LoginInput,
  Message,
  PneumaticApi,
  PneumaticRouter,
  SignupInput,
  TokenPairResponse,
  UploadedFile,
  User,
} from './types.ts';

/** Most calls in one HTTP batch; the server refuses larger batches. */
const MAX_BATCH_SIZE = 100;

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
  keepAlive?: { intervalMs: number; pongTimeoutMs: number } | false;
  /** How often {@link PneumaticClient.sendMessage} tries again after a network failure. Default 5. */
  sendRetries?: number;
}

export interface SendMessageOptions {
  /**
   * The message's `message_id`. Default: a fresh UUID. Pass the id of an
   * earlier attempt to retry it: the server stores it once.
   */
  messageId?: string;
  /** The id of the message this one answers (of the same conversation). Default: none. */
  replyTo?: string | null;
  /** Tries after a network failure or a 502/503/504, with the same id. Default: the client's `sendRetries`. */
  retries?: number;
  /** Gives up (the promise rejects with the last error, or an AbortError before the first try). */
  signal?: AbortSignal;
  /** Files from {@link PneumaticClient.uploadFile} to attach (uploaded to the same conversation). */
  attachmentIds?: string[];
}

export interface FileRequestOptions {
  signal?: AbortSignal;
}

/** What {@link PneumaticClient.uploadFile} sends: the whole file, or a stream of it (sent chunked). */
export type FileBody = Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>;

/** An upload or download the server refused: `status` is the HTTP status, the message its `detail`. */
export class FileRequestError extends Error {
  override name = 'FileRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
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
export class PneumaticClient {
  /** Every procedure, typed: `api.conversations.list.query()`, `api.messages.send.mutate({…})`, … */
  readonly api: PneumaticApi;
  /**
   * The links {@link api} runs on: HTTP with this login's token, and the one
   * socket for subscriptions. Give them to another tRPC client (tRPC's React
   * Query hooks, say: `trpc.createClient({ links: client.links })`) and it
   * shares the login, its refresh, the socket and the event stream's resume.
   */
  readonly links: TRPCLink<PneumaticRouter>[];
  /** The token pair and its refresh; `session.subscribe` tells when the signed-in user changes. */
  readonly session: Session;
  /** The state of the WebSocket that carries subscriptions. */
  readonly connection: ConnectionState;

  readonly #options: PneumaticClientOptions;
  readonly #closed = new AbortController();
  readonly #tracker = new ConnectionTracker();
  readonly #stopWatchingUser: () => void;
  readonly #retryDelay: (attempt: number) => number;
  /** The server's address without a trailing slash: files are at `<url>/files`. */
  readonly #baseUrl: string;
  #socket: TRPCWebSocketClient | null = null;

  constructor(options: PneumaticClientOptions) {
    this.#options = options;
    this.#retryDelay = options.reconnectDelayMs ?? reconnectDelay;
    this.#baseUrl = options.url.replace(/\/+$/, '');
    const base = new URL(options.url);
    base.pathname = `${base.pathname.replace(/\/+$/, '')}/trpc`;
    const httpUrl = base.toString();
    const wsUrl = httpUrl.replace(/^http/, 'ws');

    const storage = options.storage ?? memoryTokenStorage();
    if (options.tokens) {
      storage.write({
        access_token: options.tokens.access_token,
        refresh_token: options.tokens.refresh_token,
      });
    }
    this.session = new Session({
      storage,
      refresh: (refreshToken) => this.api.auth.refresh.mutate({ refresh_token: refreshToken }),
      isRejected: isUnauthorized,
      onEnded: options.onSessionEnded,
      refreshLeadMs: options.refreshLeadMs,
      lock: options.lock,
    });
    this.connection = this.#tracker;

    this.links = [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: lazySocketLink(() => this.#openSocket(wsUrl)),
        false: [
          accessTokenLink(this.session),
          httpBatchLink({
            url: httpUrl,
            fetch: options.fetch,
            maxItems: MAX_BATCH_SIZE,
            headers: ({ opList }) => bearerHeader(opList),
          }),
        ],
      }),
    ];
    this.api = createTRPCClient<PneumaticRouter>({ links: this.links });

    // The socket authenticated as the previous user: drop it, the next subscription opens a new one.
    this.#stopWatchingUser = this.session.subscribe(() => {
      void this.#socket?.close();
    });
  }

  /** The signed-in user's id, or null. */
  get userId(): string | null {
    return this.session.getUserId();
  }

  /** Logs in with `auth.login` and keeps the token pair. */
  async login(credentials: LoginInput): Promise<TokenPairResponse> {
    const pair = await this.api.auth.login.mutate(credentials);
    this.session.signIn(pair);
    return pair;
  }

  /** Creates an account with `auth.signup`. It does not log in: call {@link login} after. */
  signup(input: SignupInput): Promise<User> {
    return this.api.auth.signup.mutate(input);
  }

  /**
   * Forgets the tokens at once and revokes the login on the server
   * (`auth.logout`); the promise rejects if the server could not be told.
   */
  async logout(): Promise<void> {
    const refreshToken = this.session.tokens?.refresh_token;
    this.session.signOut();
    if (refreshToken) await this.api.auth.logout.mutate({ refresh_token: refreshToken });
  }

  /**
   * Changes the password (`account.changePassword`): every other login of the
   * user is signed out at once, this client stays signed in.
   */
  changePassword(currentPassword: string, newPassword: string): Promise<void> {
    return this.api.account.changePassword.mutate({
      current_password: currentPassword,
      new_password: newPassword,
    });
  }

  /** Deletes the account (`account.delete`, the password required) and forgets the tokens. */
  async deleteAccount(password: string): Promise<void> {
    await this.api.account.delete.mutate({ password });
    this.session.signOut();
  }

  /**
   * Sends a message. It gets a `message_id` (a fresh UUID unless given), and
   * a send that fails on the way (network, 502/503/504) is tried again with
   * that same id, so the server stores it once however many attempts reach it.
   */
  async sendMessage(
    conversationId: string,
    content: string,
    options: SendMessageOptions = {},
  ): Promise<Message> {
    const input = {
      conversation_id: conversationId,
      content,
      message_id: options.messageId ?? newMessageId(),
      ...(options.attachmentIds ? { attachment_ids: options.attachmentIds } : {}),
      // Only when answering: a plain send stays as it was on the wire.
      ...(options.replyTo ? { reply_to: options.replyTo } : {}),
    };
    const retries = options.retries ?? this.#options.sendRetries ?? 5;
    const signals = [this.#closed.signal, ...(options.signal ? [options.signal] : [])];
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.api.messages.send.mutate(input, { signal: options.signal });
      } catch (error) {
        const stopped = signals.some((signal) => signal.aborted);
        if (attempt >= retries || stopped || !isRetryableSend(error)) throw error;
        await delay(this.#retryDelay(attempt), signals);
      }
    }
  }

  /**
   * Uploads a file to a conversation (`POST /files`, streamed); attach it by
   * passing its id to {@link sendMessage} (`attachmentIds`). The server
   * decides its type from its bytes; `name` is only its name. Rejects with a
   * {@link FileRequestError}: 413 too large, 429 over the daily quota, 403
   * not a member.
   */
  async uploadFile(
    conversationId: string,
    body: FileBody,
    name: string,
    options: FileRequestOptions = {},
  ): Promise<UploadedFile> {
    const query = new URLSearchParams({ conversation_id: conversationId, name });
    // A stream cannot be sent twice, so it is not retried after a refused token.
    const replayable = !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream);
    const response = await this.#fileRequest(
      `${this.#baseUrl}/files?${query}`,
      {
        method: 'POST',
        body: body as BodyInit,
        headers: { 'content-type': 'application/octet-stream' },
        duplex: 'half',
      },
      replayable,
      options.signal,
    );
    return (await response.json()) as UploadedFile;
  }

  /**
   * Downloads a file a message carries (its `url`, or its id) with this
   * login's token; the body streams from the response.
   */
  downloadFile(file: Attachment | string, options: FileRequestOptions = {}): Promise<Response> {
    const path = typeof file === 'string' ? `/files/${encodeURIComponent(file)}` : file.url;
    return this.#fileRequest(`${this.#baseUrl}${path}`, { method: 'GET' }, true, options.signal);
  }

  /** A request to the files endpoints with the bearer token, tried once more with a new token if refused. */
  async #fileRequest(
    url: string,
    init: RequestInit & { duplex?: 'half' },
    replayable: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const doFetch = this.#options.fetch ?? fetch;
    let token = await this.session.accessToken();
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(init.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      const response = await doFetch(url, { ...init, headers, signal } as RequestInit);
      if (response.ok) return response;
      if (response.status === 401 && attempt === 0 && replayable && token) {
        token = await this.session.accessTokenAfterRejection(token);
        continue;
      }
      const detail = await response
        .json()
        .then((b: { detail?: unknown }) => (typeof b.detail === 'string' ? b.detail : response.statusText))
        .catch(() => response.statusText);
      throw new FileRequestError(response.status, detail);
    }
  }

  /**
   * A conversation's messages from the newest back to the first, fetched a
   * page at a time (`messages.list` with `cursor` = the previous `next_cursor`).
   */
  async *history(
    conversationId: string,
    options: HistoryOptions = {},
  ): AsyncGenerator<Message, void, undefined> {
    let cursor = options.before ?? null;
    do {
      const page = await this.api.messages.list.query(
        { conversation_id: conversationId, limit: options.pageSize ?? 50, cursor },
        { signal: options.signal },
      );
      for (let i = page.messages.length - 1; i >= 0; i--) yield page.messages[i]!;
      cursor = page.next_cursor;
    } while (cursor !== null);
  }

  /**
   * Everything that happens in the user's conversations, live: `message`,
   * `conversation` (created, or the user was added) and `resync` (too much
   * was missed: refetch). Reconnects resume after the last event, so none is
   * missed or repeated. Ends on `signal` or {@link close}; throws
   * `SessionEndedError` when the login is over.
   */
  events(options: EventsOptions = {}): AsyncGenerator<StreamEventWithId, void, undefined> {
    return streamEvents(
      {
        api: this.api,
        userId: () => this.session.getUserId(),
        closed: this.#closed.signal,
        retryDelayMs: this.#retryDelay,
      },
      options,
    );
  }

  /**
   * Closes the socket, stops the background refresh and ends every `events()`
   * iterator. The tokens stay in `storage`; the client is not used after.
   */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    this.#stopWatchingUser();
    this.session.dispose();
    await this.#socket?.close();
  }

  #openSocket(wsUrl: string): TRPCWebSocketClient {
    if (this.#closed.signal.aborted) throw new Error('This Pneumatic client is closed');
    if (this.#socket) return this.#socket;
    const WebSocketClass =
      this.#options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketClass) {
      throw new Error(
        'No WebSocket class: pass `WebSocket` (e.g. from the `ws` package; Node 20 has no global one)',
      );
    }
    this.#socket = createSocket({
      url: wsUrl,
      session: this.session,
      WebSocket: WebSocketClass,
      reconnectDelayMs: this.#retryDelay,
      keepAlive: this.#options.keepAlive ?? { intervalMs: 20_000, pongTimeoutMs: 5_000 },
      onState: (state) => this.#tracker.update(state),
    });
    return this.#socket;
  }
}

/** A send that may have failed on the way, so trying again with the same id is safe and may succeed. */
function isRetryableSend(error: unknown): boolean {
  const status = httpStatus(error);
  return isNetworkFailure(error) || status === 502 || status === 503 || status === 504;
}

/**
 * Creates a client for the Pneumatic server at `options.url`.
 *
 * @example
 * const client = createPneumaticClient({ url: 'https://chat.example.com', WebSocket });
 * await client.login({ username: 'alice', password: '…' });
 * await client.sendMessage(conversationId, 'Hello!');
 */
export function createPneumaticClient(options: PneumaticClientOptions): PneumaticClient {
  return new PneumaticClient(options);
}
