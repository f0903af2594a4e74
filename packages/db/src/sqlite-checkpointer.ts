import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/**
 * How often the background connection copies the WAL into the database file. Each time it has
 * copied all of it, the message writer thread may start the WAL over (see `progress`): at 500 ms,
 * under steady sends the WAL outgrew the writer's threshold between two rounds.
 */
const INTERVAL_MS = 250;
/** Checkpoint passes in a row while writers keep appending. */
const PASSES = 4;
/** How long closing waits for the background connection's last checkpoint before stopping it. */
const CLOSE_TIMEOUT_MS = 2000;
/** SQLite's own default, restored when the background connection fails. */
const AUTOCHECKPOINT_PAGES = 1000;

// Runs in a worker thread with its own connection. Plain CommonJS (an eval'd
// worker), so it works the same from the sources and from the server bundle.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = ' + workerData.synchronous);
// PASSIVE never takes the write lock, so a writer never waits for it (nor fails: a
// transaction that read first and then writes gets SQLITE_BUSY at once, without waiting,
// when another connection holds that lock). Each pass copies what was appended during the
// one before, so it soon has copied everything; the next writer then starts the WAL over.
// A pass that copied every frame has synced the database file too: it says so in \`progress\`
// (passes that did, and the WAL's frames then), for the message writer thread.
const progress = new Int32Array(workerData.progress);
const checkpoint = () => {
  for (let pass = 0; pass < workerData.passes; pass++) {
    const [state] = db.pragma('wal_checkpoint(PASSIVE)');
    if (state.busy) return;
    if (state.checkpointed >= state.log) {
      Atomics.store(progress, 1, state.log);
      Atomics.add(progress, 0, 1);
      return;
    }
  }
};
const timer = setInterval(() => {
  try {
    checkpoint();
  } catch (error) {
    clearInterval(timer);
    parentPort.postMessage({ error: String(error && error.message || error) });
    db.close();
    parentPort.close();
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /**
   * Two Int32 slots the background connection updates: how many of its
   * checkpoints have copied the whole WAL (and synced the database file),
   * and how many frames the WAL held at the last of them. The message writer
   * thread reads them to start the WAL over cheaply (sqlite-writer-thread.ts).
   */
  readonly progress: SharedArrayBuffer;
  close(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the event loop. SQLite otherwise checkpoints
 * inside whichever COMMIT crosses 1,000 WAL pages: that commit copies the
 * pages into the database file and syncs it while every socket waits. Here
 * the main connection never checkpoints; a second connection in a worker
 * thread does, four times a second. If that connection fails, the main
 * connection checkpoints by itself again, as SQLite does by default. Only a
 * writer that finds the WAL wholly copied starts it over: the message writer
 * thread (sqlite-writer-thread.ts) checkpoints what is left right after this
 * connection has copied the rest (`progress`), and keeps SQLite's own
 * checkpoints as a backstop.
 */
export function startCheckpointer(
  sqlite: SqliteDatabase,
  path: string,
  synchronous: 'NORMAL' | 'FULL',
  onError: (error: Error) => void,
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  sqlite.pragma('wal_autocheckpoint = 0');
  const progress = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { driver, path, synchronous, intervalMs: INTERVAL_MS, passes: PASSES, progress },
  });
  worker.unref();
  let closing = false;
  const fallBack = (error: Error) => {
    if (closing || !sqlite.open) return;
    sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    onError(error);
  };
  worker.on('message', (message: { error?: string }) => {
    if (message.error) fallBack(new Error(`background checkpoint failed: ${message.error}`));
  });
  worker.on('error', (error) => fallBack(error));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    progress,
    async close() {
      closing = true;
      // Unreferenced, the worker would let the process end before it has closed (exit code 0).
      worker.ref();
      worker.postMessage('close');
      const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
