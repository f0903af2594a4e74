import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import type { SourceMapPayload } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Inspector } from './inspector.ts';
import { BENCH_DIR, freePort, LOOPBACK, log, onInterrupt, REPO_DIR, sleep } from './util.ts';

const SERVER_DIR = join(REPO_DIR, 'apps', 'server');
const SERVER_DIST = join(SERVER_DIR, 'dist');
const SERVER_MAIN = join(SERVER_DIST, 'main.js');
/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux the bench runs on. */
const CLOCK_TICKS = 100;
const TAIL_BYTES = 8 * 1024;

/** A server running as a child process, on loopback, with an inspector attached. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly inspector: Inspector;
  /** Resident set size now, from /proc/<pid>/status (VmRSS), in bytes. */
  rssBytes(): number;
  /** User plus system CPU time used so far, in seconds, from /proc/<pid>/stat. */
  cpuSeconds(): number;
  /**
   * The same for the main thread alone (/proc/<pid>/task/<pid>/stat): the
   * event loop. The rest of cpuSeconds is the process's other threads (the
   * SQLite writer thread above all, then GC helpers and libuv's pool).
   */
  mainThreadCpuSeconds(): number;
  /** The same for each thread, by thread id (the main thread's is the pid). */
  threadCpuSeconds(): Map<number, number>;
  /** The last output lines, for error messages. */
  outputTail(): string;
  /** Source maps of the code this process loaded, by file URL, read when it started. */
  readonly sourceMaps: Map<string, SourceMapPayload>;
  /** sha256 of dist/main.js when it started (the baseline's: of its source), to tell builds apart. */
  readonly build: string;
  /** How long after a user's last socket closes the server announces them offline (0: it has no presence). */
  readonly presenceGraceMs: number;
  /** CPU time so far of each database process serving this server, by pid (none for SQLite: that is in the server). */
  databaseCpu(): Map<number, number>;
  stop(): Promise<void>;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Builds apps/server/dist/main.js when it is missing or older than its sources. */
export function ensureServerBuilt(): void {
  const sources = [
    join(SERVER_DIR, 'src'),
    join(SERVER_DIR, 'build.mjs'),
    join(SERVER_DIR, 'bundle-options.mjs'),
    join(SERVER_DIR, 'package.json'),
    join(REPO_DIR, 'packages', 'api', 'src'),
    join(REPO_DIR, 'packages', 'db', 'src'),
  ].filter(existsSync);
  const newestSource = Math.max(...sources.map(newestMtime));
  if (existsSync(SERVER_MAIN) && statSync(SERVER_MAIN).mtimeMs >= newestSource) return;
  log('building the server (dist is missing or older than its sources)');
  const result = spawnSync(
    process.execPath,
    [join(REPO_DIR, 'scripts', 'pnpm.mjs'), '--filter', '@pneumatic/server', 'build'],
    {
      cwd: REPO_DIR,
      stdio: ['ignore', process.stderr, process.stderr],
    },
  );
  if (result.status !== 0 || !existsSync(SERVER_MAIN)) throw new Error('server build failed');
}

/** utime + stime of a /proc stat line (a process's or a thread's), in seconds; 0 for an empty one. */
export function cpuSecondsOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / CLOCK_TICKS;
}

/** CPU time so far of each thread of process `pid`, by thread id (none once it is gone). */
export function threadCpuSecondsOf(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    // The process is gone: no threads.
  }
  for (const tid of tids) threads.set(Number(tid), cpuSecondsOf(readProc(pid, `task/${tid}/stat`)));
  return threads;
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/** Parent's environment without anything that would load tsx into a child that does not want it. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const key of Object.keys(env)) if (key.startsWith('TSX_')) delete env[key];
  return env;
}

/** Every server process started in this run, with the build it ran. */
export const serversStarted: Array<{ name: string; build: string; startedAt: string }> = [];

