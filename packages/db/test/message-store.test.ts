import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conversationsRepository,
  createDatabase,
  type DatabaseHandle,
  type Dialect,
  databaseOutage,
  logRepository,
  migrateToLatest,
  type NewMessage,
  SqliteWriter,
  searchRepository,
} from '../src/index.ts';
import { type OpenTestDatabase, openTestDatabase, seedRooms } from '../src/testing.ts';

/** Every store: PostgreSQL's, SQLite's on the main connection (the CLI), SQLite's writer thread (servers). */
const STORES: { name: string; dialect: Dialect; writerThread: boolean }[] = [
  { name: 'postgres', dialect: 'postgres', writerThread: false },
  { name: 'sqlite, main connection', dialect: 'sqlite', writerThread: false },
  { name: 'sqlite, writer thread', dialect: 'sqlite', writerThread: true },
];

describe.each(STORES)('the message store ($name)', ({ dialect, writerThread }) => {
  let database: OpenTestDatabase;
  let handle: DatabaseHandle;
  const now = new Date().toISOString();
  const alice = randomUUID();
  const bob = randomUUID();
  const rooms = [randomUUID(), randomUUID()] as const;

  const message = (conversationId: string, senderId = alice, content = 'hello'): NewMessage => ({
    id: randomUUID(),
    conversation_id: conversationId,
    sender_id: senderId,
    message_id: randomUUID(),
    content,
    created_at: now,
  });

  beforeAll(async () => {
    database = await openTestDatabase(dialect, { writerThread, sqliteSynchronous: 'FULL' });
    handle = database.handle;
    await migrateToLatest(handle.db);
    await seedRooms(handle.db, [alice, bob], rooms);
  });
  afterAll(() => database.close());

  it('stores a batch in one go: seqs per conversation in order, log positions consecutive', async () => {
    const [a, b] = rooms;
    const head = await handle.db.selectFrom('log_head').select('pos').executeTakeFirstOrThrow();
    const batch = [message(a), message(b), message(a, bob), message(a)];
    const outcomes = await handle.messages.store(batch);
    expect(outcomes.map((o) => ('stored' in o ? o.stored.seq : o))).toEqual([1, 1, 2, 3]);
    expect(outcomes.map((o) => ('stored' in o ? o.stored.pos - head.pos : o))).toEqual([1, 2, 3, 4]);
    const rows = await handle.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', a)
      .execute();
    expect(rows.map((r) => [r.seq, r.sender_id, r.kind]).sort()).toEqual([
      [1, alice, 'user'],
      [2, bob, 'user'],
      [3, alice, 'user'],
    ]);
    expect((await conversationsRepository.findConversation(handle.db, a))!.last_seq).toBe(3);
  });

  it("moves each sender's read marker to their newest message", async () => {
    const [, b] = rooms;
    await handle.messages.store([message(b, bob), message(b, bob), message(b)]);
    const markers = await handle.db
      .selectFrom('conversation_members')
      .select(['user_id', 'last_read_seq'])
      .where('conversation_id', '=', b)
      .execute();
    const seqOf = (user: string) => markers.find((m) => m.user_id === user)!.last_read_seq;
    expect([seqOf(alice), seqOf(bob)]).toEqual([4, 3]);
  });

  it('reports a message_id the sender used before, with what was stored then, and stores nothing for it', async () => {
    const [a] = rooms;
    const first = message(a, alice, 'original');
    await handle.messages.store([first]);
    const [again, fresh] = await handle.messages.store([
      { ...first, id: randomUUID(), content: 'changed' },
      message(a),
    ]);
    expect(again).toEqual({ existing: expect.objectContaining({ id: first.id, content: 'original' }) });
    expect(fresh).toEqual({ stored: expect.objectContaining({ seq: expect.any(Number) }) });
    const copies = await handle.db
      .selectFrom('messages')
      .select('id')
      .where('message_id', '=', first.message_id)
      .execute();
    expect(copies).toHaveLength(1);
  });

  it('leaves no gap in seqs or log positions for a repeat among new messages', async () => {
    const [a, b] = rooms;
    const used = message(b, bob, 'sent before');
    await handle.messages.store([used]);
    const before = (await conversationsRepository.findConversation(handle.db, a))!.last_seq;
    const head = await handle.db.selectFrom('log_head').select('pos').executeTakeFirstOrThrow();
    const outcomes = await handle.messages.store([message(a), used, message(a, bob), message(b)]);
    expect(outcomes[1]).toEqual({ existing: expect.objectContaining({ id: used.id }) });
    expect(
      outcomes.filter((o) => 'stored' in o).map((o) => 'stored' in o && o.stored.pos - head.pos),
    ).toEqual([1, 2, 3]);
    expect(outcomes.map((o) => ('stored' in o ? o.stored.seq : null)).slice(0, 3)).toEqual([
      before + 1,
      null,
      before + 2,
    ]);
    expect((await conversationsRepository.findConversation(handle.db, a))!.last_seq).toBe(before + 2);
    const head2 = await handle.db.selectFrom('log_head').select('pos').executeTakeFirstOrThrow();
    expect(head2.pos - head.pos).toBe(3);
  });

  it('stores a full batch across many conversations, a repeat among them', async () => {
    const many = Array.from({ length: 300 }, () => randomUUID());
    for (const id of many) {
      await conversationsRepository.insertConversation(handle.db, {
        id,
        kind: 'group',
        title: 'one of many',
        dm_key: null,
        created_by: alice,
        created_at: now,
        last_seq: 0,
        last_activity_at: now,
      });
      await conversationsRepository.insertMembers(handle.db, id, [alice, bob], now);
    }
    const used = message(many[0]!, bob, 'sent before');
    await handle.messages.store([used]);
    const { maxBatch } = handle.messages;
    const batch = Array.from({ length: maxBatch - 1 }, (_, i) =>
      message(many[i % many.length]!, i % 2 ? bob : alice, `message ${i}`),
    );
    batch.splice(maxBatch >> 1, 0, { ...used, id: randomUUID(), content: 'sent again' });
    const head = await handle.db.selectFrom('log_head').select('pos').executeTakeFirstOrThrow();

    const outcomes = await handle.messages.store(batch);

    expect(outcomes[maxBatch >> 1]).toEqual({ existing: expect.objectContaining({ id: used.id }) });
    const stored = outcomes.filter((o) => 'stored' in o).map((o) => o.stored);
    expect(stored.map((o) => o.pos - head.pos)).toEqual(
      Array.from({ length: maxBatch - 1 }, (_, i) => i + 1),
    );
    const rows = await handle.db
      .selectFrom('messages')
      .select(['conversation_id', 'sender_id', 'seq'])
      .where('conversation_id', 'in', many)
      .orderBy('conversation_id')
      .orderBy('seq')
      .execute();
    expect(rows).toHaveLength(maxBatch);
    for (const id of many) {
      const seqs = rows.filter((r) => r.conversation_id === id).map((r) => r.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
    // Each sender's read marker at their newest message of each room.
    const markers = await handle.db
      .selectFrom('conversation_members')
      .select(['conversation_id', 'user_id', 'last_read_seq'])
      .where('conversation_id', 'in', many)
      .execute();
    expect(markers).toHaveLength(2 * many.length);
    for (const marker of markers) {
      const own = rows.filter(
        (r) => r.conversation_id === marker.conversation_id && r.sender_id === marker.user_id,
      );
      expect(marker.last_read_seq).toBe(Math.max(0, ...own.map((r) => r.seq)));
    }
  });

  it("continues a conversation's seqs after another connection took one (a system message)", async () => {
    const [a] = rooms;
    const [first] = await handle.messages.store([message(a)]);
    const taken = await conversationsRepository.takeNextSeq(handle.db, a, now);
    const [second] = await handle.messages.store([message(a)]);
    expect(first).toMatchObject({ stored: { seq: taken - 1 } });
    expect(second).toMatchObject({ stored: { seq: taken + 1 } });
    expect((await conversationsRepository.findConversation(handle.db, a))!.last_seq).toBe(taken + 1);
  });

  it('stores a message from a user who is not a member: who may send is decided before the store', async () => {
    const [a] = rooms;
    const carol = randomUUID();
    await handle.db
      .insertInto('users')
      .values({
        id: carol,
        username: `carol_${carol}`,
        username_lower: `carol_${carol}`,
        password_hash: 'x',
        created_at: now,
      })
      .execute();
    const [outcome] = await handle.messages.store([message(a, carol)]);
    expect('stored' in outcome!).toBe(true);
  });

  it('reports a conversation that no longer exists, and stores the rest', async () => {
    const [a] = rooms;
    const [gone, kept] = await handle.messages.store([message(randomUUID()), message(a)]);
    expect(gone).toEqual({ missing: true });
    expect('stored' in kept!).toBe(true);
  });

  it('makes what it stored findable by search', async () => {
    const [a] = rooms;
    await handle.messages.store([message(a, alice, 'a quokka smiles')]);
    await handle.messages.indexForSearch();
    const hits = await searchRepository.searchMessages(handle.db, dialect, {
      userId: alice,
      words: ['quokka'],
      limit: 5,
      marks: ['[', ']'],
    });
    expect(hits.map((h) => h.message.content)).toEqual(['a quokka smiles']);
  });

  it("replays a member's messages after any log position, across their conversations, in log order", async () => {
    // A room bob is not in: its messages are never his.
    const aliceOnly = randomUUID();
    await conversationsRepository.insertConversation(handle.db, {
      id: aliceOnly,
      kind: 'group',
      title: 'alice alone',
      dm_key: null,
      created_by: alice,
      created_at: now,
      last_seq: 0,
      last_activity_at: now,
    });
    await conversationsRepository.insertMembers(handle.db, aliceOnly, [alice], now);
    const rooms3 = [...rooms, aliceOnly];
    const { pos: start } = await handle.db.selectFrom('log_head').select('pos').executeTakeFirstOrThrow();
    // Batches of several sizes, conversations interleaved within and across them.
    for (let b = 0; b < 12; b++) {
      const batch = Array.from({ length: 1 + (b % 5) }, (_, i) =>
        message(rooms3[(b + i * 2) % 3]!, i % 2 ? bob : alice),
      );
      await handle.messages.store(
        batch.filter((m) => m.sender_id === alice || m.conversation_id !== aliceOnly),
      );
    }
    const { pos: head } = await handle.db.selectFrom('log_head').select('pos').executeTakeFirstOrThrow();
    const everything = await handle.db
      .selectFrom('messages')
      .select(['id', 'pos', 'conversation_id'])
      .where('conversation_id', 'in', rooms)
      .orderBy('pos')
      .execute();
    for (let after = start - 1; after <= head; after++) {
      for (const limit of [1, 3, 1000]) {
        const replayed = (await logRepository.readLogSince(handle.db, bob, after, limit))
          .filter((entry) => entry.kind === 'message')
          .map((entry) => entry.message.id);
        const expected = everything
          .filter((m) => m.pos > after)
          .slice(0, limit)
          .map((m) => m.id);
        expect(replayed, `after ${after}, limit ${limit}`).toEqual(expected);
      }
    }
  });

  it('finds a repeat whose message_id has quotes, backslashes, commas and braces', async () => {
    const [a] = rooms;
    // What a client may send as its idempotency key; on PostgreSQL it travels in an array literal.
    const key = `k"1\\,{2} 'x'`;
    const first = { ...message(a), message_id: key };
    const [stored] = await handle.messages.store([first]);
    expect(stored).toEqual({ stored: expect.anything() });
    const again = await handle.messages.store([message(a), { ...first, id: randomUUID() }]);
    expect(again[0]).toEqual({ stored: expect.anything() });
    expect(again[1]).toEqual({ existing: expect.objectContaining({ id: first.id, message_id: key }) });
  });

  it('fails a batch as a whole, with the database’s own error code', async () => {
    const [a] = rooms;
    // A sender that is no user breaks a foreign key: nothing of the batch is stored.
    const good = message(a);
    const error = await handle.messages.store([good, message(a, randomUUID())]).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toMatch(/^(SQLITE_CONSTRAINT_FOREIGNKEY|23503)$/);
    const stored = await handle.db.selectFrom('messages').select('id').where('id', '=', good.id).execute();
    expect(stored).toEqual([]);
    // Nothing of it taken either: the next batch goes on from the conversation's last seq.
    const last = (await conversationsRepository.findConversation(handle.db, a))!.last_seq;
    const [next] = await handle.messages.store([message(a)]);
    expect(next).toMatchObject({ stored: { seq: last + 1 } });
  });
});

describe('two instances storing into one PostgreSQL database at once', () => {
  let database: OpenTestDatabase;
  let other: DatabaseHandle;
  const now = new Date().toISOString();
  const users = [randomUUID(), randomUUID(), randomUUID()];
  const rooms = Array.from({ length: 12 }, () => randomUUID());

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    await migrateToLatest(database.handle.db);
    await seedRooms(database.handle.db, users, rooms);
    other = createDatabase(database.url);
  });
  afterAll(async () => {
    await other.close();
    await database.close();
  });

  it('orders overlapping batches without a deadlock: every message once, seqs gapless, a repeat found', async () => {
    const message = (conversationId: string, k: number): NewMessage => ({
      id: randomUUID(),
      conversation_id: conversationId,
      sender_id: users[k % users.length]!,
      message_id: randomUUID(),
      content: `message ${k}`,
      created_at: now,
    });
    // Each round: both instances write to every room, in opposite orders, and both send one
    // message_id of the same sender (a client retrying through the other instance).
    const rounds = await Promise.all(
      Array.from({ length: 10 }, async (_, round) => {
        const shared = message(rooms[round]!, round);
        const mine = rooms.map((room, k) => message(room, k + round));
        const theirs = [...rooms].reverse().map((room, k) => message(room, k + round + 1));
        const copy = { ...shared, id: randomUUID() };
        const [a, b] = await Promise.all([
          database.handle.messages.store([...mine, shared]),
          other.messages.store([copy, ...theirs]),
        ]);
        return { shared, copy, a, b };
      }),
    );

    for (const { shared, copy, a, b } of rounds) {
      const fromA = a.at(-1)!;
      const fromB = b[0]!;
      // Stored once; the other instance reports the row it found.
      if ('stored' in fromA) expect(fromB).toEqual({ existing: expect.objectContaining({ id: shared.id }) });
      else expect(fromA).toEqual({ existing: expect.objectContaining({ id: copy.id }) });
      expect([...a.slice(0, -1), ...b.slice(1)].every((o) => 'stored' in o)).toBe(true);
    }
    const rows = await database.handle.db
      .selectFrom('messages')
      .select(['conversation_id', 'seq', 'pos'])
      .execute();
    expect(rows).toHaveLength(10 * (2 * rooms.length + 1));
    expect(new Set(rows.map((r) => r.pos)).size).toBe(rows.length);
    for (const room of rooms) {
      const seqs = rows
        .filter((r) => r.conversation_id === room)
        .map((r) => r.seq)
        .sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
    const counters = await database.handle.db
      .selectFrom('conversations')
      .select(['id', 'last_seq'])
      .execute();
    for (const { id, last_seq } of counters)
      expect(last_seq).toBe(rows.filter((r) => r.conversation_id === id).length);
  });
});

describe('the SQLite writer thread when it dies', () => {
  let database: OpenTestDatabase;
  let writer: SqliteWriter;
  const now = new Date().toISOString();
  const alice = randomUUID();
  const room = randomUUID();
  const message = (): NewMessage => ({
    id: randomUUID(),
    conversation_id: room,
    sender_id: alice,
    message_id: randomUUID(),
    content: 'x',
    created_at: now,
  });

  beforeAll(async () => {
    database = await openTestDatabase('sqlite', { writerThread: true });
    await migrateToLatest(database.handle.db);
    await seedRooms(database.handle.db, [alice], [room]);
    writer = database.handle.messages as SqliteWriter;
    expect(writer).toBeInstanceOf(SqliteWriter);
  });
  afterAll(() => database.close());

  it('fails the batch in flight as an outage, says so while down, and is back by itself', async () => {
    await writer.store([message()]);
    const inFlight = writer.store(Array.from({ length: 200 }, message));
    await writer.interrupt();
    const error = await inFlight.catch((e: unknown) => e);
    expect(databaseOutage(error)).toBe('unavailable');
    await expect(database.handle.ping()).rejects.toThrow(/message writer/);
    // Nothing of the failed batch is half there: it was all or nothing.
    const count = async () =>
      Number(
        (
          await database.handle.db
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect([1, 201]).toContain(await count());
    await expect
      .poll(
        () =>
          database.handle.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 3000 },
      )
      .toBe(true);
    const [after] = await writer.store([message()]);
    expect('stored' in after!).toBe(true);
  });
});

describe('starting the SQLite writer thread', () => {
  it('starts it before any batch, so the first send does not wait for it', async () => {
    const database = await openTestDatabase('sqlite', { writerThread: true });
    try {
      await migrateToLatest(database.handle.db);
      const writer = database.handle.messages as SqliteWriter;
      await writer.start();
      // Asked again, it answers at once: the thread is up.
      await writer.start();
      // Only a thread that runs can be stopped: readiness says so until it is back.
      await writer.interrupt();
      await expect(database.handle.ping()).rejects.toThrow(/message writer/);
      // Started again by itself; `start` waits for that.
      await writer.start();
      await database.handle.ping();
    } finally {
      await database.close();
    }
  });

  it("gathers its commits' WAL frames under synchronous=FULL, and only then", async () => {
    for (const synchronous of ['FULL', 'NORMAL'] as const) {
      const database = await openTestDatabase('sqlite', {
        writerThread: true,
        sqliteSynchronous: synchronous,
      });
      try {
        await migrateToLatest(database.handle.db);
        const writer = database.handle.messages as SqliteWriter;
        await writer.start();
        expect(writer.walBuffered).toBe(synchronous === 'FULL');
      } finally {
        await database.close();
      }
    }
  });

  it('rejects as an outage when the thread cannot open the database', async () => {
    const errors: Error[] = [];
    const writer = new SqliteWriter({
      path: `/nonexistent-${randomUUID()}/messages.db`,
      synchronous: 'FULL',
      cacheKib: 1024,
      walLimitBytes: 1 << 20,
      busyTimeoutMs: 100,
      onError: (error) => errors.push(error),
    });
    try {
      const error = await writer.start().catch((e: unknown) => e);
      expect(databaseOutage(error)).toBe('unavailable');
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await writer.close();
    }
  });
});
