import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { Histogram, type LatencySummary } from '../histogram.ts';
import type { LoopStalls } from '../inspector.ts';
import {
  cpuSince,
  machineBusySeconds,
  machineIoWaitSeconds,
  type ServerProcess,
  waitForIdle,
  waitForQuietMachine,
} from '../processes.ts';
import type { ConversationSpec } from '../setup.ts';
import { BENCH_DIR, sleep, withTimeout } from '../util.ts';
import type { FromWorker, StepReport, ToWorker, Transport } from './protocol.ts';

export interface StepOptions {
  /** Messages per second, all workers together. */
  rate: number;
  durationMs: number;
  drainMs?: number;
  maxBacklogMs?: number;
  contentBytes?: number;
  /** Wait up to this long for other processes to quiet down before the step. */
  quietWaitMs?: number;
}

/** What one fixed-rate step measured. A step passes with p99 ≤ the bound, nothing lost, no error. */
export interface StepResult {
  rate: number;
  durationMs: number;
  sent: number;
  /** Messages per second actually sent (a saturated load generator falls behind its schedule). */
  sentRate: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  errors: number;
  aborted: boolean;
  reconnects: number;
  latency: LatencySummary;
  /** Cores used by the server process during the step (1.0 = one core). */
  serverCpu: number;
  /** Server CPU time per message sent, µs: what a message costs, whatever else runs on the machine. */
  serverCpuPerMessageUs: number;
  /** Of serverCpu, the cores the main thread (the event loop) used; the rest is the server's other threads. */
  eventLoopCpu: number;
  /** Cores used by the load generator processes together. */
  clientCpu: number;
  /** Cores used by the PostgreSQL processes serving the server (0 on SQLite, where the database is in the server). */
  databaseCpu: number;
  /** Cores used by everything else on the machine meanwhile: other work skews the figures. */
  otherCpu: number;
  /** Cores idle waiting for the disk meanwhile (anyone's I/O): a slow disk stalls commits. */
  ioWait: number;
  /**
   * The server's longest event-loop stalls from just before the first send to
   * the last delivery (see Inspector.eventLoopStalls); absent when the
   * inspector could not be read.
   */
  stalls?: LoopStalls;
  pass: boolean;
}

export const P99_BOUND_MS = 100;

class WorkerHandle {
  readonly #child: ChildProcess;
  readonly #waiting: Array<{
    type: FromWorker['type'];
    resolve(message: FromWorker): void;
    reject(e: Error): void;
  }> = [];
  conversations = 0;

  constructor() {
    this.#child = fork(join(BENCH_DIR, 'src', 'load', 'worker.ts'), [], {
      cwd: BENCH_DIR,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (message: FromWorker) => {
      if (message.type === 'failed') {
        for (const waiter of this.#waiting.splice(0))
          waiter.reject(new Error(`load worker: ${message.message}`));
        return;
      }
      const index = this.#waiting.findIndex((w) => w.type === message.type);
      if (index >= 0) this.#waiting.splice(index, 1)[0]!.resolve(message);
    });
    this.#child.once('exit', (code) => {
      for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error(`load worker exited (${code})`));
    });
  }

  request<T extends FromWorker['type']>(
    command: ToWorker,
    answer: T,
    timeoutMs: number,
  ): Promise<Extract<FromWorker, { type: T }>> {
    const result = new Promise<FromWorker>((resolve, reject) => {
      this.#waiting.push({ type: answer, resolve, reject });
    });
    this.#child.send(command);
    return withTimeout(result, timeoutMs, `load worker ${command.type}`) as Promise<
      Extract<FromWorker, { type: T }>
    >;
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
  }
}

/** What opening the sockets took: until every one was authenticated (and subscribed), then until the server was idle. */
export interface ConnectCost {
  sockets: number;
  seconds: number;
  /** Server CPU time spent from the first connection until the server went idle again. */
  serverCpuSeconds: number;
  /** Seconds until the server was idle again after the last socket was ready (announcements still going out). */
  aftermathSeconds: number;
}

/** Conversations whose members connect and leave in a warm-up (LoadGenerator.warmUp). */
const WARMUP_SHARE = 0.5;

/** Load generator processes with their sockets open, driving one server. */
export class LoadGenerator {
  readonly #workers: WorkerHandle[];
  readonly #server: ServerProcess;
  readonly sockets: number;
  readonly connectCost: ConnectCost;
  #step = 0;

  private constructor(workers: WorkerHandle[], server: ServerProcess, connectCost: ConnectCost) {
    this.#workers = workers;
    this.#server = server;
    this.sockets = connectCost.sockets;
    this.connectCost = connectCost;
  }

  /**
   * Opens and closes the sockets of half the conversations, and waits
   * until their users are offline again: a server process's first
   * connections run its connect path while V8 still compiles it, a cost
   * paid once per process (the startup scenario's), not per socket. What a
   * socket costs or keeps is measured after this. Returns what it cost.
   */
  static async warmUp(options: Parameters<typeof LoadGenerator.connect>[0]): Promise<ConnectCost> {
    const { conversations } = options;
    const warmup = await LoadGenerator.connect({
      ...options,
      conversations: conversations.slice(0, Math.max(1, Math.round(conversations.length * WARMUP_SHARE))),
    });
    await warmup.close();
    return warmup.connectCost;
  }

