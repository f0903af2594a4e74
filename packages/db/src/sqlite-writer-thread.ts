/**
 * The body of the SQLite writer thread (see sqlite-writer.ts). It runs in a
 * worker thread from its source text (`String(writerThread)`), the same from
 * the TypeScript sources and from the server bundle, so it must use nothing
 * from outside its own body but the `load` it is given (the worker's
 * `require`; a bundler rewrites calls named `require`): the statements' SQL
 * comes in `workerData`.
 */
export function writerThread(load: NodeJS.Require): void {
  const { parentPort, workerData } = load('node:worker_threads') as typeof import('node:worker_threads');
  const Database = load(workerData.driver) as typeof import('better-sqlite3');
  const sql = workerData.sql as Record<
    | 'existing'
    | 'senderExists'
    | 'takeSeq'
    | 'moveSeq'
    | 'readUpTo'
    | 'takePositions'
    | 'insert'
    | 'pendingRange'
    | 'index'
    | 'unqueue',
    string
  >;
  // The wal-buffer extension makes itself the process's default VFS, so it is loaded before the
  // database is opened. With synchronous=FULL (every commit syncs the WAL before other connections
  // see it) it gathers a commit's WAL frames into a few writes: SQLite writes each frame with two.
  let walBufferError: unknown;
  if (workerData.walBuffer) {
    const loader = new Database(':memory:');
    try {
      loader.loadExtension(workerData.walBuffer);
    } catch (error) {
      walBufferError = error;
    } finally {
      loader.close();
    }
  }
  const db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  // No foreign-key checks on this connection: its statements keep the references themselves (a
  // batch takes each conversation's row before inserting into it, and checks each sender, see
  // `store`). Checked by SQLite, every insert kept a statement journal (an immediate foreign key
  // may abort a statement that fires a trigger, here the search queue's), a copy of each page the
  // insert touched: 8 % of the thread. The `or fail` of the statements (sqlite-writer.ts) is the
  // other half: a failed batch is rolled back whole, so no statement needs to undo itself alone.
  db.pragma('foreign_keys = OFF');
  db.pragma(`synchronous = ${workerData.synchronous}`);
  const walBuffered =
    workerData.walBuffer && !walBufferError && workerData.synchronous === 'FULL'
      ? db.pragma('pneumatic_wal_buffer = 1', { simple: true }) === '1'
      : false;
  let busyTimeoutMs = workerData.busyTimeoutMs as number;
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma(`cache_size = -${workerData.cacheKib}`);
  // SQLite's own checkpoint (PASSIVE) runs here, off the event loop, after a commit that leaves
  // more than `autocheckpointPages` in the WAL; it copies only what the checkpointer thread has not yet
  // (sqlite-checkpointer.ts), and the next batch starts the WAL over. Under steady sends the
  // checkpointer alone never got it started over: a writer does that only when it finds every
  // frame copied, and this one had always appended more meanwhile. The WAL grew by hundreds of
  // MB and every page lookup, here and on the main connection, searched more of it.
  db.pragma(`wal_autocheckpoint = ${workerData.autocheckpointPages}`);
  // With a background checkpointer, a checkpoint of this connection's own runs between batches
  // right after that one has copied the whole WAL and synced the database file (its count in
  // `progress[0]` moved), if the WAL then held `restartPages` or more (`progress[1]`): it copies
  // and syncs only what the last few commits added, and the next batch starts the WAL over. The
  // pragma's, at twice that, copied everything the checkpointer had not yet and synced the
  // database file while the next batch waited: 11–30 ms every few thousand messages
  // (docs/benchmarks.md); it stays for a checkpointer that falls behind.
  const progress = workerData.checkpointProgress
    ? new Int32Array(workerData.checkpointProgress as SharedArrayBuffer)
    : undefined;
  let copiedSeen = progress ? Atomics.load(progress, 0) : 0;
  const restartWal = () => {
    if (!progress || Atomics.load(progress, 0) === copiedSeen) return;
    copiedSeen = Atomics.load(progress, 0);
    if (Atomics.load(progress, 1) < workerData.restartPages) return;
    try {
      // Busy (the checkpointer is at it again): the next round.
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (error) {
      parentPort!.postMessage({ warning: failure(error) });
    }
  };
  // The WAL file is cut back to this when a batch starts it over.
  db.pragma(`journal_size_limit = ${workerData.walLimitBytes}`);
  const existing = db.prepare(sql.existing);
  const senderExists = db.prepare(sql.senderExists).pluck();
  const takeSeq = db.prepare(sql.takeSeq);
  const moveSeq = db.prepare(sql.moveSeq);
  const readUpTo = db.prepare(sql.readUpTo);
  const takePositions = db.prepare(sql.takePositions);
  const insert = db.prepare(sql.insert);
  const pendingRange = db.prepare(sql.pendingRange);
  const index = db.prepare(sql.index);
  const unqueue = db.prepare(sql.unqueue);

  /**
   * Each conversation's last seq as this thread last took it. A batch moves
   * a conversation's counter with a plain update checked against it (the
   * update's `returning` was 1.8 of its 4.4 µs), and takes it with
   * `returning` only for a conversation it does not know, or one another
   * connection moved since (a system message): the check makes this a hint,
   * never the truth, so a batch rolled back after moving it costs only that.
   */
  const lastSeqs = new Map<string, number>();
  const LAST_SEQS_KEPT = 50_000;
  /** Moves a conversation's counter by `count`; its new value, or undefined for no such conversation. */
  const takeSeqs = (id: string, count: number, now: string): number | undefined => {
    const known = lastSeqs.get(id);
    const last =
      known !== undefined && moveSeq.run(known + count, now, id, known).changes === 1
        ? known + count
        : (takeSeq.get(count, now, id) as { last_seq: number } | undefined)?.last_seq;
    lastSeqs.delete(id);
    if (last === undefined) return undefined;
    // The least recently used is forgotten: its next batch takes it with `returning`.
    if (lastSeqs.size >= LAST_SEQS_KEPT) lastSeqs.delete(lastSeqs.keys().next().value!);
    lastSeqs.set(id, last);
    return last;
  };

  interface NewMessage {
    id: string;
    conversation_id: string;
    sender_id: string;
    message_id: string;
    content: string;
    created_at: string;
    reply_to?: string | null;
    reply_sender_id?: string | null;
    reply_excerpt?: string | null;
    mentions?: string | null;
    attachments?: string | null;
    attachment_names?: string | null;
  }
  type Outcome = { stored: { seq: number; pos: number } } | { existing: unknown } | { missing: true };

  /** A sender that is no user (deleted meanwhile): the batch fails as a whole, as with a foreign key. */
  const UNKNOWN_SENDER = () =>
    Object.assign(new Error('FOREIGN KEY constraint failed'), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });

  /** A message_id already used, found by an insert that assumed none was: the batch goes again, checked. */
  const REPEAT = new Error('repeat');

  /**
   * One batch in one transaction. Repeats are rare (a client retrying), so a
   * batch first assumes there are none: each insert ignores a used
   * `(sender_id, message_id)` and one that does rolls the batch back, to go
   * again with every message looked up first (`checked`). The lookup was an
   * index search and a statement per message: 3 % of the thread's time at
   * 10,000 msg/s (docs/benchmarks.md).
   */
  const store = (batch: NewMessage[], checked: boolean): Outcome[] => {
    const outcomes: (Outcome | undefined)[] = new Array(batch.length);
    const counts = new Map<string, number>();
    batch.forEach((m, i) => {
      const row = checked ? existing.get(m.sender_id, m.message_id) : undefined;
      if (row) outcomes[i] = { existing: row };
      else counts.set(m.conversation_id, (counts.get(m.conversation_id) ?? 0) + 1);
    });
    // One writer, so no lock order to keep; sorted all the same, as the other stores do.
    const nextSeq = new Map<string, number>();
    const now = batch[0]?.created_at ?? '';
    for (const id of [...counts.keys()].sort()) {
      const count = counts.get(id)!;
      const last = takeSeqs(id, count, now);
      if (last !== undefined) nextSeq.set(id, last - count + 1);
    }
    const fresh: number[] = [];
    const seqs: number[] = new Array(batch.length);
    const ownLatest = new Map<string, [string, string, number]>();
    batch.forEach((m, i) => {
      if (outcomes[i]) return;
      const seq = nextSeq.get(m.conversation_id);
      if (seq === undefined) {
        outcomes[i] = { missing: true };
        return;
      }
      nextSeq.set(m.conversation_id, seq + 1);
      seqs[i] = seq;
      fresh.push(i);
      ownLatest.set(`${m.conversation_id}\n${m.sender_id}`, [m.conversation_id, m.sender_id, seq]);
    });
    if (fresh.length === 0) return outcomes as Outcome[];
    // Senders known to be users. One whose read marker moved is a member, so a user: a member's
    // marker is never past the conversation's last seq, which this batch's seqs are above.
    const users = new Set<string>();
    for (const [conversationId, userId, seq] of ownLatest.values())
      if (readUpTo.run(seq, conversationId, userId, seq).changes > 0) users.add(userId);
    // What a foreign key on sender_id would check (see the pragma above), for the rest, once each.
    for (const [, userId] of ownLatest.values()) {
      if (users.has(userId)) continue;
      if (senderExists.get(userId) === undefined) throw UNKNOWN_SENDER();
      users.add(userId);
    }
    const head = (takePositions.get(fresh.length) as { pos: number }).pos;
    let pos = head - fresh.length + 1;
    for (const i of fresh) {
      const m = batch[i]!;
      const { changes } = insert.run(
        m.id,
        m.conversation_id,
        seqs[i],
        pos,
        m.sender_id,
        m.message_id,
        m.content,
        m.created_at,
        m.reply_to ?? null,
        m.reply_sender_id ?? null,
        m.reply_excerpt ?? null,
        m.mentions ?? null,
        m.attachments ?? null,
        m.attachment_names ?? null,
      );
      // Checked, nothing can be in the way: the transaction holds the write lock since the lookups.
      if (changes === 0) throw REPEAT;
      outcomes[i] = { stored: { seq: seqs[i]!, pos } };
      pos++;
    }
    return outcomes as Outcome[];
  };
  const storeAssumingNew = db.transaction((batch: NewMessage[]) => store(batch, false)).immediate;
  const storeChecked = db.transaction((batch: NewMessage[]) => store(batch, true)).immediate;
  const storeBatch = (batch: NewMessage[]): Outcome[] => {
    try {
      return storeAssumingNew(batch);
    } catch (error) {
      if (error !== REPEAT) throw error;
      return storeChecked(batch);
    }
  };

  /** Indexes up to `limit` of the messages sends queued for search, in one transaction; returns how many. */
  const indexSome = db.transaction((limit: number): number => {
    const { last, count } = pendingRange.get(limit) as { last: number | null; count: number };
    if (last === null || count === 0) return 0;
    index.run(last);
    unqueue.run(last);
    return count;
  });
  /** Everything queued, at once: a search is about to read the index. */
  const catchUpIndex = () => {
    while (indexSome.immediate(workerData.indexBatch) === workerData.indexBatch) {}
  };

  interface Request {
    id: number;
    type: 'store' | 'index' | 'close';
    batch?: NewMessage[];
    /** Shorter right after a batch waited the whole timeout out (see sqlite-writer.ts). */
    busyTimeoutMs?: number;
  }
  const failure = (error: unknown) => ({
    message: error instanceof Error ? error.message : String(error),
    code:
      typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined,
  });

  // In the background the index catches up in chunks, requests handled in between (a chunk
  // holds the next batch back a few milliseconds): after a batch at most every
  // interval while sends come, and on the interval when they stop. A search asks for all of it first.
  let lastIndexed = 0;
  let indexing = false;
  const indexInBackground = () => {
    if (indexing) return;
    indexing = true;
    const step = () => {
      let more = false;
      // Never worth waiting for a lock another process holds: the next round, or a search, does it.
      db.pragma('busy_timeout = 0');
      try {
        more = indexSome.immediate(workerData.indexBatch) === workerData.indexBatch;
      } catch (error) {
        if (!String((error as { code?: unknown })?.code).startsWith('SQLITE_BUSY'))
          parentPort!.postMessage({ warning: failure(error) });
      } finally {
        db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      }
      if (more && db.open) setImmediate(step);
      else {
        indexing = false;
        lastIndexed = Date.now();
      }
    };
    step();
  };
  const timer = setInterval(() => {
    if (Date.now() - lastIndexed >= workerData.indexIntervalMs) indexInBackground();
  }, workerData.indexIntervalMs);

  parentPort!.postMessage({ ready: true, walBuffered });
  if (walBufferError) parentPort!.postMessage({ warning: failure(walBufferError) });
  parentPort!.on('message', (request: Request) => {
    if (request.type === 'close') {
      clearInterval(timer);
      try {
        catchUpIndex();
      } catch {
        // Whatever is still queued is indexed by the next start, or before the next search.
      }
      db.close();
      parentPort!.close();
      return;
    }
    try {
      if (request.busyTimeoutMs !== undefined && request.busyTimeoutMs !== busyTimeoutMs) {
        busyTimeoutMs = request.busyTimeoutMs;
        db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      }
      if (request.type === 'store') {
        parentPort!.postMessage({ id: request.id, outcomes: storeBatch(request.batch!) });
        restartWal();
        if (Date.now() - lastIndexed >= workerData.indexIntervalMs) indexInBackground();
      } else {
        lastIndexed = Date.now();
        catchUpIndex();
        parentPort!.postMessage({ id: request.id, outcomes: [] });
      }
    } catch (error) {
      parentPort!.postMessage({ id: request.id, error: failure(error) });
    }
  });
}
