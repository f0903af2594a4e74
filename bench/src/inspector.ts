import WebSocket from 'ws';
import { LOOPBACK } from './util.ts';

/** The parts of a V8 CPU profile (Profiler.stop) the bench reads. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/**
 * Period of the timer that measures event-loop stalls, ms: a stall reads at most
 * this much short, and an idle server wakes 200 times a second for it (about
 * 0.5 % of a core; 1 ms costs 2 %).
 */
const EVENT_LOOP_RESOLUTION_MS = 5;

/**
 * The longest event-loop stall of a step, and what the main thread did meanwhile. A stall is
 * the loop's own work only while the thread runs: on a machine with more runnable threads than
 * cores (the server's, the load generator's) the kernel also takes the core away for a while.
 */
export interface LoopStalls {
  /** The longest stall: how late the watch timer ran, ms. */
  longestMs: number;
  /** Of the longest stall's span, how long the main thread ran, ms... */
  longestRunMs: number;
  /** ...and how long it was ready to run but waited for a core, ms (the kernel's schedstat). */
  longestWaitMs: number;
  /** The longest stretch the loop held the thread, running, without the timer's turn: ms of CPU. */
  longestOnCpuMs: number;
}

/** "26.0 ms (ran 11.0, waited for a core 15.0); on CPU 14.2 ms": a step's stalls in a line. */
export function describeStalls(stalls: LoopStalls): string {
  const f = (value: number) => value.toFixed(1);
  return (
    `${f(stalls.longestMs)} ms (ran ${f(stalls.longestRunMs)}, waited for a core ${f(stalls.longestWaitMs)}); ` +
    `on CPU ${f(stalls.longestOnCpuMs)} ms`
  );
}

/**
 * What the inspected process runs: a timer every EVENT_LOOP_RESOLUTION_MS that notes how late it
 * is and, from /proc (Linux), how long the main thread ran and waited for a core since its last
 * turn. Under a global symbol, so a second watch replaces the first.
 */
const WATCH_LOOP = `{
  const key = Symbol.for('pneumatic.bench.loopStalls');
  const fs = process.getBuiltinModule('node:fs');
  const previous = globalThis[key];
  if (previous) { clearInterval(previous.timer); if (previous.fd >= 0) fs.closeSync(previous.fd); }
  let fd = -1;
  try { fd = fs.openSync('/proc/self/task/' + process.pid + '/schedstat', 'r'); } catch {}
  const buffer = Buffer.alloc(128);
  const sched = () => {
    if (fd < 0) return [0, 0];
    const fields = buffer.toString('latin1', 0, fs.readSync(fd, buffer, 0, 128, 0)).split(' ');
    return [Number(fields[0]), Number(fields[1])];
  };
  const period = ${EVENT_LOOP_RESOLUTION_MS};
  const watch = { fd, longestMs: 0, longestRunMs: 0, longestWaitMs: 0, longestOnCpuMs: 0 };
  let last = performance.now();
  let [run, wait] = sched();
  watch.timer = setInterval(() => {
    const now = performance.now();
    const [runNow, waitNow] = sched();
    const lateMs = now - last - period;
    const runMs = (runNow - run) / 1e6;
    if (lateMs > watch.longestMs) {
      watch.longestMs = lateMs;
      watch.longestRunMs = runMs;
      watch.longestWaitMs = (waitNow - wait) / 1e6;
    }
    watch.longestOnCpuMs = Math.max(watch.longestOnCpuMs, runMs - period);
    last = now;
    run = runNow;
    wait = waitNow;
  }, period);
  // Never what keeps a stopping server alive.
  watch.timer.unref();
  globalThis[key] = watch;
  undefined;
}`;

/** Stops the watch; its figures as JSON. */
const STOP_WATCHING_LOOP = `{
  const fs = process.getBuiltinModule('node:fs');
  const watch = globalThis[Symbol.for('pneumatic.bench.loopStalls')];
  clearInterval(watch.timer);
  if (watch.fd >= 0) fs.closeSync(watch.fd);
  watch.fd = -1;
  JSON.stringify({ ...watch, timer: undefined });
}`;

interface Reply {
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { message: string };
}

/**
 * A small Chrome DevTools Protocol client for a child started with
 * `--inspect=127.0.0.1:0`: forces garbage collection, reads
 * process.memoryUsage(), watches the event loop, records CPU profiles.
 */
export class Inspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly #listeners = new Map<string, (params: unknown) => void>();
  #nextId = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer) => {
      const reply = JSON.parse(data.toString()) as Reply;
      if (reply.id === undefined) {
        if (reply.method) this.#listeners.get(reply.method)?.(reply.params);
        return;
      }
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (reply.error) waiter.reject(new Error(reply.error.message));
      else waiter.resolve(reply.result);
    });
    ws.on('close', () => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error('inspector closed'));
      this.#pending.clear();
    });
  }

  static async connect(url: string): Promise<Inspector> {
    if (new URL(url).hostname !== LOOPBACK) throw new Error(`inspector not on loopback: ${url}`);
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Inspector(ws);
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    // ws drops a send on a closed socket without a word: the reply would never come.
    if (this.#ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('inspector closed'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: (value) => resolve(value as T), reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Two full collections: the second one frees what the first one's finalizers released. */
  async collectGarbage(): Promise<void> {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
  }

  async #evaluate<T>(expression: string): Promise<T> {
    const reply = await this.call<{ result: { value: T }; exceptionDetails?: { text: string } }>(
      'Runtime.evaluate',
      { expression, returnByValue: true },
    );
    if (reply.exceptionDetails) throw new Error(`inspector: ${reply.exceptionDetails.text}`);
    return reply.result.value;
  }

  async memoryUsage(): Promise<MemoryUsage> {
    return JSON.parse(await this.#evaluate<string>('JSON.stringify(process.memoryUsage())')) as MemoryUsage;
  }

  /** Starts watching the main thread's event loop afresh (WATCH_LOOP). Any Node process: the bundled server, the baseline. */
  async watchEventLoop(): Promise<void> {
    await this.#evaluate(WATCH_LOOP);
  }

  /** Stops watching; the longest stalls since watchEventLoop, ms (LoopStalls). */
  async eventLoopStalls(): Promise<LoopStalls> {
    const watch = JSON.parse(await this.#evaluate<string>(STOP_WATCHING_LOOP)) as LoopStalls;
    return {
      longestMs: Math.max(0, watch.longestMs),
      longestRunMs: watch.longestRunMs,
      longestWaitMs: watch.longestWaitMs,
      longestOnCpuMs: Math.max(0, watch.longestOnCpuMs),
    };
  }

  async startProfiling(samplingIntervalUs = 200): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await this.call('Profiler.start');
  }

  async stopProfiling(): Promise<CpuProfile> {
    const { profile } = await this.call<{ profile: CpuProfile }>('Profiler.stop');
    await this.call('Profiler.disable');
    return profile;
  }

  /** A heap snapshot in V8's JSON format (what DevTools loads), as a string. */
  async takeHeapSnapshot(): Promise<string> {
    const chunks: string[] = [];
    this.#listeners.set('HeapProfiler.addHeapSnapshotChunk', (params) => {
      chunks.push((params as { chunk: string }).chunk);
    });
    try {
      await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.#listeners.delete('HeapProfiler.addHeapSnapshotChunk');
    }
    return chunks.join('');
  }

  close(): void {
    this.#ws.close();
  }
}