async function launch(options: {
  name: string;
  args: string[];
  sourceMaps?: Map<string, SourceMapPayload>;
  build: string;
  presenceGraceMs?: number;
  /** PostgreSQL database name, to count its backends' CPU. */
  postgresDatabase?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  port: number;
  readyPath: string;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [`--inspect=${LOOPBACK}:0`, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let inspectorUrl: string | undefined;
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-TAIL_BYTES);
    inspectorUrl ??= /Debugger listening on (ws:\/\/\S+)/.exec(tail)?.[1];
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitCode: number | null | undefined;
  let stopping = false;
  // 'close' comes after the output streams end, so the tail holds the last words of a crash.
  const exited = new Promise<void>((resolve) =>
    child.once('close', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      if (!stopping)
        log(
          `${options.name} (pid ${child.pid}) exited unexpectedly: code ${code}, signal ${signal}\n${tail}`,
        );
      resolve();
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: could not start`);
  serversStarted.push({ name: options.name, build: options.build, startedAt: new Date().toISOString() });
  const kill = async () => {
    stopping = true;
    if (exitCode !== undefined) return;
    child.kill('SIGTERM');
    const hung = await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)]);
    if (hung) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const forget = onInterrupt(kill);

  const url = `http://${LOOPBACK}:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) {
      forget();
      throw new Error(`${options.name} exited (${exitCode}) during start:\n${tail}`);
    }
    if (Date.now() > deadline) {
      forget();
      stopping = true;
      child.kill('SIGKILL');
      throw new Error(`${options.name} did not become ready:\n${tail}`);
    }
    if (inspectorUrl) {
      try {
        const response = await fetch(`${url}${options.readyPath}`);
        if (response.ok) break;
      } catch {}
    }
    await sleep(100);
  }
  const inspector = await Inspector.connect(inspectorUrl!);

  return {
    name: options.name,
    pid,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    inspector,
    rssBytes() {
      const match = /VmRSS:\s+(\d+) kB/.exec(readProc(pid, 'status'));
      return match ? Number(match[1]) * 1024 : 0;
    },
    cpuSeconds: () => cpuSecondsOf(readProc(pid, 'stat')),
    mainThreadCpuSeconds: () => cpuSecondsOf(readProc(pid, `task/${pid}/stat`)),
    threadCpuSeconds: () => threadCpuSecondsOf(pid),
    outputTail: () => tail,
    sourceMaps: options.sourceMaps ?? new Map(),
    build: options.build,
    presenceGraceMs: options.presenceGraceMs ?? 0,
    databaseCpu: () => (options.postgresDatabase ? postgresCpuByPid(options.postgresDatabase) : new Map()),
    async stop() {
      forget();
      inspector.close();
      await kill();
    },
  };
}

/** The real server's PRESENCE_GRACE_MS during the bench (its default is 5000). */
const PRESENCE_GRACE_MS = { full: 1000, quick: 200 };

export const SECRET_KEY = 'bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface RealServerOptions {
  dataDir: string;
  /** PostgreSQL connection string; SQLite in dataDir when absent. */
  databaseUrl?: string;
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  name?: string;
  /** A smoke run: shorter presence grace, so waiting it out costs less. */
  quick?: boolean;
}

function readSourceMaps(
  dir: string,
  maps = new Map<string, SourceMapPayload>(),
): Map<string, SourceMapPayload> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) readSourceMaps(path, maps);
    else if (entry.name.endsWith('.js.map')) {
      const payload = JSON.parse(readFileSync(path, 'utf8')) as SourceMapPayload;
      payload.sources = payload.sources.map((source) => join(dir, source));
      maps.set(pathToFileURL(path.slice(0, -'.map'.length)).href, payload);
    }
  }
  return maps;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

/**
 * The server's entry point seen through a symlink in a private folder: the
 * code and its imports are the real ones (Node follows the link), while the
 * command line differs from a developer's `node apps/server/dist/main.js`,
 * so tools that stop stray dev servers by name leave the bench's alone.
 */
let entryLink: string | undefined;
export function serverEntry(): string {
  if (!entryLink) {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-bench-entry-'));
    entryLink = join(dir, 'pneumatic-bench-server.js');
    symlinkSync(SERVER_MAIN, entryLink);
    onInterrupt(async () => rmSync(dir, { recursive: true, force: true }));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return entryLink;
}

/** `node apps/server/dist/main.js` on a free loopback port. */
export async function startRealServer(options: RealServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const presenceGraceMs = options.quick ? PRESENCE_GRACE_MS.quick : PRESENCE_GRACE_MS.full;
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: LOOPBACK,
    DATA_DIR: options.dataDir,
    SECRET_KEY,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_PER_HOUR: '100000000',
    // Long enough that no socket is closed for an expired token during a run.
    ACCESS_TOKEN_TTL_SECONDS: '14400',
    // Every load socket comes from 127.0.0.1: lift the per-address and per-user socket caps.
    MAX_SOCKETS_PER_ADDRESS: '1000000',
    MAX_SOCKETS_PER_USER: '1000',
    // Users go offline this long after their last socket closes, and every connected user hears
    // of it: the bench waits this out after closing its sockets, so a shorter grace keeps runs short.
    PRESENCE_GRACE_MS: String(presenceGraceMs),
  };
  // The server's own default (FULL) unless a scenario asks for another.
  if (options.sqliteSynchronous) env.SQLITE_SYNCHRONOUS = options.sqliteSynchronous;
  else delete env.SQLITE_SYNCHRONOUS;
  delete env.REDIS_URL;
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (options.databaseUrl) env.DATABASE_URL = options.databaseUrl;
  else delete env.DATABASE_URL;
  // Read before the process starts, so a rebuild during the run cannot mismatch them.
  const sourceMaps = readSourceMaps(SERVER_DIST);
  const build = sha256(SERVER_MAIN);
  return launch({
    name: options.name ?? 'server',
    args: [serverEntry()],
    sourceMaps,
    build,
    presenceGraceMs,
    postgresDatabase: options.databaseUrl ? new URL(options.databaseUrl).pathname.slice(1) : undefined,
    env,
    cwd: SERVER_DIR,
    port,
    readyPath: '/ready',
  });
}

