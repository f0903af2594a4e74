import { Agent, request } from 'node:http';
import { LOOPBACK } from './util.ts';

export interface HttpReply<T> {
  status: number;
  body: T;
  /** Time from sending the request to the last byte of the answer, in ms. */
  ms: number;
  /** The server's own time, from its `Server-Timing: app;dur=<ms>` header; undefined without one. */
  serverMs: number | undefined;
}

/** `app;dur=1.234` (one metric among others, or alone) → 1.234. */
function appDuration(header: string | string[] | undefined): number | undefined {
  const match = /(?:^|,)\s*app;(?:[^,]*;)?\s*dur=([\d.]+)/.exec(String(header ?? ''));
  return match ? Number(match[1]) : undefined;
}

/** A JSON client for the REST layer over keep-alive connections, loopback only. */
export class HttpClient {
  readonly #agent: Agent;
  readonly #host: string;
  readonly #port: number;

  constructor(baseUrl: string, maxSockets = 16) {
    const url = new URL(baseUrl);
    if (url.hostname !== LOOPBACK) throw new Error(`refusing a non-loopback address: ${baseUrl}`);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#agent = new Agent({ keepAlive: true, maxSockets });
  }

  request<T>(method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<HttpReply<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (token) headers.authorization = `Bearer ${token}`;
    const start = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.#host, port: this.#port, method, path, headers, agent: this.#agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const ms = performance.now() - start;
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {}
            resolve({
              status: res.statusCode ?? 0,
              body: parsed as T,
              ms,
              serverMs: appDuration(res.headers['server-timing']),
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(payload);
    });
  }

  get<T>(path: string, token?: string): Promise<HttpReply<T>> {
    return this.request<T>('GET', path, undefined, token);
  }

  post<T>(path: string, body: unknown, token?: string): Promise<HttpReply<T>> {
    return this.request<T>('POST', path, body, token);
  }

  close(): void {
    this.#agent.destroy();
  }
}
