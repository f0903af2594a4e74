import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conversationsRepository,
  createDatabase,
  type DatabaseHandle,
  logRepository,
  type MessageRow,
  messagesRepository,
  migrateToLatest,
  searchRepository,
} from '../src/index.ts';
import { AUTOCHECKPOINT_PAGES, RESTART_PAGES } from '../src/sqlite-writer.ts';
import { DIALECTS, type OpenTestDatabase, openTestDatabase, seedRooms } from '../src/testing.ts';

describe.each(DIALECTS)('the send path (%s)', (dialect) => {
  let handle: DatabaseHandle;
  let database: OpenTestDatabase;
  const now = new Date().toISOString();
  const alice = randomUUID();
  const bob = randomUUID();
  const rooms = [randomUUID(), randomUUID(), randomUUID()];
  let pos = 0;

  const message = (conversationId: string, content: string, seq: number): MessageRow => ({
    id: randomUUID(),
    conversation_id: conversationId,
    seq,
    pos: ++pos,
    sender_id: alice,
    message_id: randomUUID(),
    content,
    created_at: now,
    edited_at: null,
    deleted_at: null,
    kind: 'user',
    system: null,
    reply_to: null,
    reply_sender_id: null,
    reply_excerpt: null,
    mentions: null,
    reactions: null,
    attachments: null,
    attachment_names: null,
  });
  const search = async (word: string) =>
    (
      await searchRepository.searchMessages(handle.db, dialect, {
        userId: alice,
        words: [word],
        limit: 10,
        marks: ['[', ']'],
      })
    ).map((hit) => hit.message.content);

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    handle = database.handle;
    await migrateToLatest(handle.db);
    await seedRooms(handle.db, [alice, bob], rooms);
  });
  afterAll(() => database.close());

  it('takes consecutive seqs of several conversations in one go, and none of a missing one', async () => {
    const [a, b] = rooms as [string, string];
    const missing = randomUUID();
    const first = await conversationsRepository.takeSeqsOfMany(
      handle.db,
      new Map([
        [a, 3],
        [b, 1],
        [missing, 2],
      ]),
      now,
    );
    expect(first).toEqual(
      new Map([
        [a, 1],
        [b, 1],
      ]),
    );
    const next = await conversationsRepository.takeSeqsOfMany(handle.db, new Map([[a, 2]]), now);
    expect(next).toEqual(new Map([[a, 4]]));
    expect((await conversationsRepository.findConversation(handle.db, a))!.last_seq).toBe(5);
  });

  it('moves several read positions forward at once, never back', async () => {
    const [a, b] = rooms as [string, string];
    await conversationsRepository.readUpToMany(handle.db, [
      { conversationId: a, userId: alice, seq: 4 },
      { conversationId: b, userId: bob, seq: 2 },
    ]);
    await conversationsRepository.readUpToMany(handle.db, [
      { conversationId: a, userId: alice, seq: 2 },
      { conversationId: b, userId: alice, seq: 1 },
    ]);
    expect(await conversationsRepository.listMemberReads(handle.db, a)).toEqual(
      new Map([
        [alice, 4],
        [bob, 0],
      ]),
    );
    expect(await conversationsRepository.listMemberReads(handle.db, b)).toEqual(
      new Map([
        [alice, 1],
        [bob, 2],
      ]),
    );
  });

  it('indexes sent messages for search in batches, with edits and deletes of indexed and queued ones', async () => {
    const room = rooms[2]!;
    const [kept, edited, removed] = [
      message(room, 'apricot one', 1),
      message(room, 'apricot two', 2),
      message(room, 'apricot three', 3),
    ];
    await messagesRepository.insertMessages(handle.db, [kept!, edited!, removed!]);
    // Indexed now.
    await searchRepository.indexPendingMessages(handle.db, dialect);
    await messagesRepository.updateMessage(handle.db, edited!.id, { content: 'blueberry two' });
    await handle.db.deleteFrom('messages').where('id', '=', removed!.id).execute();
    // Queued (SQLite), then edited and deleted before the index takes them.
    const [late, gone] = [message(room, 'apricot four', 4), message(room, 'apricot five', 5)];
    await messagesRepository.insertMessages(handle.db, [late!, gone!]);
    await messagesRepository.updateMessage(handle.db, late!.id, { content: 'cherry four' });
    await handle.db.deleteFrom('messages').where('id', '=', gone!.id).execute();
    if (dialect === 'sqlite') expect(await search('cherry')).toEqual([]);

    // A batch of 1 leaves the rest queued; the next takes them.
    const first = await searchRepository.indexPendingMessages(handle.db, dialect, 1);
    const rest = await searchRepository.indexPendingMessages(handle.db, dialect);
    expect([first, rest]).toEqual(dialect === 'sqlite' ? [1, 0] : [0, 0]);
    expect(await search('apricot')).toEqual(['apricot one']);
    expect(await search('blueberry')).toEqual(['blueberry two']);
    expect(await search('cherry')).toEqual(['cherry four']);
    expect(await search('five')).toEqual([]);
  });
});

