import { type HeapGrowth, type HeapSummary, heapGrowth, summarizeHeap } from '../heap.ts';
import { LoadGenerator } from '../load/driver.ts';
import type { Transport } from '../load/protocol.ts';
import type { ServerProcess } from '../processes.ts';
import type { ConversationSpec } from '../setup.ts';
import { log, median, sleep } from '../util.ts';

export interface MemoryResult {
  label: string;
  sockets: number;
  /** (RSS after − RSS before) / sockets, bytes; RSS from /proc/<pid>/status after a forced GC. */
  rssPerSocket: number;
  /** Same for V8's heapUsed: the JS objects a socket keeps. */
  heapPerSocket: number;
  /** Same for V8's heapTotal: heap pages committed, used or not. */
  heapTotalPerSocket: number;
  /** Same for external memory (Buffers and native objects held by JS). */
  externalPerSocket: number;
  rssBefore: number;
  rssAfter: number;
  /** With --heap: what the sockets added to the JS heap, by constructor. */
  heapGrowth?: HeapGrowth[];
}

interface Sample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** After two full GCs: the median of several VmRSS readings, and process.memoryUsage(). */
async function sample(server: ServerProcess, quick: boolean): Promise<Sample> {
  await server.inspector.collectGarbage();
  await sleep(quick ? 100 : 300);
  const rss: number[] = [];
  for (let i = 0; i < (quick ? 3 : 5); i++) {
    rss.push(server.rssBytes());
    await sleep(quick ? 30 : 100);
  }
  const usage = await server.inspector.memoryUsage();
  return { rss: median(rss), heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external };
}

/**
 * Memory per idle authenticated socket on a fresh server process: a few
 * sockets open and close first (so code and pools are warm), then the
 * server is sampled, all sockets open, and it is sampled again.
 */
export async function measureIdleSockets(options: {
  label: string;
  server: ServerProcess;
  transport: Transport;
  population: ConversationSpec[];
  subscribe: boolean;
  workers: number;
  heapSnapshots: boolean;
  quick: boolean;
}): Promise<MemoryResult> {
  const pause = (ms: number) => sleep(options.quick ? ms / 4 : ms);
  const snapshot = async (): Promise<HeapSummary | undefined> =>
    options.heapSnapshots ? summarizeHeap(await options.server.inspector.takeHeapSnapshot()) : undefined;
  const connect = (conversations: ConversationSpec[]) =>
    LoadGenerator.connect({
      server: options.server,
      transport: options.transport,
      conversations,
      workers: options.workers,
      subscribe: options.subscribe,
    });
  if (!options.quick) {
    await LoadGenerator.warmUp({
      server: options.server,
      transport: options.transport,
      conversations: options.population,
      workers: options.workers,
      subscribe: options.subscribe,
    });
    await pause(500);
  }
  const before = await sample(options.server, options.quick);
  const generator = await connect(options.population);
  let closed = false;
  try {
    await pause(1000);
    const after = await sample(options.server, options.quick);
    const n = generator.sockets;
    // Snapshots come after the RSS readings, which they would disturb: the one
    // with the sockets open, then one once they are closed again.
    const heapAfter = await snapshot();
    let heapBefore: HeapSummary | undefined;
    if (heapAfter) {
      await generator.close();
      closed = true;
      await sleep(1000);
      await options.server.inspector.collectGarbage();
      heapBefore = await snapshot();
    }
    const result: MemoryResult = {
      label: options.label,
      sockets: n,
      rssPerSocket: (after.rss - before.rss) / n,
      heapPerSocket: (after.heapUsed - before.heapUsed) / n,
      heapTotalPerSocket: (after.heapTotal - before.heapTotal) / n,
      externalPerSocket: (after.external - before.external) / n,
      rssBefore: before.rss,
      rssAfter: after.rss,
    };
    if (heapBefore && heapAfter) result.heapGrowth = heapGrowth(heapBefore, heapAfter, n);
    log(
      `${options.label}: ${n} sockets, ${(result.rssPerSocket / 1024).toFixed(1)} KiB RSS/socket, ` +
        `${(result.heapPerSocket / 1024).toFixed(1)} KiB heap/socket`,
    );
    return result;
  } finally {
    if (!closed) await generator.close();
  }
}
