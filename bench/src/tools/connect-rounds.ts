/**
 * Rounds of opening (and closing) every socket of the population on one
 * server process, each round's server CPU per socket by thread: how the
 * connect path's cost falls as V8 compiles it, which the bench (one round,
 * after a warm-up of half the sockets) shows only a point of. Not part of
 * `pnpm bench`. With `bench`, the real server is restarted after the
 * population is made and the first round opens half of it, as `pnpm bench`
 * does: the rounds after it are the bench's connect figure and its sequels.
 *
 * With `calls=N`, round N also counts the JavaScript calls a socket made
 * (call-counts.ts; counting slows that round's CPU figures).
 *
 *   tsx src/tools/connect-rounds.ts <legacy|trpc|durable-limit> [rounds, 4] [bench] [calls=N]
 */
import { LoadGenerator } from '../load/driver.ts';
import { createPopulation } from '../setup.ts';
import { sleep } from '../util.ts';
import { countedCalls, startCounting } from './call-counts.ts';
import { isKind, startServer, threadCpuPer } from './shared.ts';

const [kind, roundsArg = '4', ...modes] = process.argv.slice(2);
const rounds = Number(roundsArg);
const asBench = modes.includes('bench');
const countIn = Number(/^calls=(\d+)$/.exec(modes.find((mode) => mode.startsWith('calls=')) ?? '')?.[1] ?? 0);
if (
  !isKind(kind) ||
  !Number.isInteger(rounds) ||
  rounds < 1 ||
  modes.some((mode) => mode !== 'bench' && !/^calls=\d+$/.test(mode)) ||
  (asBench && kind === 'durable-limit')
) {
  process.stderr.write(
    'usage: tsx src/tools/connect-rounds.ts <legacy|trpc|durable-limit> [rounds] [bench (not durable-limit: its population lives in its process)] [calls=N]\n',
  );
  process.exit(2);
}

const tool = await startServer(kind);
try {
  const population = await createPopulation(tool.server.url, { conversations: 200, members: 5 });
  const server = asBench ? await tool.restart() : tool.server;
  const transport = kind === 'trpc' ? ('trpc' as const) : ('legacy' as const);
  for (let round = 1; round <= rounds; round++) {
    const conversations = asBench && round === 1 ? population.slice(0, population.length / 2) : population;
    if (round === countIn) await startCounting(server.inspector);
    const before = server.threadCpuSeconds();
    const generator = await LoadGenerator.connect({ server, transport, conversations, workers: 2 });
    const after = server.threadCpuSeconds();
    if (round === countIn)
      process.stdout.write(
        `${kind} round ${round}: ${await countedCalls(server.inspector, generator.sockets)}\n`,
      );
    const total = [...after].reduce((sum, [tid, seconds]) => sum + seconds - (before.get(tid) ?? 0), 0);
    process.stdout.write(
      `${kind} round ${round}: ${generator.sockets} sockets, ${((total * 1000) / generator.sockets).toFixed(2)} ms of server CPU a socket; ` +
        `µs a socket by thread: ${threadCpuPer(server, before, after, generator.sockets)}\n`,
    );
    await generator.close();
    // Users go offline after the presence grace: let that pass before the next round.
    await sleep(server.presenceGraceMs + 1000);
  }
} finally {
  await tool.stop();
}
