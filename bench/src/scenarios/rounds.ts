import type { Transport } from '../load/protocol.ts';
import type { BenchOptions } from '../options.ts';
import type { ServerProcess } from '../processes.ts';
import type { ConversationSpec } from '../setup.ts';
import { log } from '../util.ts';
import { type FanoutResult, runFanout } from './fanout.ts';

/**
 * The fan-outs whose max rates the ratio targets compare. One max-rate
 * search moves by a fifth from one run to the next on these shared machines
 * (the durable limit's own: 7,402–11,417 msg/s in one day, docs/benchmarks.md),
 * so one search a server cannot tell 0.65× from 0.75×. A full run measures
 * them again in further rounds, each server a fresh process, alternately in
 * reverse order so that a machine slowing down or speeding up through the run
 * favours none of them; the ratio targets take the median of the rounds'
 * ratios (report.ts), each round's servers measured minutes apart.
 */
export const ROUND_KEYS = ['baseline', 'durableLimit', 'trpc', 'legacy', 'durable'] as const;
export type RoundKey = (typeof ROUND_KEYS)[number];
export type Round = Partial<Record<RoundKey, FanoutResult>>;

const ROUND_FANOUTS: Record<RoundKey, { label: string; transport: Transport }> = {
  baseline: { label: 'baseline', transport: 'legacy' },
  durableLimit: { label: 'durable limit', transport: 'legacy' },
  trpc: { label: 'tRPC (SQLite)', transport: 'trpc' },
  legacy: { label: 'legacy (SQLite)', transport: 'legacy' },
  durable: { label: 'legacy (SQLite, synchronous=FULL)', transport: 'legacy' },
};

/** A server of one of the round's kinds, freshly started, with its population; `close` stops it. */
export interface RoundServer {
  server: ServerProcess;
  population: ConversationSpec[];
  close(): Promise<void>;
}

/**
 * Rounds 2..`bench.rounds` of the fan-outs measured in round 1 (`first`),
 * without profiles. Each search starts at 0.8 × that server's last max (its
 * doubling and bisections bracket the max within ×1.09, as round 1's do).
 * A server that fails in a round is left out of that round.
 */
export async function runRounds(options: {
  bench: BenchOptions;
  first: Round;
  open(key: RoundKey): Promise<RoundServer>;
  attempt(scenario: string, work: () => Promise<void>): Promise<void>;
}): Promise<Round[]> {
  const { bench, first } = options;
  const keys = ROUND_KEYS.filter((key) => first[key]);
  const rounds: Round[] = [];
  let last: Round = first;
  for (let n = 2; n <= bench.rounds; n++) {
    const round: Round = {};
    const order = n % 2 === 0 ? [...keys].reverse() : keys;
    log(`round ${n} of ${bench.rounds}: ${order.join(', ')}`);
    for (const key of order)
      await options.attempt(`round ${n} ${key}`, async () => {
        // A server that held no rate at all where it held thousands a round before did not serve
        // (seen once: a fresh baseline process that took no CPU from its first step on): one more
        // fresh process.
        for (let tries = 1; ; tries++) {
          const { server, population, close } = await options.open(key);
          try {
            round[key] = await runFanout({
              label: `${ROUND_FANOUTS[key].label}, round ${n}${tries > 1 ? `, try ${tries}` : ''}`,
              key: `${key}-round-${n}`,
              server,
              transport: ROUND_FANOUTS[key].transport,
              population,
              bench: { ...bench, profile: false },
              startRate: Math.max(400, Math.round(0.8 * (last[key]?.maxRate || first[key]?.maxRate || 500))),
            });
          } finally {
            await close();
          }
          if (round[key].atMax || tries === 2) break;
          log(`${ROUND_FANOUTS[key].label}, round ${n}: no rate held; once more in a fresh process`);
        }
      });
    rounds.push(round);
    last = { ...last, ...round };
  }
  return rounds;
}
