import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeStalls } from '../inspector.ts';
import { type ConnectCost, LoadGenerator, type StepResult } from '../load/driver.ts';
import type { Transport } from '../load/protocol.ts';
import type { BenchOptions } from '../options.ts';
import { type ServerProcess, waitForQuietMachine } from '../processes.ts';
import { type ProfileSummary, summarizeProfile } from '../profile.ts';
import type { ConversationSpec } from '../setup.ts';
import { log, sleep } from '../util.ts';

/** Cores used by other processes, or idle waiting for the disk, above which a failed step is taken as disturbed and run again. */
const BUSY_MACHINE_CORES = 0.3;
const BUSY_DISK_CORES = 0.1;
const RETRIES_WHEN_BUSY = 1;

export interface FanoutResult {
  label: string;
  transport: Transport;
  /** Highest rate that held: p99 ≤ 100 ms, nothing lost, no error. 0 when none did. */
  maxRate: number;
  /** The passing step at maxRate. */
  atMax: StepResult | null;
  steps: StepResult[];
  /** Opening the population's sockets, after the warm-up's. */
  connect: ConnectCost;
  /** The warm-up: the first sockets the server process ever opened (its connect path still being compiled). */
  firstConnect?: ConnectCost;
  /** The step at 80 % of maxRate that was profiled. */
  profiled?: StepResult;
  /** Where the server's CPU went at 80 % of maxRate. */
  profile?: ProfileSummary;
  profileFile?: string;
}

interface SearchPlan {
  startRate: number;
  factor: number;
  maxSteps: number;
  refine: number;
  warmupMs: number;
  maxRate: number;
}

function plan(options: BenchOptions, startRate: number): SearchPlan {
  // Quick: one step at half the usual starting rate, a smoke test rather than a search.
  // Full: doubling then three bisections brackets the max within ×1.09 (×1.5 and two: ×1.11),
  // in a step or two fewer.
  return options.quick
    ? { startRate: startRate / 2, factor: 2, maxSteps: 1, refine: 0, warmupMs: 300, maxRate: 100_000 }
    : { startRate, factor: 2, maxSteps: 12, refine: 3, warmupMs: 1000, maxRate: 100_000 };
}

function describeStep(label: string, r: StepResult): string {
  return (
    `${label}: ${r.rate} msg/s → ${r.pass ? 'pass' : 'FAIL'} p50 ${r.latency.p50Ms.toFixed(1)} ms, ` +
    `p99 ${r.latency.p99Ms.toFixed(1)} ms, lost ${r.lost}, errors ${r.errors}${r.aborted ? ', aborted' : ''}; ` +
    `cpu server ${r.serverCpu.toFixed(2)} (${r.serverCpuPerMessageUs.toFixed(0)} µs/msg; ` +
    `event loop ${r.eventLoopCpu.toFixed(2)}, other threads ${Math.max(0, r.serverCpu - r.eventLoopCpu).toFixed(2)})` +
    `${r.databaseCpu > 0 ? ` postgres ${r.databaseCpu.toFixed(2)}` : ''} ` +
    `load ${r.clientCpu.toFixed(2)} other ${r.otherCpu.toFixed(2)} iowait ${r.ioWait.toFixed(2)}` +
    (r.stalls === undefined ? '' : `; longest stall ${describeStalls(r.stalls)}`)
  );
}

/**
 * Steps the rate up geometrically until a step fails, then bisects
 * (geometrically) between the last pass and the first failure.
 */
