import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/** How often the background connection copies the WAL into the database file. */
const INTERVAL_MS = 500;
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
const checkpoint = () => {
  for (let pass = 0; pass < workerData.passes; pass++) {
    const [state] = db.pragma('wal_checkpoint(PASSIVE)');
    if (state.busy || state.checkpointed >= state.log) return;
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
  close(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the event loop. SQLite otherwise checkpoints
 * inside whichever COMMIT crosses 1,000 WAL pages: that commit copies the
 * pages into the database file and syncs it while every socket waits. Here
 * the main connection never checkpoints; a second connection in a worker
 * thread does, every half second. If that connection fails, the main
 * connection checkpoints by itself again, as SQLite does by default. The
 * message writer thread (sqlite-writer-thread.ts) keeps SQLite's own
 * checkpoints: only a writer that finds the WAL wholly copied starts it over.
 */
export function startCheckpointer(
  sqlite: SqliteDatabase,
  path: string,
  synchronous: 'NORMAL' | 'FULL',
  onError: (error: Error) => void,
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  sqlite.pragma('wal_autocheckpoint = 0');
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { driver, path, synchronous, intervalMs: INTERVAL_MS, passes: PASSES },
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
