/**
 * The SQLite message writer alone, in this process: the real `SqliteWriter`
 * (its thread, statements and schema, synchronous=FULL as the server's
 * default, WAL checkpoints on a thread of their own as in a server) storing
 * back-to-back batches of a fixed size, each thread's CPU per message.
 * Steadier than a fan-out for comparing changes to the writer: no sockets,
 * no load generator. Not part of `pnpm bench`.
 *
 *   tsx src/tools/writer.ts [batch, 16] [seconds a round, 6] [messages stored first, 60000] [rounds, 3] [ids, random]
 *
 * 200 conversations of 5 members; each message from a member, with a
 * message_id as clients make them (`random`: UUIDv4; `ordered`: UUIDv7, as
 * the SDK and the web app do), and a time-ordered id, as the server makes
 * them. Compare two builds by running them in turn, several times:
 * this machine's figures move from one minute to the next.
 */
import { randomUUID } from 'node:crypto';
import { timeOrderedId } from '@pneumatic/api';
import { migrateToLatest, type NewMessage } from '@pneumatic/db';
import { openTestDatabase } from '@pneumatic/db/testing';
import { threadCpuSecondsOf } from '../processes.ts';
import { seedPopulation, threadCpuPer } from './shared.ts';

const USAGE =
  'usage: tsx src/tools/writer.ts [batch] [seconds a round] [messages stored first] [rounds] [random|ordered]';
const [batch, seconds, preload, rounds] = [16, 6, 60_000, 3].map((fallback, i) =>
  Number(process.argv[2 + i] ?? fallback),
) as [number, number, number, number];
const ids = process.argv[6] ?? 'random';
if (
  ![batch, seconds, preload, rounds].every((n) => Number.isInteger(n) && n > 0) ||
  !['random', 'ordered'].includes(ids)
) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

// The writer's thread is unreferenced (a server's sockets keep it alive): so is nothing else here.
const alive = setInterval(() => {}, 60_000);
const database = await openTestDatabase('sqlite', {
  writerThread: true,
  backgroundCheckpoints: true,
  sqliteSynchronous: 'FULL',
});
try {
  const { db, messages } = database.handle;
  await migrateToLatest(db);
  const rooms = await seedPopulation(db);
  await messages.start();
  let k = 0;
  const next = (): NewMessage => {
    const room = rooms[k % rooms.length]!;
    k++;
    return {
      // As the server makes them: each insert lands at the end of the id index.
      id: timeOrderedId(),
      conversation_id: room.id,
      sender_id: room.members[k % room.members.length]!,
      message_id: ids === 'ordered' ? timeOrderedId() : randomUUID(),
      content: `message number ${k}, with a few words to index`,
      created_at: new Date().toISOString(),
    };
  };
  for (let stored = 0; stored < preload; stored += 256)
    await messages.store(Array.from({ length: 256 }, next));
  const self = { pid: process.pid };
  for (let round = 0; round < rounds; round++) {
    const before = threadCpuSecondsOf(process.pid);
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < seconds * 1000) {
      await messages.store(Array.from({ length: batch }, next));
      sent += batch;
    }
    const after = threadCpuSecondsOf(process.pid);
    process.stdout.write(
      `batches of ${batch}: ${Math.round(sent / seconds)} msg/s; µs a message by thread: ` +
        `${threadCpuPer(self, before, after, sent)}\n`,
    );
  }
} finally {
  await database.close();
  clearInterval(alive);
}
