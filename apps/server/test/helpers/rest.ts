import { randomUUID } from 'node:crypto';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client for the REST layer, as curl users see it. */
export class Rest {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined || options.raw !== undefined)
      headers['content-type'] ??= 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {}
    return { status: response.status, body: body as T, headers: response.headers };
  }

  get<T = any>(path: string, token?: string) {
    return this.request<T>('GET', path, { token });
  }

  post<T = any>(path: string, body: unknown, token?: string) {
    return this.request<T>('POST', path, { body, token });
  }

  /** Signs up and logs in a new user with a unique name. */
  async user(prefix = 'user', fullName?: string) {
    const username = `${prefix}_${randomUUID().slice(0, 8)}`;
    const password = 'correct horse battery';
    const signup = await this.post('/auth/signup', { username, password, full_name: fullName });
    if (signup.status !== 201)
      throw new Error(`signup failed: ${signup.status} ${JSON.stringify(signup.body)}`);
    const login = await this.post('/auth/login', { username, password });
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    return {
      id: signup.body.id as string,
      username,
      password,
      token: login.body.access_token as string,
      refreshToken: login.body.refresh_token as string,
    };
  }

  /** Creates a conversation as `token` with `memberIds`; returns its id. */
  async conversation(token: string, memberIds: string[], title = 'chat'): Promise<string> {
    const reply = await this.post('/conversations', { title, member_ids: memberIds }, token);
    if (reply.status !== 201) throw new Error(`create conversation failed: ${reply.status}`);
    return reply.body.id;
  }

  async send(
    token: string,
    sender: string,
    conversationId: string,
    content: string,
    messageId: string = randomUUID(),
  ) {
    return this.post(
      '/messages',
      { message_id: messageId, sender_id: sender, conversation_id: conversationId, content },
      token,
    );
  }
}

export type TestUser = Awaited<ReturnType<Rest['user']>>;
