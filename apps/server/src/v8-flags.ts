import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings the server runs with, set before any of its code runs; each
 * one measured (docs/benchmarks.md, fifteenth session). A flag given on
 * node's command line wins over the one here.
 */
export const V8_FLAGS: Readonly<Record<string, string | boolean>> = {
  /**
   * V8 optimizes a function after it has run through its interrupt budget
   * (bytes of bytecode executed) a few times. With the default (66 KiB) a
   * fresh process runs its connect path unoptimized for its first 1,500 or
   * so sockets: after a deploy, when every client reconnects at once, each
   * costs about three times what it costs later. A quarter of the budget
   * reaches optimized code after about 500 sockets, for the same total
   * compile work, and changes nothing once warm.
   */
  'interrupt-budget': String(16 * 1024),
  /**
   * Allocation-site pretenuring puts objects from sites whose objects
   * survived a young collection straight into the old generation. A
   * database driver's result rows trip it (they live across a query's
   * await), and from then on every row of every page is old-generation
   * garbage: young collections went from 1.2–1.6 to 7–10 ms (old objects
   * pointing at young strings), full collections every few seconds, history
   * pages on PostgreSQL 1,650–2,200 µs of CPU against 860 without it.
   */
  'allocation-site-pretenuring': false,
};

const given = (name: string) =>
  process.execArgv.some(
    (flag) => flag === `--${name}` || flag === `--no-${name}` || flag.startsWith(`--${name}=`),
  );

for (const [name, value] of Object.entries(V8_FLAGS)) {
  if (given(name)) continue;
  setFlagsFromString(value === false ? `--no-${name}` : value === true ? `--${name}` : `--${name}=${value}`);
}
