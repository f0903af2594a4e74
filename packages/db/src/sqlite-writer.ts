import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { MessageStore, NewMessage, StoreOutcome } from './message-store.ts';
import { DatabaseUnavailableError } from './outage.ts';
import { INDEX_STEP_SQL } from './repositories/search.repository.ts';
import { writerThread } from './sqlite-writer-thread.ts';
import { walBufferExtension } from './wal-buffer.ts';

/** The statements the writer thread prepares once, at start. */
const STATEMENTS = {
  existing: 'select * from messages where sender_id = ? and message_id = ?',
  senderExists: 'select 1 from users where id = ?',
  // `or fail`: see the thread's foreign_keys pragma (sqlite-writer-thread.ts).
  takeSeq:
    'update or fail conversations set last_seq = last_seq + ?, last_activity_at = ? where id = ? returning last_seq',
  // The same when the thread knows the counter: no `returning`, and nothing changed if another connection moved it.
  moveSeq:
    'update or fail conversations set last_seq = ?, last_activity_at = ? where id = ? and last_seq = ?',
  readUpTo:
    'update conversation_members set last_read_seq = ? where conversation_id = ? and user_id = ? and last_read_seq < ?',
  takePositions: 'update or fail log_head set pos = pos + ? where id = 1 returning pos',
  // A used (sender_id, message_id) is left as it is: the thread sees no row changed, and checks the batch.
  insert: `insert or fail into messages (id, conversation_id, seq, pos, sender_id, message_id, content, created_at, edited_at, deleted_at, kind, system,
      reply_to, reply_sender_id, reply_excerpt, mentions, attachments, attachment_names)
    values (?, ?, ?, ?, ?, ?, ?, ?, null, null, 'user', null, ?, ?, ?, ?, ?, ?)
    on conflict (sender_id, message_id) do nothing`,
  // Search indexing: queued rowids, oldest first, a batch per transaction.
  ...INDEX_STEP_SQL,
};

/**
 * The thread's code, as its function's source. Run through tsx (`pnpm dev`),
 * that source names esbuild's `__name` helper (keepNames), which a worker
 * does not have: it is defined here as the identity it amounts to.
 */
const THREAD_SOURCE = `const __name = (target) => target;\n(${String(writerThread)})(require);`;

/**
 * Rows indexed for search per transaction, in the background between batches
 * of sends and when a search waits for it. Each transaction flushes a segment
 * of the full-text index that later merges rewrite, and commits: at 500 rows a
 * message costs 6–11 µs of CPU, at 100 rows 8–12, less in every round
 * (bench/src/tools/search-index.ts). A chunk holds the next batch of sends
 * back about 4 ms.
 */
const INDEX_BATCH = 500;
/** How often the index catches up while nobody searches. */
const INDEX_INTERVAL_MS = 1000;
/**
 * WAL pages (4 KiB) after which a commit checkpoints (see the thread's pragmas): 32 MiB. At
 * SQLite's default of 1,000, a big batch (five pages a message) crossed it at nearly every commit,
 * and the thread spent as long copying pages and syncing the database file as storing: 100 µs a
 * message at the legacy fan-out's max, 75 µs at 8,000 (docs/benchmarks.md).
 */
export const AUTOCHECKPOINT_PAGES = 8000;
/**
 * With a background checkpointer (sqlite-checkpointer.ts) the thread starts the WAL over once it
 * holds this many pages and the checkpointer has just copied all of it: its own checkpoint then
 * copies only what the last few commits added. Under steady sends that comes before
 * AUTOCHECKPOINT_PAGES, where SQLite's own checkpoint copied whatever the checkpointer had not
 * yet and synced the database file while the next batch waited: 11–30 ms every few thousand
 * messages (docs/benchmarks.md). That one stays, for a checkpointer that falls behind.
 */
export const RESTART_PAGES = AUTOCHECKPOINT_PAGES / 2;
/** How long closing waits for the thread's last work before stopping it. */
const CLOSE_TIMEOUT_MS = 5000;
/**
 * After a batch waited out the busy timeout (another process holds the write
 * lock: a backup, a CLI command), batches for this long wait only briefly:
 * sends queued behind it must not each wait the whole timeout again.
 */
