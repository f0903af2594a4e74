import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/** How often the background connection copies the WAL into the database file. */
const INTERVAL_MS = 500;
/** WAL frames (pages) past which a checkpoint also restarts the log, so the file stops growing. */
const RESTART_FRAMES = 8192;
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
const checkpoint = () => {
  const [passive] = db.pragma('wal_checkpoint(PASSIVE)');
  if (passive.log >= workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)');
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
 * connection checkpoints by itself again, as SQLite does by default.
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
    workerData: { driver, path, synchronous, intervalMs: INTERVAL_MS, restartFrames: RESTART_FRAMES },
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
      worker.postMessage('close');
      await exited;
    },
  };
}
