import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cpuSecondsOf,
  machineBusySeconds,
  SECRET_KEY,
  serverEntry,
  waitForQuietMachine,
} from '../processes.ts';
import type { TargetResult } from '../report.ts';
import { freePort, LOOPBACK, log, onInterrupt, REPO_DIR, sleep } from '../util.ts';

/** The goal: `node dist/main.js` answers 200 on /ready within a second, on SQLite. */
export const STARTUP_TARGET_MS = 1000;

/** How often a starting server is asked for /ready: the resolution of each reading. */
const POLL_MS = 5;
const START_TIMEOUT_MS = 30_000;

export interface StartupRun {
  /** Process spawn to the first 200 from GET /ready, ms. */
  ms: number;
  /** CPU time (user + system) the server had used by then, ms (10 ms resolution): less sensitive to other load than `ms`. */
  cpuMs: number;
}

export interface StartupSeries {
  runs: StartupRun[];
  medianMs: number;
  p90Ms: number;
  medianCpuMs: number;
}

export interface StartupResult {
  /** Each start on a new, empty DATA_DIR: the database is created and every migration runs. */
  fresh: StartupSeries;
  /** Each start on the same DATA_DIR, already migrated: a restart. */
  existing: StartupSeries;
  /** Whether apps/web/dist was there: the server registers the web app's static files when it is. */
  webAppBuilt: boolean;
  /** Cores busy on the whole machine during the runs (ours included: a start is about one core). */
  machineBusyCores: number;
}

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

function series(runs: StartupRun[]): StartupSeries {
  const ms = runs.map((r) => r.ms);
  return {
    runs,
    medianMs: percentile(ms, 0.5),
    p90Ms: percentile(ms, 0.9),
    medianCpuMs: percentile(
      runs.map((r) => r.cpuMs),
      0.5,
    ),
  };
}

function cpuMsOf(pid: number): number {
  try {
    return cpuSecondsOf(readFileSync(`/proc/${pid}/stat`, 'utf8')) * 1000;
  } catch {
    return 0;
  }
}

/**
 * Starts `node apps/server/dist/main.js` as an operator would (production,
 * SQLite in `dataDir`, no inspector, no Redis), times it to the first 200 from
 * /ready, then stops it with SIGTERM and waits for it to exit.
 */
async function timeOneStart(dataDir: string): Promise<StartupRun> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [serverEntry()], {
    cwd: join(REPO_DIR, 'apps', 'server'),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: LOOPBACK,
      PORT: String(port),
      DATA_DIR: dataDir,
      SECRET_KEY,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4096);
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('close', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const stop = async () => {
    if (exitCode === undefined) child.kill('SIGTERM');
    await exited;
  };
  const forget = onInterrupt(stop);
  try {
    const url = `http://${LOOPBACK}:${port}/ready`;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`server exited (${exitCode}) during start:\n${stderr}`);
      if (performance.now() - started > START_TIMEOUT_MS)
        throw new Error(`server not ready after ${START_TIMEOUT_MS} ms:\n${stderr}`);
      try {
        const response = await fetch(url);
        await response.arrayBuffer();
        if (response.status === 200) break;
      } catch {}
      await sleep(POLL_MS);
    }
    const ms = performance.now() - started;
    return { ms, cpuMs: child.pid === undefined ? 0 : cpuMsOf(child.pid) };
  } finally {
    await stop();
    forget();
  }
}

/**
 * Cold starts of the built server: `runs` on a new DATA_DIR each, then `runs`
 * restarts on one already migrated. One unmeasured start first, so that the
 * files come from the page cache in every measured one.
 */
export async function runStartup(options: { runs: number; quietWaitMs: number }): Promise<StartupResult> {
  const existingDir = mkdtempSync(join(tmpdir(), 'pneumatic-bench-startup-'));
  const freshDir = () => mkdtempSync(join(tmpdir(), 'pneumatic-bench-startup-fresh-'));
  try {
    await timeOneStart(existingDir);
    if (options.quietWaitMs > 0) await waitForQuietMachine(options.quietWaitMs);
    const busyBefore = machineBusySeconds();
    const startedAt = performance.now();
    const fresh: StartupRun[] = [];
    const existing: StartupRun[] = [];
    // Alternating, so a burst of other load lands on both series alike.
    for (let i = 0; i < options.runs; i++) {
      const dir = freshDir();
      try {
        fresh.push(await timeOneStart(dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      existing.push(await timeOneStart(existingDir));
      log(
        `startup ${i + 1}/${options.runs}: fresh ${fresh.at(-1)!.ms.toFixed(0)} ms, existing ${existing.at(-1)!.ms.toFixed(0)} ms`,
      );
    }
    const seconds = (performance.now() - startedAt) / 1000;
    return {
      fresh: series(fresh),
      existing: series(existing),
      webAppBuilt: existsSync(join(REPO_DIR, 'apps', 'web', 'dist', 'index.html')),
      machineBusyCores: (machineBusySeconds() - busyBefore) / seconds,
    };
  } finally {
    rmSync(existingDir, { recursive: true, force: true });
  }
}

function seriesText(s: StartupSeries): string {
  return `median ${s.medianMs.toFixed(0)} ms, p90 ${s.p90Ms.toFixed(0)} ms (CPU ${s.medianCpuMs.toFixed(0)} ms)`;
}

/** The scenario's row in the results table. */
export function startupRow(result: StartupResult): [string, string, string] {
  return [
    `start-up to /ready, SQLite (${result.fresh.runs.length} + ${result.existing.runs.length} starts)`,
    `new database: ${seriesText(result.fresh)}; existing: ${seriesText(result.existing)}; ` +
      `machine ${result.machineBusyCores.toFixed(2)} cores busy meanwhile${result.webAppBuilt ? '' : '; web app not built'}`,
    '',
  ];
}

/** The target row: the slower of the two medians against the goal. */
export function startupTarget(result: StartupResult | undefined): TargetResult {
  const target = `start-up to /ready (SQLite) ≤ ${STARTUP_TARGET_MS / 1000} s`;
  if (!result) return { target, measured: 'not measured', pass: null };
  const worst = Math.max(result.fresh.medianMs, result.existing.medianMs);
  return {
    target,
    measured: `median ${result.fresh.medianMs.toFixed(0)} ms new, ${result.existing.medianMs.toFixed(0)} ms existing (p90 ${Math.max(result.fresh.p90Ms, result.existing.p90Ms).toFixed(0)} ms)`,
    pass: worst <= STARTUP_TARGET_MS,
  };
}
