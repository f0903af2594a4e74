import { conversationsRepository, type Executor } from '../src/index.ts';

/** Users with these ids (named after their place in the list), and group conversations of all of them. */
export async function seedRooms(
  db: Executor,
  userIds: readonly string[],
  roomIds: readonly string[],
): Promise<void> {
  const now = new Date().toISOString();
  for (const [i, id] of userIds.entries()) {
    const name = `user${i}_${id.slice(0, 8)}`;
    await db
      .insertInto('users')
      .values({ id, username: name, username_lower: name, password_hash: 'x', created_at: now })
      .execute();
  }
  for (const id of roomIds) {
    await conversationsRepository.insertConversation(db, {
      id,
      kind: 'group',
      title: 'room',
      dm_key: null,
      created_by: userIds[0]!,
      created_at: now,
      last_seq: 0,
      last_activity_at: now,
    });
    await conversationsRepository.insertMembers(db, id, [...userIds], now);
  }
}