/** Names of the reference servers' processes (src/baseline-server.ts), as `code.servers` records them. */
export const REFERENCE_SERVERS = { baseline: 'baseline', durableLimit: 'durable-limit' } as const;

/**
 * The baseline server (src/baseline-server.ts) in its own process. With
 * `durableFile`, the durable limit: every message committed to that SQLite
 * file (WAL, synchronous=FULL) on a writer thread before it is delivered.
 */
export async function startBaselineServer(options: { durableFile?: string } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...cleanEnv(), PORT: String(port) };
  if (options.durableFile) env.BASELINE_DURABLE_FILE = options.durableFile;
  else delete env.BASELINE_DURABLE_FILE;
  return launch({
    name: options.durableFile ? REFERENCE_SERVERS.durableLimit : REFERENCE_SERVERS.baseline,
    build: sha256(join(BENCH_DIR, 'src', 'baseline-server.ts')),
    args: ['--import', 'tsx', join(BENCH_DIR, 'src', 'baseline-server.ts')],
    env,
    cwd: BENCH_DIR,
    port,
    readyPath: '/health',
  });
}

/** Resolves once `server` has used less than 5 % of a core for 400 ms (at most `maxMs`): its backlog is done. */
export async function waitForIdle(server: ServerProcess, maxMs = 30_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  let before = server.cpuSeconds();
  while (performance.now() < deadline) {
    await sleep(400);
    const now = server.cpuSeconds();
    if (now - before < 0.02) return;
    before = now;
  }
}

/** All the waiting for quiet one run may do, so a machine that never quiets cannot stretch it much. */
let quietBudgetMs = 4 * 60_000;

/**
 * Waits until the machine is quiet (under `maxBusyCores` busy over a second,
 * our own processes idle by then), for at most `maxMs`. Returns the busy cores last seen.
 */
export async function waitForQuietMachine(maxMs: number, maxBusyCores = 0.3): Promise<number> {
  const start = performance.now();
  const deadline = start + Math.min(maxMs, quietBudgetMs);
  let busy = Number.POSITIVE_INFINITY;
  while (performance.now() < deadline) {
    const before = machineBusySeconds();
    await sleep(1000);
    busy = machineBusySeconds() - before;
    if (busy < maxBusyCores) break;
  }
  quietBudgetMs = Math.max(0, quietBudgetMs - (performance.now() - start));
  return busy;
}

function machineTicks(): number[] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  return line.trim().split(/\s+/).slice(1).map(Number);
}

/**
 * CPU time used so far by each PostgreSQL process serving `database` (its
 * backends, found by their `postgres: user database …` titles) and by the
 * cluster's WAL writer and checkpointer, seconds by pid.
 */
export function postgresCpuByPid(database: string): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const title = readProc(pid, 'cmdline').replaceAll('\0', ' ');
    if (!title.startsWith('postgres:')) continue;
    if (!title.includes(` ${database} `) && !/walwriter|checkpointer/.test(title)) continue;
    cpu.set(pid, cpuSecondsOf(readProc(pid, 'stat')));
  }
  return cpu;
}

/** CPU seconds the processes in `after` used since `before` (a process new since then counts from its start). */
export function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += Math.max(0, seconds - (before.get(pid) ?? 0));
  return total;
}

/** CPU time every process on the machine has used so far (busy: not idle, not waiting for I/O), seconds. */
export function machineBusySeconds(): number {
  const ticks = machineTicks();
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / CLOCK_TICKS;
}

/** CPU time spent idle while some process waited for the disk, seconds: a busy disk shows here. */
export function machineIoWaitSeconds(): number {
  return (machineTicks()[4] ?? 0) / CLOCK_TICKS;
}

/** fdatasync latency of the disk under `dir`: `count` 4 KiB appends, each synced. */
export function probeFsync(dir: string, count = 50): { p50Ms: number; p99Ms: number; maxMs: number } {
  const file = join(dir, `fsync-probe-${process.pid}`);
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const start = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      times.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: times.at(-1) ?? 0 };
}