const BUSY_BACKOFF_MS = 2000;
const BRIEF_BUSY_TIMEOUT_MS = 100;
/** Restarts of a thread that died come after this, doubling up to the maximum. */
const RESTART_MS = 50;
const MAX_RESTART_MS = 2000;

interface Reply {
  /** The thread has opened the database and prepared its statements. */
  ready?: true;
  /** …and gathers its commits' WAL frames (see wal-buffer.ts). */
  walBuffered?: boolean;
  id?: number;
  outcomes?: StoreOutcome[];
  error?: { message: string; code?: string };
  warning?: { message: string; code?: string };
}

interface Pending {
  resolve(outcomes: StoreOutcome[]): void;
  reject(error: Error): void;
}

export interface SqliteWriterOptions {
  path: string;
  synchronous: 'NORMAL' | 'FULL';
  cacheKib: number;
  /** The WAL file is cut back to this size when the thread starts it over. */
  walLimitBytes: number;
  /** How long a batch waits for another connection's write lock before it fails (SQLITE_BUSY). */
  busyTimeoutMs: number;
  /** Told of each batch and index run as a query (duration, failure, SQL), for metrics and spans. */
  onQuery?: (durationMs: number, failed: boolean, sql: string) => void;
  /** Told when the thread failed, or a background index run did (the thread goes on). */
  onError: (error: Error) => void;
  /** The background checkpointer's `progress`, when one runs on the same file. */
  checkpointProgress?: SharedArrayBuffer | undefined;
}

/** An error as the thread reported it, with its SQLite code, so outages are recognized by code. */
function rebuild(reported: { message: string; code?: string }): Error {
  return Object.assign(new Error(reported.message), reported.code ? { code: reported.code } : {});
}

/**
 * Messages are written by a thread of their own with its own SQLite
 * connection: the event loop hands a batch over and goes on serving sockets
 * while the transaction commits (an fsync with synchronous=FULL). Batches go
 * one at a time, so sends that arrive during a commit form the next batch by
 * themselves. A thread that dies fails the batch in flight (nothing of it
 * was acknowledged: a send is answered only after its commit) and is started
 * again; until then `ping` rejects, so readiness says so.
 */
export class SqliteWriter implements MessageStore {
  /**
   * Each message is its own prepared statement on the thread, so a batch is
   * bounded only to keep one transaction's size sane. A bigger batch costs
   * the thread less a message, and batches grow with load by themselves: at
   * 256, a backlog left by a hiccup at 7,000 msg/s kept batches pinned at
   * the cap and never drained (docs/benchmarks.md, sixteenth session).
   */
  readonly maxBatch = 1024;
  readonly #options: SqliteWriterOptions;
  readonly #driver = createRequire(import.meta.url).resolve('better-sqlite3');
  readonly #walBuffer = walBufferExtension();
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #nextId = 0;
  #restartMs = RESTART_MS;
  #restartTimer: NodeJS.Timeout | undefined;
  #started = false;
  #closing = false;
  #restarted: (() => void)[] = [];
  /** Told when the thread is ready, or gone before it was (see `start`). */
  #starting: { resolve(): void; reject(error: Error): void }[] = [];
  /** The running thread has said it is ready. */
  #ready = false;
  #walBuffered = false;
  #busyUntil = 0;

  /** The thread starts with `start` or the first batch: by then the schema it prepares statements for exists. */
  constructor(options: SqliteWriterOptions) {
    this.#options = options;
  }

  /**
   * Starts the thread and resolves once it has opened the database and
   * prepared its statements (some 60 ms that the first send waited for
   * otherwise); rejects if it stops before that.
   */
  start(): Promise<void> {
    if (this.#closing)
      return Promise.reject(new DatabaseUnavailableError(new Error('message writer closed')));
    if (this.#ready) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#starting.push({ resolve, reject });
      if (!this.#started) this.#start();
    });
  }

  /**
   * The thread gathers each commit's WAL frames into a few writes (the
   * wal-buffer extension, under synchronous=FULL); known once it is ready.
   */
  get walBuffered(): boolean {
    return this.#walBuffered;
  }

  store(batch: readonly NewMessage[]): Promise<StoreOutcome[]> {
    return this.#timed(STATEMENTS.insert, this.#request('store', batch));
  }

  async indexForSearch(): Promise<void> {
    await this.#timed(STATEMENTS.index, this.#request('index'));
  }

  /** Reports the work as a query, in the caller's context (its trace), once it is done. */
  #timed<T>(sql: string, work: Promise<T>): Promise<T> {
    const onQuery = this.#options.onQuery;
    if (!onQuery) return work;
    const started = performance.now();
    return work.then(
      (value) => {
        onQuery(performance.now() - started, false, sql);
        return value;
      },
      (error: unknown) => {
        onQuery(performance.now() - started, true, sql);
        throw error;
      },
    );
  }