describe('background checkpoints (SQLite)', () => {
  /** Runs `test` on a migrated database in a file of its own, which no background error touched. */
  const inFile = async (
    options: { writerThread?: boolean },
    test: (handle: DatabaseHandle, file: string) => Promise<void>,
  ) => {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-db-'));
    const file = join(dir, 'test.db');
    const errors: Error[] = [];
    const handle = createDatabase(file, {
      ...options,
      backgroundCheckpoints: true,
      onBackgroundError: (e) => errors.push(e),
    });
    try {
      await migrateToLatest(handle.db);
      await test(handle, file);
      expect(errors).toEqual([]);
    } finally {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('copy the WAL into the database file from another thread', async () => {
    await inFile({}, async (handle, file) => {
      for (let i = 0; i < 20; i++) {
        await handle.db
          .insertInto('meta')
          .values({ key: `k${i}`, value: 'x'.repeat(3000) })
          .execute();
      }
      // The rows reach the database file itself (SQLite alone would leave them in the WAL,
      // under its 1,000-page threshold, until the connection closes).
      await expect.poll(() => statSync(file).size, { timeout: 3000 }).toBeGreaterThan(60_000);
      // Writers never wait for it nor fail because of it, and the WAL starts over once copied.
      const started = performance.now();
      while (performance.now() - started < 1500) {
        await handle.db.transaction().execute(async (trx) => {
          await trx.selectFrom('meta').select('key').where('key', '=', 'k0').execute();
          await trx
            .updateTable('meta')
            .set({ value: `${performance.now()}`.repeat(100) })
            .where('key', '<', 'k5')
            .execute();
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 1200));
      await handle.db.updateTable('meta').set({ value: 'y' }).where('key', '=', 'k0').execute();
      const probe = new Sqlite(file);
      try {
        // The last write started the WAL over: a few frames in it, not the thousands written before.
        const [state] = probe.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
        expect(state!.log).toBeLessThan(20);
      } finally {
        probe.close();
      }
    });
  });

  /** Twenty messages of 8,000 characters each: about 40 WAL pages. */
  const content = 'x'.repeat(8000);
  const bigBatch = (room: string, sender: string) =>
    Array.from({ length: 20 }, () => ({
      id: randomUUID(),
      conversation_id: room,
      sender_id: sender,
      message_id: randomUUID(),
      content,
      created_at: new Date().toISOString(),
    }));

  it('keep the WAL bounded while a writer thread stores batch after batch without a pause', async () => {
    const sender = randomUUID();
    const room = randomUUID();
    const batch = () => bigBatch(room, sender);
    const threshold = AUTOCHECKPOINT_PAGES * 4096;
    await inFile({ writerThread: true }, async (handle, file) => {
      const walBytes = () => statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
      await seedRooms(handle.db, [sender], [room]);
      // Two batches always in flight: the thread never waits for the next one. About four times
      // the checkpoint threshold of messages go through the WAL; it must be started over meanwhile.
      let largest = 0;
      const sendBatches = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const outcomes = await handle.messages.store(batch());
          expect(outcomes.every((o) => 'stored' in o)).toBe(true);
          largest = Math.max(largest, walBytes());
        }
      };
      await Promise.all([sendBatches(400), sendBatches(400)]);
      expect(2 * 400 * 20 * content.length).toBeGreaterThan(3 * threshold);
      // Past the threshold by what the commits append while a checkpoint is under way (the
      // checkpointer thread's, or one a reader held back): without the writer's, far more.
      expect(largest).toBeLessThan(2 * threshold);
      const stored = await handle.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      expect(Number(stored.count)).toBe(2 * 400 * 20);
    });
  });

  it("start the WAL over on the checkpointer thread's word, before the writer's own checkpoint", async () => {
    const sender = randomUUID();
    const room = randomUUID();
    const threshold = AUTOCHECKPOINT_PAGES * 4096;
    await inFile({ writerThread: true }, async (handle, file) => {
      const walBytes = () => statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
      await seedRooms(handle.db, [sender], [room]);
      // Steady sends the checkpointer thread keeps up with (about 16 MB a second), three times
      // the writer's checkpoint threshold in all. Each time the checkpointer has copied the whole
      // WAL and it holds more than RESTART_PAGES, the writer's next checkpoint copies the little
      // left and the batch after it starts the WAL over: the threshold is never reached.
      let largest = 0;
      let written = 0;
      while (written < 3 * threshold) {
        const outcomes = await handle.messages.store(bigBatch(room, sender));
        expect(outcomes.every((o) => 'stored' in o)).toBe(true);
        written += 20 * content.length;
        largest = Math.max(largest, walBytes());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(largest).toBeGreaterThan(RESTART_PAGES * 4096);
      expect(largest).toBeLessThan(threshold);
    });
  });
});

describe('search indexing (SQLite)', () => {
  it('reads only the queued messages: the queue drives the loop, each message found by its rowid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-db-'));
    const handle = createDatabase(join(dir, 'test.db'));
    try {
      await migrateToLatest(handle.db);
      const plan = await handle.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${searchRepository.INDEX_STEP_SQL.index}`, [1]),
      );
      // Not "SEARCH m USING INTEGER PRIMARY KEY (rowid<?)" first: that read every message below
      // the newest queued one for each chunk, so indexing slowed as the table grew.
      expect(plan.rows.map((r) => r.detail)).toEqual([
        'SEARCH p USING INTEGER PRIMARY KEY (rowid<?)',
        'SEARCH m USING INTEGER PRIMARY KEY (rowid=?)',
      ]);
    } finally {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('replay (SQLite)', () => {
  it("reads a member's messages after a position through the (conversation_id, seq) index, with no index by position to keep up", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-db-'));
    // The SQL readLogSince runs, as it reaches the database.
    const texts: string[] = [];
    const handle = createDatabase(join(dir, 'test.db'), {
      onQuery: (_ms, _failed, text) => texts.push(text),
    });
    try {
      await migrateToLatest(handle.db);
      const indexes = await handle.db.executeQuery<{ name: string }>(
        CompiledQuery.raw(`select name from sqlite_master where type = 'index' and tbl_name = 'messages'`),
      );
      expect(indexes.rows.map((r) => r.name)).not.toContain('messages_conversation_pos');
      texts.length = 0;
      await logRepository.readLogSince(handle.db, 'u', 0, 10);
      const replay = texts.find((text) => text.includes('"seen"'));
      expect(replay).toBeDefined();
      const plan = await handle.db.executeQuery<{ detail: string }>(
        // The plan does not depend on the values.
        CompiledQuery.raw(
          `explain query plan ${replay}`,
          replay!
            .split('?')
            .slice(1)
            .map(() => 0),
        ),
      );
      // Per conversation of the member: the newest message at or before the position, walking
      // the seq index back from the newest; then the messages after it, by the same index.
      expect(plan.rows.map((r) => r.detail).filter((d) => / (m|seen) /.test(d))).toEqual([
        'SEARCH m USING INDEX sqlite_autoindex_messages_2 (conversation_id=? AND seq>?)',
        'SEARCH seen USING INDEX sqlite_autoindex_messages_2 (conversation_id=?)',
      ]);
    } finally {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