async function findMaxRate(
  label: string,
  generator: LoadGenerator,
  options: BenchOptions,
  search: SearchPlan,
): Promise<{ maxRate: number; atMax: StepResult | null; steps: StepResult[] }> {
  const steps: StepResult[] = [];
  const run = async (rate: number) => {
    for (let attempt = 0; ; attempt++) {
      const result = await generator.step({
        rate: Math.round(rate),
        durationMs: options.stepMs,
        quietWaitMs: options.quietWaitMs,
      });
      await generator.settle();
      steps.push(result);
      log(describeStep(label, result));
      const retries = options.quick || Date.now() > options.softDeadline ? 0 : RETRIES_WHEN_BUSY;
      const disturbed = result.otherCpu >= BUSY_MACHINE_CORES || result.ioWait >= BUSY_DISK_CORES;
      if (result.pass || !disturbed || attempt >= retries) return result;
      log(
        `${label}: other processes used ${result.otherCpu.toFixed(2)} cores, ` +
          `I/O wait ${result.ioWait.toFixed(2)}; running the step again`,
      );
      await sleep(2000);
    }
  };
  await generator.step({ rate: Math.round(search.startRate / 2), durationMs: search.warmupMs });
  await generator.settle();

  let pass: StepResult | null = null;
  let failRate: number | null = null;
  let rate = search.startRate;
  for (let up = 0; up < search.maxSteps && rate <= search.maxRate; up++) {
    const result = await run(rate);
    if (result.pass) {
      pass = result;
      rate *= search.factor;
    } else {
      failRate = result.rate;
      break;
    }
  }
  // The first rate failed: come down until one holds.
  for (
    let down = 0;
    !pass && failRate !== null && failRate > 20 && down < Math.floor(search.maxSteps / 3);
    down++
  ) {
    const result = await run(failRate / 2);
    if (result.pass) pass = result;
    else failRate = result.rate;
  }
  for (
    let i = 0;
    i < search.refine &&
    pass &&
    failRate !== null &&
    failRate / pass.rate > 1.08 &&
    Date.now() < options.softDeadline;
    i++
  ) {
    const result = await run(Math.sqrt(pass.rate * failRate));
    if (result.pass) pass = result;
    else failRate = result.rate;
  }
  return { maxRate: pass?.rate ?? 0, atMax: pass, steps };
}

/** Opens the population's sockets, finds the max rate, and profiles the server at 80 % of it. */
export async function runFanout(options: {
  label: string;
  key: string;
  server: ServerProcess;
  transport: Transport;
  population: ConversationSpec[];
  bench: BenchOptions;
  /** Where the search starts: a guess near the max saves steps (a first step that fails comes down by halves). */
  startRate: number;
  /** Sockets already open on `server` (the caller closes them); otherwise opened and closed here. */
  generator?: LoadGenerator;
}): Promise<FanoutResult> {
  const { bench } = options;
  // A quick run is a smoke test: no warm-up.
  const firstConnect =
    options.generator || bench.quick
      ? undefined
      : await LoadGenerator.warmUp({
          server: options.server,
          transport: options.transport,
          conversations: options.population,
          workers: bench.workers,
        });
  if (firstConnect)
    log(
      `${options.label}: warm-up, ${firstConnect.sockets} sockets ready in ${firstConnect.seconds.toFixed(1)} s; ` +
        `${((1000 * firstConnect.serverCpuSeconds) / firstConnect.sockets).toFixed(2)} ms of server CPU per socket`,
    );
  const generator =
    options.generator ??
    (await LoadGenerator.connect({
      server: options.server,
      transport: options.transport,
      conversations: options.population,
      workers: bench.workers,
    }));
  try {
    const cost = generator.connectCost;
    log(
      `${options.label}: ${cost.sockets} sockets ready in ${cost.seconds.toFixed(1)} s, ` +
        `server idle again ${cost.aftermathSeconds.toFixed(1)} s later; ${cost.serverCpuSeconds.toFixed(1)} s of server CPU`,
    );
    const found = await findMaxRate(options.label, generator, bench, plan(bench, options.startRate));
    const result: FanoutResult = {
      label: options.label,
      transport: options.transport,
      ...found,
      connect: cost,
      firstConnect,
    };
    if (bench.profile && found.maxRate > 0) {
      const rate = Math.round(found.maxRate * 0.8);
      await waitForQuietMachine(bench.quietWaitMs);
      await options.server.inspector.startProfiling();
      const step = await generator.step({ rate, durationMs: 4000 });
      const profile = await options.server.inspector.stopProfiling();
      await generator.settle();
      log(describeStep(`${options.label} (profiled)`, step));
      const file = join(dirname(bench.out), `profile-${options.key}.cpuprofile`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profile));
      result.profiled = step;
      result.profile = summarizeProfile(profile, options.server.sourceMaps);
      result.profileFile = file;
    }
    return result;
  } finally {
    if (!options.generator) await generator.close();
  }
}
