import { join } from 'node:path';
import { BENCH_DIR } from './util.ts';

export const SCENARIOS = [
  'baseline',
  'durable-limit',
  'trpc',
  'legacy',
  'memory',
  'history',
  'storm',
  'durable',
  'postgres',
  'startup',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const SCENARIO_HELP: Record<Scenario, string> = {
  baseline: 'fan-out on the baseline server (plain ws, no auth, no database): the reference for ratios',
  'durable-limit':
    'fan-out on the baseline committing each message first (SQLite, synchronous=FULL, writer thread): the durable reference',
  trpc: '(a) fan-out over tRPC subscriptions on SQLite: max rate, p50/p99',
  legacy: '(b) fan-out over legacy /ws on SQLite: max rate, p50/p99',
  memory: '(c) memory per idle authenticated socket: tRPC, legacy, baseline',
  history: '(d) history pages of a 1,000,000-message conversation (SQLite; PostgreSQL too with `postgres`)',
  storm: '(e) delivery p99 while 50 logins run concurrently, again and again',
  durable: 'fan-out over legacy /ws with SQLITE_SYNCHRONOUS=FULL',
  postgres: '(f) fan-out over tRPC and legacy /ws on PostgreSQL (and history, when `history` runs)',
  startup: 'time from `node dist/main.js` to the first 200 from /ready, SQLite, new and existing database',
};

export interface BenchOptions {
  quick: boolean;
  scenarios: Set<Scenario>;
  /** Length of one fixed-rate step, ms. */
  stepMs: number;
  /** Load generator processes. */
  workers: number;
  profile: boolean;
  /** Heap snapshots before and after the idle sockets open: what each socket keeps, by constructor. */
  heapSnapshots: boolean;
  conversations: number;
  members: number;
  historyMessages: number;
  /** Message rate while logins storm; by default half the tRPC max, at most 500 msg/s. */
  stormRate: number | undefined;
  out: string;
  /** Before each measured step, wait up to this long for other processes to leave the CPU. */
  quietWaitMs: number;
  /** How tRPC load sockets talk: tRPC's frames written and scanned directly, or the stock @trpc/client. */
  trpcClient: 'wire' | 'stock';
  /**
   * How many times the fan-outs that ratio targets compare are measured (src/scenarios/rounds.ts):
   * round 1 with everything else, the others max rates alone.
   */
  rounds: number;
  /** Epoch ms after which searches stop retrying and refining, to keep the run inside its budget. */
  softDeadline: number;
}

const USAGE = `Usage: pnpm bench [options]

Options:
  --only <a,b,...>   run only these scenarios (${SCENARIOS.join(', ')})
  --quick            a short smoke run (< 60 s): small population, few short steps
  --duration <s>     seconds per fixed-rate step (default 6, quick 1)
  --workers <n>      load generator processes (default 2)
  --profile          record a CPU profile of the server at 80 % of each max rate (default on, off in --quick)
  --no-profile       do not profile
  --heap             memory scenario: diff heap snapshots to show what a socket keeps (slow)
  --storm-rate <n>   messages/s during the login storm
  --rounds <n>       measure the fan-outs that ratio targets compare n times, alternately in reverse
                     order; the targets take the median ratio (default 3, quick 1)
  --quiet-wait <s>   before each step, wait up to this long for other processes to go quiet
                     (for shared machines; at most 4 min in all; default 0: measure right away)
  --trpc-client <c>  wire (default): the load speaks tRPC's frames itself; stock: @trpc/client's wsLink
                     (about five times the load generator's CPU per delivery, taken from the server on 2 cores)
  --out <file>       JSON results (default bench/results/latest.json)
  -h, --help         this text

Scenarios:
${SCENARIOS.map((s) => `  ${s.padEnd(13)} ${SCENARIO_HELP[s]}`).join('\n')}`;

export class UsageError extends Error {}

export function parseOptions(argv: string[]): BenchOptions | 'help' {
  let quick = false;
  let only: string | undefined;
  let duration: number | undefined;
  let workers = 2;
  let profile: boolean | undefined;
  let heapSnapshots = false;
  let stormRate: number | undefined;
  let rounds: number | undefined;
  let quietWait = 0;
  let trpcClient: 'wire' | 'stock' = 'wire';
  let out = join(BENCH_DIR, 'results', 'latest.json');
  const number = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n <= 0)
      throw new UsageError(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=')
      ? (arg.split(/=(.*)/s, 2) as [string, string])
      : [arg, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--':
        break;
      case '-h':
      case '--help':
        return 'help';
      case '--quick':
        quick = true;
        break;
      case '--only':
        only = value();
        break;
      case '--duration':
        duration = number(flag, value());
        break;
      case '--workers':
        workers = Math.round(number(flag, value()));
        break;
      case '--profile':
        profile = true;
        break;
      case '--no-profile':
        profile = false;
        break;
      case '--heap':
        heapSnapshots = true;
        break;
      case '--quiet-wait':
        quietWait = number(flag, value());
        break;
      case '--rounds':
        rounds = Math.round(number(flag, value()));
        break;
      case '--storm-rate':
        stormRate = number(flag, value());
        break;
      case '--trpc-client': {
        const client = value();
        if (client !== 'wire' && client !== 'stock') throw new UsageError('--trpc-client is wire or stock');
        trpcClient = client;
        break;
      }
      case '--out':
        out = value() ?? out;
        break;
      default:
        throw new UsageError(`unknown option ${arg}\n\n${USAGE}`);
    }
  }
  const scenarios = new Set<Scenario>();
  for (const name of only
    ? only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : SCENARIOS) {
    if (!(SCENARIOS as readonly string[]).includes(name))
      throw new UsageError(`unknown scenario ${name}; choose from ${SCENARIOS.join(', ')}`);
    scenarios.add(name as Scenario);
  }
  const roundCount = rounds ?? (quick ? 1 : 3);
  return {
    quick,
    scenarios,
    stepMs: (duration ?? (quick ? 1 : 6)) * 1000,
    workers,
    profile: profile ?? !quick,
    heapSnapshots,
    conversations: quick ? 10 : 200,
    members: 5,
    historyMessages: quick ? 50_000 : 1_000_000,
    stormRate,
    quietWaitMs: quietWait * 1000,
    trpcClient,
    out,
    rounds: roundCount,
    // A round after the first takes about 5 minutes.
    softDeadline: Date.now() + (quick ? 45 : (9 + 5 * (roundCount - 1)) * 60) * 1000,
  };
}

export function usage(): string {
  return USAGE;
}
