/**
 * Fixed-rate fan-out steps on one server, each thread's CPU per message and
 * the real server's mean group-commit batch: to compare the real server with
 * the durable limit at equal rates, which the bench's search for a max does
 * not do. Not part of `pnpm bench`.
 *
 *   tsx src/tools/steps.ts <legacy|trpc|durable-limit> <rate,rate,...> [seconds per step, 6] [profile]
 *
 * With `profile`, each step runs under the server's CPU profiler: its
 * busiest functions are printed after the step's line, and the profile is
 * written to bench/results/steps-<server>-<rate>-<step>.cpuprofile (profiling
 * costs the server a few percent).
 *
 * Opens the population's sockets (after the bench's connect warm-up), sends
 * 2 s at 1,000 msg/s to warm the send path, then runs each step in order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeStalls } from '../inspector.ts';
import { LoadGenerator } from '../load/driver.ts';
import type { ServerProcess } from '../processes.ts';
import { summarizeProfile } from '../profile.ts';
import { createPopulation } from '../setup.ts';
import { BENCH_DIR } from '../util.ts';
import { isKind, startServer, threadCpuPer } from './shared.ts';

const USAGE = 'usage: tsx src/tools/steps.ts <legacy|trpc|durable-limit> <rate,rate,...> [seconds] [profile]';
const [kind, ratesArg, secondsArg = '6', mode] = process.argv.slice(2);
const rates = (ratesArg ?? '').split(',').map(Number);
const seconds = Number(secondsArg);
const profile = mode === 'profile';
if (
  !isKind(kind) ||
  rates.some((rate) => !Number.isFinite(rate) || rate <= 0) ||
  !(seconds > 0) ||
  (mode !== undefined && !profile)
) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

/** The real server's group-commit batches so far (its /metrics), or undefined for the durable limit. */
async function batches(server: ServerProcess): Promise<{ sum: number; count: number } | undefined> {
  if (kind === 'durable-limit') return undefined;
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    sum: value('pneumatic_group_commit_batch_size_sum'),
    count: value('pneumatic_group_commit_batch_size_count'),
  };
}

const { server, stop } = await startServer(kind);
try {
  const connect = {
    server,
    transport: kind === 'trpc' ? ('trpc' as const) : ('legacy' as const),
    conversations: await createPopulation(server.url, { conversations: 200, members: 5 }),
    workers: 2,
  };
  await LoadGenerator.warmUp(connect);
  const generator = await LoadGenerator.connect(connect);
  try {
    await generator.step({ rate: 1000, durationMs: 2000 });
    await generator.settle();
    for (const [n, rate] of rates.entries()) {
      const threadsBefore = server.threadCpuSeconds();
      const batchesBefore = await batches(server);
      if (profile) await server.inspector.startProfiling();
      const step = await generator.step({ rate, durationMs: seconds * 1000 });
      const cpuProfile = profile ? await server.inspector.stopProfiling() : undefined;
      const threadsAfter = server.threadCpuSeconds();
      const batchesAfter = await batches(server);
      await generator.settle();
      const batch =
        batchesBefore && batchesAfter && batchesAfter.count > batchesBefore.count
          ? ((batchesAfter.sum - batchesBefore.sum) / (batchesAfter.count - batchesBefore.count)).toFixed(1)
          : '-';
      process.stdout.write(
        `${kind} ${rate} msg/s: sent ${step.sentRate.toFixed(0)}/s, p50 ${step.latency.p50Ms.toFixed(1)} ms, ` +
          `p99 ${step.latency.p99Ms.toFixed(1)} ms, lost ${step.lost}, longest stall ${step.stalls ? describeStalls(step.stalls) : '-'}, ` +
          `batch ${batch}; µs a message by thread: ${threadCpuPer(server, threadsBefore, threadsAfter, step.sent)}\n`,
      );
      if (cpuProfile) {
        const file = join(BENCH_DIR, 'results', `steps-${kind}-${rate}-${n + 1}.cpuprofile`);
        mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
        writeFileSync(file, JSON.stringify(cpuProfile));
        const summary = summarizeProfile(cpuProfile, server.sourceMaps);
        const list = (entries: { percent: number; name: string; location: string }[]) =>
          entries.map((e) => `    ${e.percent.toFixed(1).padStart(5)} % ${e.name} ${e.location}`).join('\n');
        process.stdout.write(
          `  profile (${summary.busyPercent.toFixed(0)} % busy, wall time), ${file}\n` +
            `  by self time:\n${list(summary.topSelf)}\n  by inclusive time (Pneumatic's):\n${list(summary.topInclusive)}\n`,
        );
      }
    }
  } finally {
    await generator.close();
  }
} finally {
  await stop();
}
