/**
 * Search indexing alone: the repository's indexing step (queued rowids into
 * the FTS5 index, a chunk per transaction: the statements the writer thread
 * runs), synchronous=FULL as the server's default and WAL checkpoints on a
 * thread of their own, on a database of 100,000 indexed messages, and the
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
const handle = createDatabase(join(dir, 'search.db'), {
  sqliteSynchronous: 'FULL',
  backgroundCheckpoints: true,
});
// Messages are queued through a connection of their own, as the writer thread's sends are.
let sender: Database.Database | undefined;
try {
  await migrateToLatest(handle.db);
  sender = new Database(join(dir, 'search.db'));
  sender.pragma('synchronous = FULL');
  const now = new Date().toISOString();
  sender
    .prepare(
      `insert into users (id, username, username_lower, password_hash, created_at) values ('u', 'u', 'u', 'x', ?)`,
    )
    .run(now);
  sender
    .prepare(
      `insert into conversations (id, kind, title, created_by, created_at, last_seq, last_activity_at)
       values ('c', 'group', 'room', 'u', ?, 0, ?)`,
    )
    .run(now, now);
  const insert = sender.prepare(
    `insert into messages (id, conversation_id, seq, pos, sender_id, message_id, content, created_at, kind)
     values (?, 'c', ?, ?, 'u', ?, ?, ?, 'user')`,
  );
  let k = 0;
  // Each insert queues its rowid for search (the messages_fts_insert trigger), as a send does.
  const queue = sender.transaction(() => {
    for (let i = 0; i < QUEUED_AT_ONCE; i++) {
      k++;
      const words = `${WORDS[k % WORDS.length]} ${WORDS[(k * 7) % WORDS.length]}`;
      insert.run(randomUUID(), k, k, randomUUID(), `message number ${k}, with a few words: ${words}`, now);
    }
  });
  const indexAll = async (chunk: number): Promise<number> => {
    let indexed = 0;
    for (let got = chunk; got === chunk; indexed += got)
      got = await searchRepository.indexPendingMessages(handle.db, 'sqlite', chunk);
    return indexed;
  };
  for (let stored = 0; stored < 100_000; stored += QUEUED_AT_ONCE) {
    queue();
    await indexAll(QUEUED_AT_ONCE);
  }

  for (let round = 1; round <= rounds; round++)
    for (const chunk of chunks) {
      let cpuMicros = 0;
      let wallMs = 0;
      let indexed = 0;
      for (let queued = 0; queued < total; queued += QUEUED_AT_ONCE) {
        queue();
        const cpu = process.cpuUsage();
        const started = performance.now();
        indexed += await indexAll(chunk);
        const used = process.cpuUsage(cpu);
        cpuMicros += used.user + used.system;
        wallMs += performance.now() - started;
      }
      process.stdout.write(
        `round ${round}, chunks of ${chunk}: ${(cpuMicros / indexed).toFixed(1)} µs of CPU, ` +
          `${((wallMs * 1000) / indexed).toFixed(1)} µs of wall time a message indexed; ` +
          `a chunk ${((wallMs / indexed) * chunk).toFixed(2)} ms\n`,
      );
    }
} finally {
  sender?.close();
  await handle.close();
  rmSync(dir, { recursive: true, force: true });
}