  async ping(): Promise<void> {
    if (this.#started && !this.#worker)
      throw new DatabaseUnavailableError(new Error('message writer restarting'));
  }

  /** Stops the thread as a crash would, and lets it restart (fault drills and tests). */
  async interrupt(): Promise<void> {
    await this.#worker?.terminate();
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#restartTimer);
    for (const wake of this.#restarted.splice(0)) wake();
    const worker = this.#worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' });
    const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  async #request(type: 'store' | 'index', batch?: readonly NewMessage[]): Promise<StoreOutcome[]> {
    if (!this.#started && !this.#closing) this.#start();
    // A thread that died is started again shortly: what comes meanwhile waits for it.
    while (!this.#worker && !this.#closing)
      await new Promise<void>((resolve) => this.#restarted.push(resolve));
    const worker = this.#worker;
    if (!worker || this.#closing) throw new DatabaseUnavailableError(new Error('message writer closed'));
    const id = ++this.#nextId;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Keeps the process alive while work is in flight; an idle thread does not.
      if (this.#pending.size === 1) worker.ref();
      const busyTimeoutMs =
        Date.now() < this.#busyUntil ? BRIEF_BUSY_TIMEOUT_MS : this.#options.busyTimeoutMs;
      worker.postMessage({ id, type, batch, busyTimeoutMs });
    });
  }

  #start(): void {
    this.#started = true;
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        driver: this.#driver,
        walBuffer: this.#walBuffer,
        path: this.#options.path,
        synchronous: this.#options.synchronous,
        cacheKib: this.#options.cacheKib,
        busyTimeoutMs: this.#options.busyTimeoutMs,
        sql: STATEMENTS,
        indexBatch: INDEX_BATCH,
        indexIntervalMs: INDEX_INTERVAL_MS,
        autocheckpointPages: AUTOCHECKPOINT_PAGES,
        checkpointProgress: this.#options.checkpointProgress,
        restartPages: RESTART_PAGES,
        walLimitBytes: this.#options.walLimitBytes,
      },
    });
    worker.on('message', (reply: Reply) => {
      if (reply.ready) {
        this.#ready = true;
        this.#walBuffered = reply.walBuffered === true;
        for (const waiting of this.#starting.splice(0)) waiting.resolve();
        return;
      }
      if (reply.warning) return this.#options.onError(rebuild(reply.warning));
      const pending = this.#pending.get(reply.id!);
      if (!pending) return;
      this.#pending.delete(reply.id!);
      if (this.#pending.size === 0) worker.unref();
      this.#restartMs = RESTART_MS;
      if (reply.error?.code?.startsWith('SQLITE_BUSY')) this.#busyUntil = Date.now() + BUSY_BACKOFF_MS;
      if (reply.error) pending.reject(rebuild(reply.error));
      else pending.resolve(reply.outcomes!);
    });
    worker.on('error', (error) => this.#options.onError(error));
    worker.once('exit', () => this.#stopped(worker));
    worker.unref();
    this.#worker = worker;
    for (const wake of this.#restarted.splice(0)) wake();
  }

  /** The thread is gone: what it held fails (nothing of it was acknowledged), and it starts again. */
  #stopped(worker: Worker): void {
    if (this.#worker !== worker) return;
    this.#worker = undefined;
    this.#ready = false;
    const failure = new DatabaseUnavailableError(new Error('message writer stopped'));
    for (const waiting of this.#starting.splice(0)) waiting.reject(failure);
    for (const pending of this.#pending.values()) pending.reject(failure);
    this.#pending.clear();
    if (this.#closing) return;
    this.#options.onError(failure);
    this.#restartTimer = setTimeout(() => this.#start(), this.#restartMs);
    this.#restartTimer.unref();
    this.#restartMs = Math.min(MAX_RESTART_MS, this.#restartMs * 2);
  }
}
