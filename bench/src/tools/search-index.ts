/**
 * Search indexing alone: the writer thread's statements for it (queued
 * rowids into the FTS5 index, a chunk per transaction, synchronous=FULL as
 * the server's default) on a database of 100,000 indexed messages, and the
 * CPU and wall time a message costs for each chunk size asked for, in turn.
 * Each transaction flushes a segment of the index that later merges rewrite
 * and commits, so the chunk size sets how often that is paid. Not part of
 * `pnpm bench`.
 *
 *   tsx src/tools/search-index.ts [chunk sizes, 100,500] [messages a size, 60000] [rounds, 2]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, migrateToLatest, searchRepository } from '@pneumatic/db';
import Database from 'better-sqlite3';

const USAGE = 'usage: tsx src/tools/search-index.ts [chunk sizes] [messages a size] [rounds]';
const chunks = (process.argv[2] ?? '100,500').split(',').map(Number);
const [total, rounds] = [60_000, 2].map((fallback, i) => Number(process.argv[3 + i] ?? fallback)) as [
  number,
  number,
];
if (![...chunks, total, rounds].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const QUEUED_AT_ONCE = 1000;

const dir = mkdtempSync(join(tmpdir(), 'pneumatic-search-index-'));
try {
  const file = join(dir, 'search.db');
  const handle = createDatabase(file);
  await migrateToLatest(handle.db);
  await handle.close();

  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // As the writer thread's connection (sqlite-writer-thread.ts).
  db.pragma('foreign_keys = OFF');
  db.pragma('cache_size = -8192');
  const now = new Date().toISOString();
  db.prepare(
    `insert into users (id, username, username_lower, password_hash, created_at) values ('u', 'u', 'u', 'x', ?)`,
  ).run(now);
  db.prepare(
    `insert into conversations (id, kind, title, created_by, created_at, last_seq, last_activity_at)
     values ('c', 'group', 'room', 'u', ?, 0, ?)`,
  ).run(now, now);
  const insert = db.prepare(
    `insert into messages (id, conversation_id, seq, pos, sender_id, message_id, content, created_at, kind)
     values (?, 'c', ?, ?, 'u', ?, ?, ?, 'user')`,
  );
  let k = 0;
  // Each insert queues its rowid for search (the messages_fts_insert trigger), as a send does.
  const queue = db.transaction((count: number) => {
    for (let i = 0; i < count; i++) {
      k++;
      const words = `${WORDS[k % WORDS.length]} ${WORDS[(k * 7) % WORDS.length]}`;
      insert.run(randomUUID(), k, k, randomUUID(), `message number ${k}, with a few words: ${words}`, now);
    }
  });
  const sql = searchRepository.INDEX_STEP_SQL;
  const pendingRange = db.prepare(sql.pendingRange);
  const index = db.prepare(sql.index);
  const unqueue = db.prepare(sql.unqueue);
  // The writer thread's indexSome.
  const indexSome = db.transaction((limit: number): number => {
    const { last, count } = pendingRange.get(limit) as { last: number | null; count: number };
    if (last === null || count === 0) return 0;
    index.run(last);
    unqueue.run(last);
    return count;
  });
  for (let stored = 0; stored < 100_000; stored += QUEUED_AT_ONCE) {
    queue(QUEUED_AT_ONCE);
    while (indexSome.immediate(QUEUED_AT_ONCE) === QUEUED_AT_ONCE) {}
  }
  db.pragma('wal_checkpoint(TRUNCATE)');

  for (let round = 1; round <= rounds; round++)
    for (const chunk of chunks) {
      let cpuMicros = 0;
      let wallMs = 0;
      let indexed = 0;
      for (let queued = 0; queued < total; queued += QUEUED_AT_ONCE) {
        queue(QUEUED_AT_ONCE);
        const cpu = process.cpuUsage();
        const started = performance.now();
        for (let got = chunk; got === chunk; indexed += got) got = indexSome.immediate(chunk);
        const used = process.cpuUsage(cpu);
        cpuMicros += used.user + used.system;
        wallMs += performance.now() - started;
        // As the checkpointer thread would, off this measure.
        if ((queued / QUEUED_AT_ONCE) % 20 === 19) db.pragma('wal_checkpoint(PASSIVE)');
      }
      process.stdout.write(
        `round ${round}, chunks of ${chunk}: ${(cpuMicros / indexed).toFixed(1)} µs of CPU, ` +
          `${((wallMs * 1000) / indexed).toFixed(1)} µs of wall time a message indexed; ` +
          `a chunk ${((wallMs / indexed) * chunk).toFixed(2)} ms\n`,
      );
    }
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
