import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RawVerifyResult } from '../argon2-raw.ts';
import { Histogram, type LatencySummary } from '../histogram.ts';
import { HttpClient } from '../http.ts';
import { LoadGenerator, type StepResult } from '../load/driver.ts';
import type { BenchOptions } from '../options.ts';
import { type ServerProcess, waitForQuietMachine } from '../processes.ts';
import { type ConversationSpec, PASSWORD } from '../setup.ts';
import { BENCH_DIR, log } from '../util.ts';

export interface StormResult {
  rate: number;
  concurrency: number;
  /** Deliveries at `rate` with no login running. */
  quiet: StepResult;
  /** The same rate while `concurrency` logins run back to back. */
  storm: StepResult;
  logins: { count: number; failed: number; perSecond: number; latency: LatencySummary };
  /** argon2id verify alone, in its own process, at the server's parameters and concurrency bound, before the storm. */
  rawVerify: RawVerifyResult;
  /** Logins/s through the server during the storm ÷ raw verifies/s. */
  loginRatio: number;
}

const CONCURRENCY = 50;
const RAW_VERIFY_MS = { full: 3000, quick: 1000 };

/** Runs src/argon2-raw.ts in a child process: nothing else on its event loop. */
async function measureRawVerify(durationMs: number): Promise<RawVerifyResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(BENCH_DIR, 'src', 'argon2-raw.ts'), String(durationMs)],
    { cwd: BENCH_DIR, timeout: durationMs + 30_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as RawVerifyResult;
}

/**
 * Messages flow over tRPC at a moderate rate, first alone, then while 50
 * clients log in again and again (argon2id verify, about 13 ms of CPU each,
 * on libuv's thread pool): how much the delivery p99 suffers.
 */
export async function runStorm(options: {
  server: ServerProcess;
  population: ConversationSpec[];
  bench: BenchOptions;
  rate: number;
  /** tRPC sockets already open on `server` (the caller closes them); otherwise opened and closed here. */
  generator?: LoadGenerator;
}): Promise<StormResult> {
  const { server, population, bench } = options;
  const generator =
    options.generator ??
    (await LoadGenerator.connect({
      server,
      transport: 'trpc',
      conversations: population,
      workers: bench.workers,
    }));
  const http = new HttpClient(server.url, CONCURRENCY);
  try {
    const rate = Math.round(options.rate);
    const durationMs = bench.stepMs;
    if (!bench.quick) {
      await generator.step({ rate, durationMs: Math.min(2000, durationMs) });
      await generator.settle();
    }
    const quiet = await generator.step({ rate, durationMs, quietWaitMs: bench.quietWaitMs });
    await generator.settle();
    // The reference, with the server idle: what the hashing bound allows at best.
    await waitForQuietMachine(bench.quietWaitMs);
    const rawVerify = await measureRawVerify(bench.quick ? RAW_VERIFY_MS.quick : RAW_VERIFY_MS.full);
    log(
      `argon2id verify alone: ${rawVerify.perSecond.toFixed(1)}/s at concurrency ${rawVerify.concurrency} ` +
        `(m=${rawVerify.options.memoryCost}, t=${rawVerify.options.timeCost}, p=${rawVerify.options.parallelism})`,
    );

    const usernames = population.flatMap((c) => c.members.map((m) => m.username));
    const latency = new Histogram();
    let failed = 0;
    let next = 0;
    let running = true;
    const loop = async () => {
      while (running) {
        const username = usernames[next++ % usernames.length]!;
        try {
          const reply = await http.post('/auth/login', { username, password: PASSWORD });
          if (reply.status === 200) latency.recordMs(reply.ms);
          else failed++;
        } catch {
          failed++;
        }
      }
    };
    await waitForQuietMachine(bench.quietWaitMs);
    const stormStart = performance.now();
    const loops = Array.from({ length: CONCURRENCY }, loop);
    const storm = await generator.step({ rate, durationMs });
    running = false;
    await Promise.all(loops);
    const seconds = (performance.now() - stormStart) / 1000;
    await generator.settle();
    const result: StormResult = {
      rate,
      concurrency: CONCURRENCY,
      quiet,
      storm,
      logins: {
        count: latency.count,
        failed,
        perSecond: latency.count / seconds,
        latency: latency.summary(),
      },
      rawVerify,
      loginRatio: latency.count / seconds / rawVerify.perSecond,
    };
    log(
      `login storm: delivery p99 ${quiet.latency.p99Ms.toFixed(1)} ms quiet → ${storm.latency.p99Ms.toFixed(1)} ms ` +
        `with ${result.logins.perSecond.toFixed(1)} logins/s = ${result.loginRatio.toFixed(2)} × raw verify ` +
        `(login p99 ${result.logins.latency.p99Ms.toFixed(0)} ms)`,
    );
    return result;
  } finally {
    http.close();
    if (!options.generator) await generator.close();
  }
}
