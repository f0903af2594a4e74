import { setFlagsFromString } from 'node:v8';

/**
 * V8 optimizes a function after it has run through its "interrupt budget"
 * (bytes of bytecode executed) a few times. With the default (66 KiB), a
 * fresh process runs its connect path unoptimized for its first 1,500 or so
 * sockets: after a deploy, when every client reconnects at once, each of
 * them costs about three times what it costs later. A quarter of the budget
 * reaches optimized code after about 500 sockets for the same total compile
 * work, and changes nothing once warm (docs/benchmarks.md, fifteenth
 * session). A budget given on node's command line wins.
 */
export const INTERRUPT_BUDGET = 16 * 1024;

if (!process.execArgv.some((flag) => flag.startsWith('--interrupt-budget')))
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
