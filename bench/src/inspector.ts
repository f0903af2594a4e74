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

/** Where the inspected process keeps its delay histogram between two calls. */
const LOOP_DELAY = `globalThis[Symbol.for('pneumatic.bench.eventLoopDelay')]`;

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

  /**
   * Starts recording the main thread's event-loop delays afresh, with
   * perf_hooks.monitorEventLoopDelay (a timer every EVENT_LOOP_RESOLUTION_MS
   * that notes how late it ran). Any Node process: the bundled server, the baseline.
   */
  async watchEventLoop(): Promise<void> {
    await this.#evaluate(
      `{ const h = ${LOOP_DELAY} ??= process.getBuiltinModule('node:perf_hooks')` +
        `.monitorEventLoopDelay({ resolution: ${EVENT_LOOP_RESOLUTION_MS} }); h.disable(); h.reset(); h.enable(); }`,
    );
  }

  /**
   * Stops recording; the longest stall since watchEventLoop, ms: how late the
   * most delayed timer ran (between the true stall and EVENT_LOOP_RESOLUTION_MS less).
   */
  async longestEventLoopStall(): Promise<number> {
    const maxNs = await this.#evaluate<number>(`{ const h = ${LOOP_DELAY}; h.disable(); h.max; }`);
    return Math.max(0, maxNs / 1e6 - EVENT_LOOP_RESOLUTION_MS);
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
