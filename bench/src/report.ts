import { describeStalls, type LoopStalls } from './inspector.ts';
import type { StepResult } from './load/driver.ts';
import { REFERENCE_SERVERS } from './processes.ts';
import type { ProfileSummary } from './profile.ts';
import type { FanoutResult } from './scenarios/fanout.ts';
import type { HistoryResult } from './scenarios/history.ts';
import type { MemoryResult } from './scenarios/memory.ts';
import { ROUND_KEYS, type Round, type RoundKey } from './scenarios/rounds.ts';
import { type StartupResult, startupRow, startupTarget } from './scenarios/startup.ts';
import type { StormResult } from './scenarios/storm.ts';

export type FanoutKey =
  | 'baseline'
  | 'durableLimit'
  | 'trpc'
  | 'legacy'
  | 'durable'
  | 'postgresTrpc'
  | 'postgresLegacy';
export type MemoryKey = 'baseline' | 'trpc' | 'trpcConnectionOnly' | 'legacy';

export interface TargetResult {
  target: string;
  measured: string;
  /** null: not measured in this run. */
  pass: boolean | null;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  seconds: number;
  quick: boolean;
  machine: {
    cpus: number;
    model: string;
    node: string;
    memoryMiB: number;
    loadAverage: number[];
    /** fdatasync of 4 KiB in the temp folder, before the run: what a durable commit waits for. */
    fsync: { p50Ms: number; p99Ms: number; maxMs: number };
  };
  options: Record<string, unknown>;
  /** The code measured: git HEAD, whether the tree had changes, and each server process's build. */
  code: {
    commit: string;
    dirty: boolean;
    servers: Array<{ name: string; build: string; startedAt: string }>;
  };
  fanout: Partial<Record<FanoutKey, FanoutResult>>;
  /** The fan-outs that ratio targets compare, measured again after round 1 (`fanout`): rounds 2, 3, … */
  rounds?: Round[];
  memory: Partial<Record<MemoryKey, MemoryResult>>;
  history: Partial<Record<'sqlite' | 'postgres', HistoryResult>>;
  storm?: StormResult;
  startup?: StartupResult;
  targets: TargetResult[];
  errors: Array<{ scenario: string; message: string }>;
  /** Wall time of each part of the run (the build, each scenario; nested parts count in their parent too), seconds. */
  phaseSeconds: Record<string, number>;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : integer.format(value);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** How much of the server's CPU per message its event loop took (results from before it was measured have none). */
function eventLoopShare(step: StepResult): string {
  if (step.eventLoopCpu === undefined || step.serverCpu <= 0) return '';
  return ` (event loop ${integer.format((step.serverCpuPerMessageUs * step.eventLoopCpu) / step.serverCpu)})`;
}

function stepText(step: StepResult): string {
  return (
    `p50 ${ms(step.latency.p50Ms)} ms, p99 ${ms(step.latency.p99Ms)} ms; ` +
    `server ${step.serverCpu.toFixed(2)} core, ${integer.format(step.serverCpuPerMessageUs)} µs cpu/msg` +
    eventLoopShare(step) +
    (step.databaseCpu > 0 ? `, postgres ${step.databaseCpu.toFixed(2)} core` : '') +
    `; load generator ${step.clientCpu.toFixed(2)} core`
  );
}

/**
 * The stalls a fan-out reports: at the max rate and in the profiled step or,
 * when no rate held, in the step at the lowest rate tried.
 */
function stalls(result: FanoutResult): Array<LoopStalls & { where: string }> {
  const lowest = result.steps.reduce<StepResult | undefined>(
    (low, step) => (low && low.rate <= step.rate ? low : step),
    undefined,
  );
  const steps: Array<[StepResult | null | undefined, string]> = result.atMax
    ? [
        [result.atMax, 'at max'],
        [result.profiled, 'at 80 %'],
      ]
    : [[lowest, `at ${integer.format(lowest?.rate ?? 0)} msg/s`]];
  return steps.flatMap(([step, where]) => (step?.stalls === undefined ? [] : [{ ...step.stalls, where }]));
}

function stallText(result: FanoutResult): string {
  const found = stalls(result);
  return found.length > 0
    ? `; longest stall ${found.map((s) => `${s.where} ${describeStalls(s)}`).join('; ')}`
    : '';
}

function fanoutText(result: FanoutResult): string {
  if (!result.atMax) {
    const lowest = Math.min(...result.steps.map((s) => s.rate));
    return `no rate held (lowest tried ${integer.format(lowest)} msg/s)${stallText(result)}`;
  }
  const deliveries = result.atMax.expected / (result.atMax.durationMs / 1000);
  return `max ${integer.format(result.maxRate)} msg/s (${integer.format(deliveries)} deliveries/s); ${stepText(result.atMax)}${stallText(result)}`;
}

/**
 * The longest the real server's own work may hold its event loop in a fan-out, at the max rate
 * or at 80 % of it: the longest stall counting only the time the main thread ran (LoopStalls).
 */
const STALL_BOUND_MS = 20;

/** The real server's fan-outs (the others are the reference servers). */
const SERVER_FANOUTS = ['trpc', 'legacy', 'durable', 'postgresTrpc', 'postgresLegacy'] as const;

/** Every round's result for `key` beside its reference's, where both were measured: round 1 first. */
function pairs(
  results: BenchResults,
  key: RoundKey,
  reference: RoundKey,
): Array<{ round: number; mine: FanoutResult; theirs: FanoutResult }> {
  return [results.fanout, ...(results.rounds ?? [])].flatMap((round, i) => {
    const mine = round[key];
    const theirs = round[reference];
    return mine && theirs ? [{ round: i + 1, mine, theirs }] : [];
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * A ratio target judged on the median of the rounds' ratios (one ratio a round, of servers measured
 * minutes apart); with one round, on that round's. The text names each round's ratio and figures.
 */
function roundsTarget(
  target: string,
  measured: Array<{ round: number; ratio: number; figures: string }>,
  pass: (ratio: number) => boolean,
): TargetResult {
  if (measured.length === 0) return { target, measured: 'not measured', pass: null };
  const middle = median(measured.map((m) => m.ratio));
  const each = measured.map((m) => `${ratio(m.ratio)} (${m.figures})`).join('; ');
  return {
    target,
    measured: measured.length === 1 ? each : `median ${ratio(middle)} of ${measured.length} rounds: ${each}`,
    pass: pass(middle),
  };
}

/** Target: the max rate of `key` at least `min` × the reference's. */
function rateTarget(
  target: string,
  results: BenchResults,
  key: RoundKey,
  reference: RoundKey,
  min: number,
): TargetResult {
  const measured = pairs(results, key, reference)
    .filter(({ theirs }) => theirs.maxRate > 0)
    .map(({ round, mine, theirs }) => ({
      round,
      ratio: mine.maxRate / theirs.maxRate,
      figures: `${integer.format(mine.maxRate)} vs ${integer.format(theirs.maxRate)} msg/s`,
    }));
  return roundsTarget(target, measured, (share) => share >= min);
}

/** Target: the server CPU per message of `key` at most `max` × the reference's, each at its own max rate. */
function cpuTarget(
  target: string,
  results: BenchResults,
  key: RoundKey,
  reference: RoundKey,
  max: number,
): TargetResult {
  const measured = pairs(results, key, reference)
    .filter(({ theirs }) => (theirs.atMax?.serverCpuPerMessageUs ?? 0) > 0)
    .map(({ round, mine, theirs }) => {
      const own = mine.atMax?.serverCpuPerMessageUs ?? Number.POSITIVE_INFINITY;
      const other = theirs.atMax!.serverCpuPerMessageUs;
      return {
        round,
        ratio: own / other,
        figures: mine.atMax ? `${integer.format(own)} vs ${integer.format(other)} µs` : 'no rate held',
      };
    });
  return roundsTarget(target, measured, (share) => share <= max);
}

export function evaluateTargets(results: BenchResults): TargetResult[] {
  const { fanout, memory, history } = results;
  const { baseline, durableLimit } = fanout;
  const targets: TargetResult[] = [
    rateTarget('tRPC max rate ≥ 0.5 × baseline', results, 'trpc', 'baseline', 0.5),
    rateTarget('legacy /ws max rate ≥ 0.6 × baseline', results, 'legacy', 'baseline', 0.6),
    rateTarget('tRPC max rate ≥ 0.7 × durable limit', results, 'trpc', 'durableLimit', 0.7),
    cpuTarget('tRPC server cpu/msg ≤ 2 × durable limit', results, 'trpc', 'durableLimit', 2),
  ];
  // [3/6]: the JS heap an idle socket keeps (RSS per socket moves with the process's own
  // reading by more than a socket's worth from run to run; it is shown, not judged).
  for (const [key, name, max] of [
    ['trpc', 'subscribed tRPC idle socket heap ≤ 3 × baseline', 3],
    ['legacy', 'legacy /ws idle socket heap ≤ 2 × baseline', 2],
  ] as const) {
    const r = memory[key];
    const b = memory.baseline;
    if (!r || !b || b.heapPerSocket <= 0)
      targets.push({ target: name, measured: 'not measured', pass: null });
    else
      targets.push({
        target: name,
        measured:
          `heap ${ratio(r.heapPerSocket / b.heapPerSocket)} (${kib(r.heapPerSocket)} vs ${kib(b.heapPerSocket)}); ` +
          `RSS ${ratio(r.rssPerSocket / Math.max(1, b.rssPerSocket))} (${kib(r.rssPerSocket)} vs ${kib(b.rssPerSocket)})`,
        pass: r.heapPerSocket <= max * b.heapPerSocket,
      });
  }
  const connectReference = durableLimit ?? baseline;
  for (const key of ['trpc', 'legacy'] as const) {
    const name = `connecting a ${key === 'trpc' ? 'subscribed tRPC' : 'legacy /ws'} socket: server CPU ≤ 2 × ${durableLimit ? 'durable limit' : 'baseline'}`;
    const mine = fanout[key]?.connect;
    const theirs = connectReference?.connect;
    if (!mine || !theirs || theirs.serverCpuSeconds <= 0) {
      targets.push({ target: name, measured: 'not measured', pass: null });
      continue;
    }
    const perSocket = (c: typeof mine) => (1000 * c.serverCpuSeconds) / c.sockets;
    targets.push({
      target: name,
      measured: `${ratio(perSocket(mine) / perSocket(theirs))} (${perSocket(mine).toFixed(2)} vs ${perSocket(theirs).toFixed(2)} ms)`,
      pass: perSocket(mine) <= 2 * perSocket(theirs),
    });
  }
  // [3/6]: delivery p99 at half the max rate, read off the fastest step at or under half of it.
  const trpc = fanout.trpc;
  const half = trpc?.atMax
    ? trpc.steps.filter((step) => step.rate <= trpc.maxRate / 2).sort((a, b) => b.rate - a.rate)[0]
    : undefined;
  targets.push({
    target: 'tRPC delivery p99 ≤ 25 ms at half the max rate',
    measured: half
      ? `${ms(half.latency.p99Ms)} ms at ${integer.format(half.rate)} msg/s (max ${integer.format(trpc!.maxRate)})`
      : 'not measured',
    pass: half ? half.latency.p99Ms <= 25 && half.lost === 0 : null,
  });
  for (const database of ['sqlite', 'postgres'] as const) {
    const h = history[database];
    if (!h) {
      if (database === 'sqlite')
        targets.push({
          target: 'history page server p99 ≤ 5 ms (SQLite)',
          measured: 'not measured',
          pass: null,
        });
      continue;
    }
    const worst = Math.max(h.latest.server.p99Ms, h.deep.server.p99Ms);
    targets.push({
      target: `history page server p99 ≤ 5 ms (${database === 'sqlite' ? 'SQLite' : 'PostgreSQL'})`,
      measured: `latest ${ms(h.latest.server.p99Ms)} ms, deep ${ms(h.deep.server.p99Ms)} ms (Server-Timing)`,
      pass: worst <= 5,
    });
  }
  const storm = results.storm;
  targets.push({
    target: 'logins ≥ 0.8 × raw argon2 verify, delivery p99 ≤ 100 ms during the storm',
    measured: storm
      ? `${ratio(storm.loginRatio)} (${storm.logins.perSecond.toFixed(1)} vs ${storm.rawVerify.perSecond.toFixed(1)}/s at concurrency ${storm.rawVerify.concurrency}); ` +
        `delivery p99 ${ms(storm.storm.latency.p99Ms)} ms`
      : 'not measured',
    // A step passes with p99 ≤ 100 ms and nothing lost.
    pass: storm ? storm.loginRatio >= 0.8 && storm.storm.pass : null,
  });
  const durable = fanout.durable;
  targets.push({
    target: 'durable writes (SQLITE_SYNCHRONOUS=FULL) ≥ 3,000 msg/s',
    measured: durable ? `${integer.format(durable.maxRate)} msg/s` : 'not measured',
    pass: durable ? durable.maxRate >= 3000 : null,
  });
  targets.push(
    rateTarget(
      'legacy, SQLite FULL: max rate ≥ 0.8 × durable limit',
      results,
      'durable',
      'durableLimit',
      0.8,
    ),
    cpuTarget(
      'legacy, SQLite FULL: server cpu/msg ≤ 1.5 × durable limit',
      results,
      'durable',
      'durableLimit',
      1.5,
    ),
  );
  const longest: Array<{ label: string; onCpuMs: number; wallMs: number }> = [];
  for (const r of SERVER_FANOUTS.map((key) => fanout[key])) {
    const found = r ? stalls(r) : [];
    if (r && found.length > 0)
      longest.push({
        label: r.label,
        onCpuMs: Math.max(...found.map((s) => s.longestOnCpuMs)),
        wallMs: Math.max(...found.map((s) => s.longestMs)),
      });
  }
  targets.push({
    target: `longest event-loop stall on CPU ≤ ${STALL_BOUND_MS} ms in a fan-out (at the max rate and at 80 %; in brackets the longest stall, waits for a core included)`,
    measured:
      longest.length > 0
        ? longest.map((s) => `${s.label} ${ms(s.onCpuMs)} ms (${ms(s.wallMs)})`).join(', ')
        : 'not measured',
    pass: longest.length > 0 ? longest.every((s) => s.onCpuMs <= STALL_BOUND_MS) : null,
  });
  targets.push(startupTarget(results.startup));
  return targets;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Rows may leave their last cells out.
  const line = (cells: string[]) =>
    `| ${header.map((_, i) => (cells[i] ?? '').padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function profileText(label: string, profile: ProfileSummary): string {
  const list = (entries: ProfileSummary['byArea'], n: number, withLocation: boolean) =>
    entries
      .slice(0, n)
      .map((e) => `${e.name}${withLocation && e.location ? ` (${e.location})` : ''} ${e.percent.toFixed(1)}%`)
      .join(', ');
  return [
    `  ${label} — busy ${profile.busyPercent.toFixed(0)}% of ${(profile.durationMs / 1000).toFixed(1)} s`,
    `    by area:      ${list(profile.byArea, 10, false)}`,
    `    self:         ${list(profile.topSelf, 10, true)}`,
    ...(profile.topInclusive.length > 0 ? [`    inclusive:    ${list(profile.topInclusive, 8, true)}`] : []),
    `    longest busy stretches (the event loop blocked): ${profile.longestTasks
      .map((t) => `${ms(t.ms)} ms mostly in ${t.mostlyIn}`)
      .join('; ')}`,
  ].join('\n');
}

const FANOUT_LABELS: Record<FanoutKey, string> = {
  baseline: 'fan-out, baseline (ws, no auth, no db)',
  durableLimit: 'fan-out, durable limit (baseline + SQLite FULL writer thread)',
  trpc: '(a) fan-out, tRPC subscriptions, SQLite',
  legacy: '(b) fan-out, legacy /ws, SQLite',
  durable: 'fan-out, legacy /ws, SQLite synchronous=FULL',
  postgresTrpc: '(f) fan-out, tRPC subscriptions, PostgreSQL',
  postgresLegacy: '(f) fan-out, legacy /ws, PostgreSQL',
};

const MEMORY_LABELS: Record<MemoryKey, string> = {
  baseline: '(c) idle socket memory, baseline',
  trpc: '(c) idle socket memory, tRPC + events.stream',
  trpcConnectionOnly: '(c) idle socket memory, tRPC, no subscription',
  legacy: '(c) idle socket memory, legacy /ws',
};

/** A fan-out's max rate and server CPU per message (each at its own max rate) as ratios to a reference's. */
function versus(r: FanoutResult, reference: FanoutResult | undefined): string {
  if (!reference || reference === r || reference.maxRate <= 0) return '';
  const cpu =
    r.atMax && reference.atMax && reference.atMax.serverCpuPerMessageUs > 0
      ? `, cpu/msg ${ratio(r.atMax.serverCpuPerMessageUs / reference.atMax.serverCpuPerMessageUs)}`
      : '';
  return `rate ${ratio(r.maxRate / reference.maxRate)}${cpu}`;
}

/** The human-readable report: one table of figures, the targets, and where the CPU went. */
export function renderReport(results: BenchResults): string {
  const rows: string[][] = [];
  const base = results.fanout.baseline;
  const limit = results.fanout.durableLimit;
  for (const key of Object.keys(FANOUT_LABELS) as FanoutKey[]) {
    const r = results.fanout[key];
    if (!r) continue;
    rows.push([
      FANOUT_LABELS[key],
      fanoutText(r),
      versus(r, base),
      key === 'baseline' ? '' : versus(r, limit),
    ]);
  }
  for (const key of Object.keys(FANOUT_LABELS) as FanoutKey[]) {
    const c = results.fanout[key]?.connect;
    if (!c) continue;
    const first = results.fanout[key]?.firstConnect;
    const baseCost = base?.connect.serverCpuSeconds ?? 0;
    rows.push([
      `connecting, ${FANOUT_LABELS[key].replace(/^\([a-z]\) /, '')}`,
      `${c.sockets} sockets ready in ${c.seconds.toFixed(1)} s, server busy ${c.aftermathSeconds.toFixed(1)} s more; ` +
        `${c.serverCpuSeconds.toFixed(1)} s server CPU (${((1000 * c.serverCpuSeconds) / c.sockets).toFixed(2)} ms/socket)` +
        (first
          ? `; the process's first ${first.sockets} (warm-up): ${((1000 * first.serverCpuSeconds) / first.sockets).toFixed(2)} ms/socket`
          : ''),
      key !== 'baseline' && baseCost > 0 ? ratio(c.serverCpuSeconds / baseCost) : '',
    ]);
  }
  const memBase = results.memory.baseline;
  for (const key of Object.keys(MEMORY_LABELS) as MemoryKey[]) {
    const r = results.memory[key];
    if (!r) continue;
    const vs =
      key !== 'baseline' && memBase && memBase.rssPerSocket > 0
        ? ratio(r.rssPerSocket / memBase.rssPerSocket)
        : '';
    rows.push([
      MEMORY_LABELS[key],
      `${kib(r.rssPerSocket)} RSS/socket (heapUsed ${kib(r.heapPerSocket)}, heapTotal ${kib(r.heapTotalPerSocket)}, external ${kib(r.externalPerSocket)}; ${r.sockets} sockets)`,
      vs,
    ]);
  }
  for (const database of ['sqlite', 'postgres'] as const) {
    const h = results.history[database];
    if (!h) continue;
    const name = database === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    for (const [label, page] of [
      ['latest page', h.latest],
      ['deep page (before=N/2)', h.deep],
    ] as const) {
      rows.push([
        `(d) history ${label}, ${integer.format(h.messages)} msgs, ${name}`,
        `server p50 ${ms(page.server.p50Ms)} ms, p99 ${ms(page.server.p99Ms)} ms, ${integer.format(page.serverCpuUs)} µs cpu/request` +
          `${page.databaseCpuUs > 0 ? ` (postgres ${integer.format(page.databaseCpuUs)} µs)` : ''}; client p50 ${ms(page.client.p50Ms)} ms, p99 ${ms(page.client.p99Ms)} ms; ` +
          `query alone p50 ${ms(page.query.p50Ms)} ms, p99 ${ms(page.query.p99Ms)} ms; /health server p99 ${ms(h.health.server.p99Ms)} ms, client p99 ${ms(h.health.client.p99Ms)} ms`,
        '',
      ]);
    }
  }
  const storm = results.storm;
  if (storm) {
    rows.push([
      `(e) login storm, tRPC at ${integer.format(storm.rate)} msg/s`,
      `delivery p99 ${ms(storm.quiet.latency.p99Ms)} ms quiet → ${ms(storm.storm.latency.p99Ms)} ms during ` +
        `${storm.logins.perSecond.toFixed(1)} logins/s (${storm.concurrency} concurrent, login p99 ${ms(storm.logins.latency.p99Ms)} ms; ` +
        `argon2id verify alone ${storm.rawVerify.perSecond.toFixed(1)}/s at concurrency ${storm.rawVerify.concurrency}: ${ratio(storm.loginRatio)})` +
        `${storm.storm.lost > 0 ? `, ${storm.storm.lost} lost` : ''}`,
      '',
    ]);
  }

  if (results.startup) rows.push(startupRow(results.startup));

  const out: string[] = [];
  out.push(
    `Pneumatic bench — ${results.quick ? 'quick' : 'full'} run, ${results.machine.cpus} cores (${results.machine.model}), Node ${results.machine.node}, ${results.seconds.toFixed(0)} s, ` +
      `code ${results.code.commit.slice(0, 10)}${results.code.dirty ? ' + uncommitted changes' : ''}, ` +
      `fsync p50 ${ms(results.machine.fsync.p50Ms)} ms / p99 ${ms(results.machine.fsync.p99Ms)} ms, ` +
      `tRPC load: ${results.options.trpcClient === 'stock' ? 'stock @trpc/client' : "tRPC's frames written directly"}`,
    '',
    table(['scenario', 'result', 'vs baseline', 'vs durable limit'], rows),
    '',
    table(
      ['target', 'measured', 'status'],
      results.targets.map((t) => [t.target, t.measured, t.pass === null ? 'n/a' : t.pass ? 'PASS' : 'FAIL']),
    ),
  );
  const rounds = [results.fanout, ...(results.rounds ?? [])];
  if (rounds.length > 1) {
    const keys = ROUND_KEYS.filter((key) => rounds.some((round) => round[key]));
    out.push(
      '',
      'Max rate (server µs cpu/msg at it) in each round; rounds 2, 3, … each server a fresh process, alternately in reverse order:',
      '',
      table(
        ['round', ...keys.map((key) => FANOUT_LABELS[key].replace(/^(\([a-z]\) )?fan-out, /, ''))],
        rounds.map((round, i) => [
          String(i + 1),
          ...keys.map((key) => {
            const r = round[key];
            if (!r) return '';
            return r.atMax
              ? `${integer.format(r.maxRate)} (${integer.format(r.atMax.serverCpuPerMessageUs)} µs)`
              : 'no rate held';
          }),
        ]),
      ),
    );
  }
  const profiles = (Object.keys(FANOUT_LABELS) as FanoutKey[]).filter((k) => results.fanout[k]?.profile);
  if (profiles.length > 0) {
    out.push('', "Where the server's CPU went (profile at 80 % of each max rate; percentages of busy time):");
    for (const key of profiles) {
      const r = results.fanout[key]!;
      out.push(
        profileText(
          `${FANOUT_LABELS[key]} at ${integer.format(Math.round(r.maxRate * 0.8))} msg/s`,
          r.profile!,
        ),
      );
    }
  }
  const grown = (Object.keys(MEMORY_LABELS) as MemoryKey[]).filter((k) => results.memory[k]?.heapGrowth);
  if (grown.length > 0) {
    out.push('', 'What an idle socket keeps on the JS heap (heap snapshot difference, per socket):');
    for (const key of grown) {
      const growth = results.memory[key]!.heapGrowth!;
      out.push(
        `  ${MEMORY_LABELS[key]}: ${growth
          .slice(0, 12)
          .map((g) => `${g.name} ${g.countPerSocket.toFixed(1)}× ${(g.bytesPerSocket / 1024).toFixed(2)} KiB`)
          .join(', ')}`,
      );
    }
  }
  const steps = [results.fanout, ...(results.rounds ?? [])].flatMap((round) =>
    Object.values(round).flatMap((r) => r?.steps ?? []),
  );
  const busy = steps.filter((s) => s.otherCpu > 0.3).length;
  const disk = steps.filter((s) => s.ioWait > 0.1).length;
  if (busy > 0 || disk > 0)
    out.push(
      '',
      `Note: of ${steps.length} steps, ${busy} ran while other processes used > 0.3 core and ${disk} while the disk ` +
        'kept > 0.1 core waiting; figures from a busy machine are pessimistic (see each step in the JSON).',
    );
  const references: readonly string[] = Object.values(REFERENCE_SERVERS);
  const builds = new Set(
    results.code.servers.filter((s) => !references.includes(s.name)).map((s) => s.build),
  );
  if (builds.size > 1)
    out.push(
      '',
      `Note: the server was rebuilt during the run (${builds.size} builds measured); see code.servers in the JSON.`,
    );
  if (results.errors.length > 0) {
    out.push('', 'Errors:');
    for (const e of results.errors) out.push(`  ${e.scenario}: ${e.message}`);
  }
  return `${out.join('\n')}\n`;
}
