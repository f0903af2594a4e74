/**
 * What each part of the messages table costs a send: the writer thread's
 * INSERT alone (no seq, read marker or log position taken), in batches of a
 * fixed size, one transaction each, 200 conversations taken in turn, on
 * copies of one database where the table is rebuilt without one of its
 * indexes or its search-queue trigger at a time. For each: CPU a message
 * (this process, which is single-threaded here) and WAL frames (pages
 * written) a message. A leaf of an index whose key starts with the
 * conversation is dirtied once per conversation per batch, and with
 * synchronous=FULL each dirty page is written and synced at the commit.
 * Not part of `pnpm bench`.
 *
 *   tsx src/tools/insert-cost.ts [batch, 32] [seconds a variant, 3] [synchronous, FULL] [rounds, 2]
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeOrderedId } from '@pneumatic/api';
import { createDatabase, migrateToLatest } from '@pneumatic/db';
import Database from 'better-sqlite3';
import { type Room, seedPopulation } from './shared.ts';

const USAGE = 'usage: tsx src/tools/insert-cost.ts [batch] [seconds a variant] [FULL|NORMAL|OFF] [rounds]';
const batch = Number(process.argv[2] ?? 32);
const seconds = Number(process.argv[3] ?? 3);
const synchronous = process.argv[4] ?? 'FULL';
const rounds = Number(process.argv[5] ?? 2);
if (
  ![batch, seconds, rounds].every((n) => Number.isInteger(n) && n > 0) ||
  !['FULL', 'NORMAL', 'OFF'].includes(synchronous)
) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const STORED_FIRST = 30_000;
const PAGE_BYTES = 4096;
const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;

/** The INSERT the writer thread runs (sqlite-writer.ts), without its conflict clause, which needs the unique key. */
const INSERT = `insert into messages (id, conversation_id, seq, pos, sender_id, message_id, content, created_at,
    edited_at, deleted_at, kind, system, reply_to, reply_sender_id, reply_excerpt, mentions, attachments, attachment_names)
  values (?, ?, ?, ?, ?, ?, ?, ?, null, null, 'user', null, null, null, null, null, null, null)`;

/** The table's CREATE statement without one of its parts, and whether the search-queue trigger stays. */
interface Variant {
  name: string;
  table(create: string): string;
  trigger: boolean;
}
const withoutConstraint = (name: string) => (create: string) =>
  create.replace(new RegExp(`,\\s*constraint "${name}" unique \\([^)]*\\)`, 'i'), '');
const VARIANTS: Variant[] = [
  { name: 'as it is', table: (create) => create, trigger: true },
  { name: 'no search-queue trigger', table: (create) => create, trigger: false },
  {
    name: 'no (conversation_id, seq) key',
    table: withoutConstraint('messages_conversation_seq'),
    trigger: true,
  },
  {
    name: 'no (message_id, sender_id) key',
    table: withoutConstraint('messages_message_id_sender'),
    trigger: true,
  },
  {
    name: 'id key only, no trigger',
    table: (create) =>
      withoutConstraint('messages_message_id_sender')(withoutConstraint('messages_conversation_seq')(create)),
    trigger: false,
  },
];

const dir = mkdtempSync(join(tmpdir(), 'pneumatic-insert-cost-'));
try {
  const file = join(dir, 'template.db');
  const handle = createDatabase(file, { sqliteSynchronous: 'NORMAL' });
  let rooms: Room[];
  try {
    await migrateToLatest(handle.db);
    rooms = await seedPopulation(handle.db);
  } finally {
    await handle.close();
  }

  for (let round = 1; round <= rounds; round++) {
    for (const variant of VARIANTS) {
      const copy = join(dir, 'variant.db');
      copyFileSync(file, copy);
      const db = new Database(copy);
      try {
        db.pragma('journal_mode = WAL');
        db.pragma('foreign_keys = OFF');
        rebuild(db, variant);
        db.pragma(`synchronous = ${synchronous}`);
        const insert = db.prepare(INSERT);
        const seqs = new Map<string, number>();
        let k = 0;
        let pos = 0;
        const now = new Date().toISOString();
        const store = db.transaction((count: number) => {
          for (let i = 0; i < count; i++) {
            const room = rooms[k % rooms.length]!;
            k++;
            const seq = (seqs.get(room.id) ?? 0) + 1;
            seqs.set(room.id, seq);
            insert.run(
              timeOrderedId(),
              room.id,
              seq,
              ++pos,
              room.members[k % room.members.length]!,
              timeOrderedId(),
              `message number ${k}, with a few words to index`,
              now,
            );
          }
        });
        for (let stored = 0; stored < STORED_FIRST; stored += 256) store.immediate(256);
        // The WAL started over and left to grow, so its frames are this variant's commits alone.
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.pragma('wal_autocheckpoint = 0');
        const cpu = process.cpuUsage();
        const started = performance.now();
        let sent = 0;
        while (performance.now() - started < seconds * 1000) {
          store.immediate(batch);
          sent += batch;
        }
        const used = process.cpuUsage(cpu);
        const frames = (statSync(`${copy}-wal`).size - WAL_HEADER_BYTES) / (PAGE_BYTES + FRAME_HEADER_BYTES);
        process.stdout.write(
          `round ${round}, ${variant.name.padEnd(31)} ${((used.user + used.system) / sent).toFixed(1).padStart(5)} µs ` +
            `(system ${(used.system / sent).toFixed(1)}), ${(frames / sent).toFixed(2)} WAL frames a message, ` +
            `batches of ${batch}, synchronous=${synchronous}\n`,
        );
      } finally {
        db.close();
        rmSync(copy, { force: true });
        rmSync(`${copy}-wal`, { force: true });
        rmSync(`${copy}-shm`, { force: true });
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** The messages table made again as the variant has it, with its other indexes and (if kept) its triggers. */
function rebuild(db: Database.Database, variant: Variant): void {
  const create = db
    .prepare(`select sql from sqlite_master where type = 'table' and name = 'messages'`)
    .pluck()
    .get() as string;
  const others = db
    .prepare(
      `select name, sql from sqlite_master where tbl_name = 'messages' and type in ('index', 'trigger') and sql is not null`,
    )
    .all() as { name: string; sql: string }[];
  db.transaction(() => {
    db.exec(variant.table(create).replace(/^create table "messages"/i, 'create table "messages_variant"'));
    db.exec('drop table messages');
    db.exec('alter table messages_variant rename to messages');
    for (const other of others)
      if (variant.trigger || other.name !== 'messages_fts_insert') db.exec(other.sql);
  }).immediate();
}