  /** Forks `workers` processes and opens one socket per member, conversations dealt round-robin. */
  static async connect(options: {
    server: ServerProcess;
    transport: Transport;
    conversations: ConversationSpec[];
    workers: number;
    subscribe?: boolean;
  }): Promise<LoadGenerator> {
    const count = Math.max(1, Math.min(options.workers, options.conversations.length));
    const workers = Array.from({ length: count }, () => new WorkerHandle());
    const cpuBefore = options.server.cpuSeconds();
    const start = performance.now();
    try {
      const replies = await Promise.all(
        workers.map((worker, w) => {
          const mine = options.conversations.filter((_, c) => c % count === w);
          worker.conversations = mine.length;
          return worker.request(
            {
              type: 'connect',
              transport: options.transport,
              wsUrl: options.server.wsUrl,
              conversations: mine,
              subscribe: options.subscribe ?? true,
            },
            'connected',
            180_000,
          );
        }),
      );
      const ready = performance.now();
      // Connecting announces presence to others: let that traffic finish before anything is measured.
      await Promise.all(workers.map((w) => w.request({ type: 'settle' }, 'settled', 30_000)));
      await waitForIdle(options.server);
      return new LoadGenerator(workers, options.server, {
        sockets: replies.reduce((n, r) => n + r.sockets, 0),
        seconds: (ready - start) / 1000,
        serverCpuSeconds: options.server.cpuSeconds() - cpuBefore,
        aftermathSeconds: (performance.now() - ready) / 1000,
      });
    } catch (error) {
      for (const worker of workers) worker.kill();
      throw error;
    }
  }

  async step(options: StepOptions): Promise<StepResult> {
    const step = ++this.#step;
    if (options.quietWaitMs) await waitForQuietMachine(options.quietWaitMs);
    const total = this.#workers.reduce((n, w) => n + w.conversations, 0);
    const drainMs = options.drainMs ?? 3000;
    const inspector = this.#server.inspector;
    const watching = await inspector.watchEventLoop().then(
      () => true,
      () => false,
    );
    const startAt = Date.now() + 300;
    const cpuWindow = (async () => {
      await sleep(Math.max(0, startAt - Date.now()));
      const before = this.#server.cpuSeconds();
      const mainBefore = this.#server.mainThreadCpuSeconds();
      const databaseBefore = this.#server.databaseCpu();
      const machineBefore = machineBusySeconds();
      const ioBefore = machineIoWaitSeconds();
      const start = performance.now();
      await sleep(options.durationMs);
      const seconds = (performance.now() - start) / 1000;
      return {
        server: (this.#server.cpuSeconds() - before) / seconds,
        eventLoop: (this.#server.mainThreadCpuSeconds() - mainBefore) / seconds,
        database: cpuSince(databaseBefore, this.#server.databaseCpu()) / seconds,
        machine: (machineBusySeconds() - machineBefore) / seconds,
        ioWait: (machineIoWaitSeconds() - ioBefore) / seconds,
      };
    })();
    const reports = await Promise.all(
      this.#workers.map((worker) =>
        worker
          .request(
            {
              type: 'step',
              step,
              rate: (options.rate * worker.conversations) / total,
              durationMs: options.durationMs,
              startAt,
              drainMs,
              maxBacklogMs: options.maxBacklogMs ?? 1000,
              contentBytes: options.contentBytes ?? 100,
            },
            'stepDone',
            options.durationMs + drainMs + 60_000,
          )
          .then((m) => m.report),
      ),
    );
    const cpu = await cpuWindow;
    const stalls = watching ? await inspector.eventLoopStalls().catch(() => undefined) : undefined;
    return { ...summarize(options, reports, cpu), stalls };
  }

  /** Waits until the server has nothing left to deliver. */
  async settle(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.request({ type: 'settle' }, 'settled', 30_000)));
  }

  /** Closes every socket, then waits out the presence grace and the offline announcements it ends in. */
  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map((w) => w.request({ type: 'close' }, 'closed', 30_000).catch(() => undefined)),
    );
    for (const worker of this.#workers) worker.kill();
    if (this.#server.presenceGraceMs > 0) await sleep(this.#server.presenceGraceMs + 100);
    await waitForIdle(this.#server);
  }
}

function summarize(
  options: StepOptions,
  reports: StepReport[],
  cpu: { server: number; eventLoop: number; database: number; machine: number; ioWait: number },
): StepResult {
  const serverCpu = cpu.server;
  const sum = (pick: (r: StepReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
  const latency = Histogram.from(reports.map((r) => r.latency)).summary();
  const sent = sum((r) => r.sent);
  const expected = sum((r) => r.expected);
  const delivered = sum((r) => r.received);
  const spanMs = Math.max(...reports.map((r) => r.sendSpanMs));
  const aborted = reports.some((r) => r.aborted);
  const errors = sum((r) => r.sendErrors);
  const lost = expected - delivered;
  const sentRate = spanMs > 0 ? (sent - 1) / (spanMs / 1000) : 0;
  return {
    rate: options.rate,
    durationMs: options.durationMs,
    sent,
    sentRate,
    expected,
    delivered,
    lost,
    duplicates: sum((r) => r.duplicates),
    errors,
    aborted,
    reconnects: sum((r) => r.reconnects),
    latency,
    serverCpu,
    serverCpuPerMessageUs: sentRate > 0 ? (serverCpu / sentRate) * 1e6 : 0,
    eventLoopCpu: cpu.eventLoop,
    clientCpu: sum((r) => r.cpuShare),
    databaseCpu: cpu.database,
    otherCpu: Math.max(0, cpu.machine - serverCpu - cpu.database - sum((r) => r.cpuShare)),
    ioWait: cpu.ioWait,
    pass: !aborted && lost === 0 && errors === 0 && latency.p99Ms <= P99_BOUND_MS,
  };
}
