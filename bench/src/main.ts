/**
 * `pnpm bench`: the real server against the baseline, on loopback, in
 * bounded scenarios. Prints a table; writes bench/results/latest.json.
 */
// The history scenario times its bare query from this process: with V8's allocation-site
// pretenuring, pg's result rows went to the old generation and this process's young
// collections took 7–10 ms, a p99 of 4–6 ms for a query whose own is 0.25 (pgbench). The server
// runs without it too (apps/server/src/v8-flags.ts). First, before anything is allocated.
import './v8-flags.ts';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type Accounts,
  copyAccountsToPostgres,
  createPostgresDatabase,
  readSqliteAccounts,
} from './database.ts';
import { LoadGenerator } from './load/driver.ts';
import { type BenchOptions, parseOptions, type Scenario, UsageError, usage } from './options.ts';
import {
  ensureServerBuilt,
  probeFsync,
  type RealServerOptions,
  type ServerProcess,
  serversStarted,
  startBaselineServer,
  startRealServer,
} from './processes.ts';
import { type BenchResults, evaluateTargets, type MemoryKey, renderReport } from './report.ts';
import { runFanout } from './scenarios/fanout.ts';
import { runHistory } from './scenarios/history.ts';
import { measureIdleSockets } from './scenarios/memory.ts';
import { type RoundKey, type RoundServer, runRounds } from './scenarios/rounds.ts';
import { runStartup } from './scenarios/startup.ts';
import { runStorm } from './scenarios/storm.ts';
import {
  type ConversationSpec,
  createPopulation,
  recreateConversations,
  syntheticPopulation,
} from './setup.ts';
import { errorText, log, REPO_DIR, runCleanups } from './util.ts';

/** Hard stops: the run ends by itself even if something hangs (a full run's grows with its rounds). */
const WATCHDOG_MS = { full: 30 * 60_000, perRound: 6 * 60_000, quick: 3 * 60_000 };

const START_RATE = { baseline: 2000, durableLimit: 1000, real: 400, durable: 400 };

/** Scenarios that run on the reference servers alone (src/baseline-server.ts), not on the real one. */
const REFERENCE_SCENARIOS: readonly Scenario[] = ['baseline', 'durable-limit'];

/** Where a search starts: `share` of a related max measured earlier in the run, or `floor` without one. */
function nearMax(known: number | undefined, share: number, floor: number): number {
  return Math.max(floor, Math.round((known ?? 0) * share));
}

/** Read-only git queries: which code this run measured. */
function gitState(): { commit: string; dirty: boolean } {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: REPO_DIR, encoding: 'utf8' }).stdout?.trim() ?? '';
  return { commit: git('rev-parse', 'HEAD') || 'unknown', dirty: git('status', '--porcelain').length > 0 };
}

function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `pneumatic-bench-${label}-`));
}

/** What has been measured so far: written out as is when the run is interrupted. */
let partial: BenchResults | undefined;

function finish(results: BenchResults): BenchResults {
  const finished = new Date();
  results.finishedAt = finished.toISOString();
  results.seconds = (finished.getTime() - Date.parse(results.startedAt)) / 1000;
  results.targets = evaluateTargets(results);
  return results;
}

function publish(results: BenchResults, out: string): void {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(renderReport(results));
  log(`results written to ${out}`);
}

