import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationsRepository, migrateToLatest } from '../src/index.ts';
import { DIALECTS, type OpenTestDatabase, openTestDatabase, seedRooms } from '../src/testing.ts';

describe.each(DIALECTS)('contacts, for presence (%s)', (dialect) => {
  let database: OpenTestDatabase;
  // ann and ben share two rooms, ben and cat one; dan shares none.
  const [ann, ben, cat, dan] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const sorted = (ids: readonly string[] | undefined) => [...(ids ?? [])].sort();

  beforeAll(async () => {
    database = await openTestDatabase(dialect);
    await migrateToLatest(database.handle.db);
    await seedRooms(database.handle.db, [ann, ben], [randomUUID(), randomUUID()]);
    await seedRooms(database.handle.db, [cat, dan], []);
    const now = new Date().toISOString();
    const room = randomUUID();
    await conversationsRepository.insertConversation(database.handle.db, {
      id: room,
      kind: 'group',
      title: 'ben and cat',
      dm_key: null,
      created_by: ben,
      created_at: now,
      last_seq: 0,
      last_activity_at: now,
    });
    await conversationsRepository.insertMembers(database.handle.db, room, [ben, cat], now);
  });
  afterAll(() => database.close());

  it("finds each user's contacts in one call, each contact once, the user never among them", async () => {
    const contacts = await conversationsRepository.listContactIdsOf(database.handle.db, [ann, ben, cat, dan]);
    expect([...contacts.keys()].sort()).toEqual([ann, ben, cat, dan].sort());
    expect(contacts.get(ann)).toEqual([ben]);
    expect(sorted(contacts.get(ben))).toEqual(sorted([ann, cat]));
    expect(contacts.get(cat)).toEqual([ben]);
    expect(contacts.get(dan)).toEqual([]);
    expect(await conversationsRepository.listContactIds(database.handle.db, ben)).toHaveLength(2);
  });

  it('answers for more users than one chunk of the query, and for none', async () => {
    const strangers = Array.from({ length: 1200 }, () => randomUUID());
    const contacts = await conversationsRepository.listContactIdsOf(database.handle.db, [...strangers, ben]);
    expect(contacts.size).toBe(1201);
    expect(sorted(contacts.get(ben))).toEqual(sorted([ann, cat]));
    expect(contacts.get(strangers[0]!)).toEqual([]);
    expect((await conversationsRepository.listContactIdsOf(database.handle.db, [])).size).toBe(0);
  });
});
