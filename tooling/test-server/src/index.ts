import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The server as `node scripts/pnpm.mjs --filter @pneumatic/server build` leaves it. */
export const SERVER_MAIN = resolve(import.meta.dirname, '../../../apps/server/dist/main.js');

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The last lines the server printed (its JSON log, stdout and stderr): what a failed test shows. */
  output(): string;
  /** Stops the server (SIGTERM) and deletes its data. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** Extra environment, e.g. `{ ACCESS_TOKEN_TTL_SECONDS: '3' }` or `{ WEB_DIST }`. */
  env?: Record<string, string>;
}

/** Fails with what to do when the server has not been built. */
export function assertServerBuilt(): void {
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(
      `The server is not built (${SERVER_MAIN} missing): run node scripts/pnpm.mjs --filter @pneumatic/server build`,
    );
  }
}

/**
 * Starts the built server on a free port over a fresh SQLite database, with
 * rate limits high enough for a test, and resolves once /health answers.
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  assertServerBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'pneumatic-test-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    SECRET_KEY: randomBytes(20).toString('hex'),
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: '100000',
    RATE_LIMIT_PER_HOUR: '1000000',
    ...options.env,
  };
  // The test's own database and bus, whatever the environment points other tests at.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;

  const child = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail(child);
  try {
    const url = await listeningAddress(child, output);
    await waitForHealth(url);
    return {
      url,
      port: Number(new URL(url).port),
      output: () => output.text(),
      async close() {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((done) => child.once('exit', done));
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** How many of a server's last lines are kept for a failure's report. */
const OUTPUT_LINES = 200;

/** The last OUTPUT_LINES lines a child printed, stdout and stderr interleaved as they came. */
class OutputTail {
  readonly #lines: string[] = [];
  /** Each stream's line not yet ended. */
  readonly #pending = ['', ''];
  /** Told of each whole line as it comes. */
  readonly #listeners = new Set<(line: string) => void>();

  constructor(child: ChildProcess) {
    [child.stdout, child.stderr].forEach((stream, i) => {
      stream?.on('data', (chunk: Buffer) => {
        const lines = (this.#pending[i] + chunk.toString()).split('\n');
        this.#pending[i] = lines.pop() ?? '';
        this.#lines.push(...lines);
        if (this.#lines.length > OUTPUT_LINES) this.#lines.splice(0, this.#lines.length - OUTPUT_LINES);
        for (const line of lines) for (const listener of this.#listeners) listener(line);
      });
    });
  }

  /** Calls `listener` with each line printed from now on; returns what stops it. */
  onLine(listener: (line: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  text(): string {
    return [...this.#lines, ...this.#pending.filter(Boolean)].join('\n');
  }
}

/** Reads the server's JSON log until it says where it listens. */
function listeningAddress(child: ChildProcess, output: OutputTail): Promise<string> {
  return new Promise((resolveAddress, reject) => {
    const timer = setTimeout(() => fail(new Error('the server did not start within 20 s')), 20_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      stop();
      reject(new Error(`${error.message}\n--- server output ---\n${output.text()}`));
    };
    const stop = output.onLine((line) => {
      try {
        const entry = JSON.parse(line) as { event?: string; address?: string };
        if (entry.event === 'start' && entry.address) {
          clearTimeout(timer);
          stop();
          resolveAddress(entry.address);
        }
      } catch {
        // Not a JSON log line.
      }
    });
    child.once('exit', (code) => fail(new Error(`the server exited with code ${code} before listening`)));
  });
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // Not accepting connections yet.
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${url}/health did not answer within 10 s`);
}

/**
 * A loopback TCP proxy in front of a server, which a test can cut (every
 * connection dropped, new ones refused) and restore on the same port: a
 * network outage as a client sees it.
 */
export class TcpProxy {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;

  constructor(readonly target: { host: string; port: number }) {}

  /** `http://127.0.0.1:<proxy port>`, once started. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((done) => server.listen(this.#port, '127.0.0.1', done));
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Drops every connection and refuses new ones until {@link restore}. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  restore(): Promise<void> {
    return this.start();
  }

  close(): Promise<void> {
    return this.cut();
  }
}