async function run(options: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const want = (s: Scenario) => options.scenarios.has(s);
  // The load workers are forked with this environment.
  process.env.BENCH_TRPC_CLIENT = options.trpcClient;
  const results: BenchResults = {
    startedAt: started.toISOString(),
    finishedAt: '',
    seconds: 0,
    quick: options.quick,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      memoryMiB: Math.round(totalmem() / 2 ** 20),
      loadAverage: loadavg(),
      fsync: probeFsync(tmpdir()),
    },
    options: { ...options, scenarios: [...options.scenarios] },
    code: { ...gitState(), servers: serversStarted },
    fanout: {},
    memory: {},
    history: {},
    targets: [],
    errors: [],
    phaseSeconds: {},
  };
  partial = results;
  const attempt = async (scenario: string, work: () => Promise<void>) => {
    const start = performance.now();
    try {
      await work();
    } catch (error) {
      log(`${scenario} failed: ${errorText(error)}`);
      results.errors.push({ scenario, message: errorText(error) });
    } finally {
      results.phaseSeconds[scenario] = (performance.now() - start) / 1000;
    }
  };
  const population = (server: ServerProcess): Promise<ConversationSpec[]> =>
    createPopulation(server.url, { conversations: options.conversations, members: options.members });

  const needsBaseline =
    want('baseline') || want('trpc') || want('legacy') || want('durable') || want('postgres');
  const needsDurableLimit = want('durable-limit') || want('trpc') || want('legacy') || want('durable');
  const needsReal = [...options.scenarios].some((s) => !REFERENCE_SCENARIOS.includes(s));
  if (needsReal) {
    const start = performance.now();
    ensureServerBuilt();
    results.phaseSeconds.build = (performance.now() - start) / 1000;
  }

  // Before any load scenario: nothing of ours is still winding down while it is timed.
  if (want('startup'))
    await attempt('startup', async () => {
      results.startup = await runStartup({ runs: options.quick ? 3 : 9, quietWaitMs: options.quietWaitMs });
    });

  const memoryOf = (key: MemoryKey, server: ServerProcess, people: ConversationSpec[], subscribe: boolean) =>
    attempt(`memory ${key}`, async () => {
      results.memory[key] = await measureIdleSockets({
        label: `memory ${key}`,
        server,
        transport: key === 'baseline' || key === 'legacy' ? 'legacy' : 'trpc',
        population: people,
        subscribe,
        workers: options.workers,
        heapSnapshots: options.heapSnapshots,
        quick: options.quick,
      });
    });

  // The reference: the same fan-out on the baseline server.
  if (needsBaseline || (want('memory') && options.quick))
    await attempt('baseline', async () => {
      const server = await startBaselineServer();
      try {
        const people = await population(server);
        if (needsBaseline)
          results.fanout.baseline = await runFanout({
            label: 'baseline',
            key: 'baseline',
            server,
            transport: 'legacy',
            population: people,
            bench: options,
            startRate: START_RATE.baseline,
          });
        // A quick run measures memory on this process too.
        if (want('memory') && options.quick) await memoryOf('baseline', server, people, false);
      } finally {
        await server.stop();
      }
    });
  /** The durable limit on a database file of its own (removed by `close`), with its population. */
  const openDurableLimit = async (): Promise<RoundServer> => {
    const dir = tempDir('durable-limit');
    const server = await startBaselineServer({ durableFile: join(dir, 'messages.db') }).catch((error) => {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    });
    const close = async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      return { server, population: await population(server), close };
    } catch (error) {
      await close();
      throw error;
    }
  };
  // The durable reference: the same fan-out, every message committed (FULL) before it is delivered.
  if (needsDurableLimit)
    await attempt('durable-limit', async () => {
      const { server, population: people, close } = await openDurableLimit();
      try {
        results.fanout.durableLimit = await runFanout({
          label: 'durable limit',
          key: 'durableLimit',
          server,
          transport: 'legacy',
          population: people,
          bench: options,
          // It has carried 0.6–0.9 × the baseline's max with 0.2 ms fsyncs; a slower disk takes more.
          startRate: nearMax(results.fanout.baseline?.maxRate, 0.6, START_RATE.durableLimit),
        });
      } finally {
        await close();
      }
    });

  // A full run measures it on a fresh process that serves nothing but the measured sockets,
  // as the real server's is (its population was made on another process).
  if (want('memory') && !options.quick)
    await attempt('memory baseline', async () => {
      const fresh = await startBaselineServer();
      try {
        const people = syntheticPopulation({
          conversations: options.conversations,
          members: options.members,
        });
        await memoryOf('baseline', fresh, people, false);
      } finally {
        await fresh.stop();
      }
    });

  /** (a) and (e) on one set of tRPC sockets already open on `server`: opening 1,000 takes a while. */
  const trpcAndStorm = async (server: ServerProcess, people: ConversationSpec[], sockets: LoadGenerator) => {
    if (want('trpc'))
      await attempt('trpc', async () => {
        results.fanout.trpc = await runFanout({
          label: 'tRPC (SQLite)',
          key: 'trpc',
          server,
          transport: 'trpc',
          population: people,
          bench: options,
          startRate: START_RATE.real,
          generator: sockets,
        });
      });
    if (want('storm'))
      await attempt('storm', async () => {
        const known = results.fanout.trpc?.maxRate;
        const rate = options.stormRate ?? Math.min(500, Math.max(50, known ? known / 2 : 500));
        results.storm = await runStorm({
          server,
          population: people,
          bench: options,
          rate,
          generator: sockets,
        });
      });
  };

  // Users made on SQLite, carried over to PostgreSQL instead of signing up 1,000 users again.
  let accountsForPostgres: { population: ConversationSpec[]; accounts: Accounts } | undefined;
  // The SQLite data and population, kept for the further rounds (removed after them).
  let sqlite: { dataDir: string; people: ConversationSpec[] } | undefined;

  // The real server on SQLite: one data directory and population for (a), (b), (c), (e) and durable.
  if (want('trpc') || want('legacy') || want('memory') || want('storm') || want('durable'))
    await attempt('sqlite', async () => {
      const dataDir = tempDir('sqlite');
      const start = (extra: Partial<RealServerOptions> = {}) =>
        startRealServer({ dataDir, quick: options.quick, ...extra });
      try {
        let server = await start();
        let people: ConversationSpec[];
        try {
          people = await population(server);
          sqlite = { dataDir, people };
          // A quick run measures memory on this process; a full one on a fresh process per case.
          if (want('memory') && options.quick) {
            await memoryOf('trpc', server, people, true);
            await memoryOf('legacy', server, people, false);
          }
        } finally {
          await server.stop();
        }

        if (want('memory') && !options.quick)
          for (const [key, subscribe] of [
            ['trpc', true],
            ['trpcConnectionOnly', false],
            ['legacy', false],
          ] as const) {
            const fresh = await start({ name: `memory-${key}` });
            try {
              // Not (a) on these sockets: their connect came right after the forced GCs that
              // memory readings need, which discard compiled code (docs/benchmarks.md).
              await memoryOf(key, fresh, people, subscribe);
            } finally {
              await fresh.stop();
            }
          }

        if (want('legacy') || want('trpc') || want('storm')) {
          server = await start();
          try {
            if (want('trpc') || want('storm'))
              await attempt('trpc sockets', async () => {
                const connect = {
                  server,
                  transport: 'trpc' as const,
                  conversations: people,
                  workers: options.workers,
                };
                // As every fan-out does: its connect figure is the round after the process's first.
                if (!options.quick) await LoadGenerator.warmUp(connect);
                const sockets = await LoadGenerator.connect(connect);
                try {
                  await trpcAndStorm(server, people, sockets);
                } finally {
                  await sockets.close();
                }
              });
            if (want('legacy'))
              await attempt('legacy', async () => {
                results.fanout.legacy = await runFanout({
                  label: 'legacy (SQLite)',
                  key: 'legacy',
                  server,
                  transport: 'legacy',
                  population: people,
                  bench: options,
                  // Legacy carries more than tRPC on the same server.
                  startRate: nearMax(results.fanout.trpc?.maxRate, 1, START_RATE.real),
                });
              });
          } finally {
            await server.stop();
          }
        }

        if (want('postgres'))
          accountsForPostgres = {
            population: people,
            accounts: readSqliteAccounts(join(dataDir, 'pneumatic.db')),
          };

        if (want('durable'))
          await attempt('durable', async () => {
            const durable = await start({ sqliteSynchronous: 'FULL', name: 'server-full' });
            try {
              results.fanout.durable = await runFanout({
                label: 'legacy (SQLite, synchronous=FULL)',
                key: 'durable',
                server: durable,
                transport: 'legacy',
                population: people,
                bench: options,
                // FULL has carried 0.75–0.8 × NORMAL's legacy max.
                startRate: nearMax(results.fanout.legacy?.maxRate, 0.7, START_RATE.durable),
              });
            } finally {
              await durable.stop();
            }
          });
      } finally {
        // Kept for the further rounds once its population exists.
        if (!sqlite) rmSync(dataDir, { recursive: true, force: true });
      }
    });

  // The fan-outs that ratio targets compare, measured again (src/scenarios/rounds.ts).
  if (options.rounds > 1) {
    const open = async (key: RoundKey): Promise<RoundServer> => {
      if (key === 'durableLimit') return openDurableLimit();
      if (key === 'baseline') {
        const server = await startBaselineServer();
        const close = () => server.stop();
        try {
          return { server, population: await population(server), close };
        } catch (error) {
          await close();
          throw error;
        }
      }
      if (!sqlite) throw new Error('the SQLite population is gone');
      const server = await startRealServer({
        dataDir: sqlite.dataDir,
        quick: options.quick,
        ...(key === 'durable' ? { sqliteSynchronous: 'FULL' as const, name: 'server-full' } : {}),
      });
      return { server, population: sqlite.people, close: () => server.stop() };
    };
    results.rounds = await runRounds({ bench: options, first: results.fanout, open, attempt });
  }
  if (sqlite) rmSync(sqlite.dataDir, { recursive: true, force: true });

  // PostgreSQL history (seeding a million rows takes a while) only in full runs that include postgres.
  if (want('history'))
    for (const database of want('postgres') && !options.quick
      ? (['sqlite', 'postgres'] as const)
      : (['sqlite'] as const))
      await attempt(`history ${database}`, async () => {
        const dataDir = tempDir('history');
        try {
          results.history[database] = await runHistory({
            database,
            dataDir,
            messages: options.historyMessages,
            requests: options.quick ? 100 : 2000,
            quick: options.quick,
            quietWaitMs: options.quietWaitMs,
          });
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      });

  if (want('postgres'))
    await attempt('postgres', async () => {
      const database = await createPostgresDatabase();
      const dataDir = tempDir('postgres');
      try {
        const server = await startRealServer({
          dataDir,
          databaseUrl: database.url,
          name: 'server-pg',
          quick: options.quick,
        });
        try {
          let people: ConversationSpec[];
          if (accountsForPostgres) {
            await copyAccountsToPostgres(database.url, accountsForPostgres.accounts);
            people = await recreateConversations(server.url, accountsForPostgres.population);
          } else people = await population(server);
          for (const [key, transport] of [
            ['postgresTrpc', 'trpc'],
            ['postgresLegacy', 'legacy'],
          ] as const)
            await attempt(key, async () => {
              results.fanout[key] = await runFanout({
                label: `${transport === 'trpc' ? 'tRPC' : 'legacy'} (PostgreSQL)`,
                key,
                server,
                transport,
                population: people,
                bench: options,
                startRate:
                  key === 'postgresLegacy'
                    ? nearMax(results.fanout.postgresTrpc?.maxRate, 1, START_RATE.real)
                    : START_RATE.real,
              });
            });
        } finally {
          await server.stop();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
        await database.drop();
      }
    });

  return finish(results);
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const interrupt = (signal: string) => {
    log(`${signal}: stopping children and dropping databases; writing what was measured`);
    if (partial) {
      partial.errors.push({ scenario: 'run', message: `interrupted (${signal})` });
      publish(finish(partial), options.out);
    }
    void runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));
  const watchdog = setTimeout(
    () => interrupt('watchdog (the run took too long)'),
    options.quick ? WATCHDOG_MS.quick : WATCHDOG_MS.full + (options.rounds - 1) * WATCHDOG_MS.perRound,
  );
  watchdog.unref();

  log(`scenarios: ${[...options.scenarios].join(', ')}${options.quick ? ' (quick)' : ''}`);
  try {
    const results = await run(options);
    partial = undefined;
    publish(results, options.out);
    log(`total wall time ${Math.floor(results.seconds / 60)} min ${Math.round(results.seconds % 60)} s`);
    return results.errors.length > 0 ? 1 : 0;
  } finally {
    clearTimeout(watchdog);
    await runCleanups();
  }
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    await runCleanups();
    process.exit(1);
  },
);
