import { PostgresAdapter, sql } from 'kysely';
import { compiledOnce, preparedText } from '../compiled-once.ts';
import type { Executor } from '../create-database.ts';
import type { Conversation, MemberRole, MessageRow } from '../database.ts';

export interface ConversationSummary {
  conversation: Conversation;
  members: string[];
  last_message: MessageRow | null;
  last_read_seq: number;
  /** Each member's last read seq. */
  read_seqs: Record<string, number>;
  /** Whether the user whose list this is muted it (never another member's). */
  muted: boolean;
  /** Unread messages (after the user's read marker) that mention the user. */
  unread_mentions: number;
  /** The owner and admins of a group, by user id. */
  roles: Record<string, MemberRole>;
}

/**
 * Inserts a conversation. For a 1-on-1 (non-null dm_key) whose pair already
 * has one, inserts nothing and returns null: the unique dm_key decides races.
 */
export async function insertConversation(db: Executor, conversation: Conversation): Promise<boolean> {
  const row = await db
    .insertInto('conversations')
    .values(conversation)
    .onConflict((oc) => oc.column('dm_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertMembers(
  db: Executor,
  conversationId: string,
  userIds: readonly string[],
  joinedAt: string,
  /** Roles of some of them (a new group's owner). */
  roles: Readonly<Record<string, MemberRole>> = {},
): Promise<void> {
  await db
    .insertInto('conversation_members')
    .values(
      userIds.map((user_id) => ({
        conversation_id: conversationId,
        user_id,
        joined_at: joinedAt,
        role: roles[user_id] ?? null,
      })),
    )
    .execute();
}

export async function findConversation(db: Executor, id: string): Promise<Conversation | undefined> {
  return db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findConversationByDmKey(
  db: Executor,
  dmKey: string,
): Promise<Conversation | undefined> {
  return db.selectFrom('conversations').selectAll().where('dm_key', '=', dmKey).executeTakeFirst();
}

/** Member ids in the order they joined, and the roles of those who have one. */
export async function listMembersWithRoles(
  db: Executor,
  conversationId: string,
): Promise<{ members: string[]; roles: Record<string, MemberRole> }> {
  const rows = await db
    .selectFrom('conversation_members')
    .select(['user_id', 'role'])
    .where('conversation_id', '=', conversationId)
    .orderBy('joined_at')
    .orderBy('user_id')
    .execute();
  const roles: Record<string, MemberRole> = {};
  for (const row of rows) if (row.role) roles[row.user_id] = row.role;
  return { members: rows.map((r) => r.user_id), roles };
}

/** The member's role: null for a plain member, undefined when not a member. */
export async function findMemberRole(
  db: Executor,
  conversationId: string,
  userId: string,
): Promise<MemberRole | null | undefined> {
  const row = await db
    .selectFrom('conversation_members')
    .select('role')
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? row.role : undefined;
}

export async function setMemberRole(
  db: Executor,
  conversationId: string,
  userId: string,
  role: MemberRole | null,
): Promise<void> {
  await db
    .updateTable('conversation_members')
    .set({ role })
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .execute();
}

/**
 * Who takes over a group whose owner leaves: its longest-standing admin,
 * else its longest-standing member; undefined when nobody else is left.
 */
export async function findSuccessor(
  db: Executor,
  conversationId: string,
  leavingUserId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('conversation_members')
    .select('user_id')
    .where('conversation_id', '=', conversationId)
    .where('user_id', '!=', leavingUserId)
    .orderBy(sql`case when role = 'admin' then 0 else 1 end`)
    .orderBy('joined_at')
    .orderBy('user_id')
    .limit(1)
    .executeTakeFirst();
  return row?.user_id;
}

/** The members with their names, roles and when they joined, in the order they joined (for exports). */
export async function listMemberDetails(db: Executor, conversationId: string) {
  return db
    .selectFrom('conversation_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.username', 'u.full_name', 'm.role', 'm.joined_at'])
    .where('m.conversation_id', '=', conversationId)
    .orderBy('m.joined_at')
    .orderBy('u.id')
    .execute();
}

/** The groups the user belongs to. */
export async function listGroupIdsOf(db: Executor, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('conversation_members as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .select('c.id')
    .where('m.user_id', '=', userId)
    .where('c.kind', '=', 'group')
    .orderBy('c.id')
    .execute();
  return rows.map((r) => r.id);
}

/** Member ids in the order they joined. */
export async function listMemberIds(db: Executor, conversationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('conversation_members')
    .select('user_id')
    .where('conversation_id', '=', conversationId)
    .orderBy('joined_at')
    .orderBy('user_id')
    .execute();
  return rows.map((r) => r.user_id);
}

/**
 * The conversation and whether `userId` is a member, in one query (one round
 * trip instead of two on every read a member makes). undefined: no such conversation.
 */
export async function findConversationForMember(
  db: Executor,
  conversationId: string,
  userId: string,
): Promise<{ conversation: Conversation; isMember: boolean } | undefined> {
  const row = await db
    .selectFrom('conversations')
    .leftJoin('conversation_members as m', (join) =>
      join.onRef('m.conversation_id', '=', 'conversations.id').on('m.user_id', '=', userId),
    )
    .selectAll('conversations')
    .select('m.user_id as member_id')
    .where('conversations.id', '=', conversationId)
    .executeTakeFirst();
  if (!row) return undefined;
  const { member_id, ...conversation } = row;
  return { conversation, isMember: member_id !== null };
}

export async function isMember(db: Executor, conversationId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('conversation_members')
    .select('user_id')
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Takes the conversation's next seq and records the activity. The row stays
 * locked until commit, which serializes senders of one conversation and keeps
 * seq free of gaps.
 */
export async function takeNextSeq(db: Executor, conversationId: string, now: string): Promise<number> {
  const row = await db
    .updateTable('conversations')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1), last_activity_at: now }))
    .where('id', '=', conversationId)
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  return row.last_seq;
}

/** The user's conversations, most recent activity first, with members and last message. */
export async function listConversationsForUser(db: Executor, userId: string): Promise<ConversationSummary[]> {
  const rows = await db
    .selectFrom('conversation_members as me')
    .innerJoin('conversations as c', 'c.id', 'me.conversation_id')
    .leftJoin('messages as m', (join) =>
      join.onRef('m.conversation_id', '=', 'c.id').onRef('m.seq', '=', 'c.last_seq'),
    )
    .selectAll('c')
    .select([
      'me.last_read_seq',
      'me.muted_at',
      'm.id as m_id',
      'm.seq as m_seq',
      'm.pos as m_pos',
      'm.sender_id as m_sender_id',
      'm.message_id as m_message_id',
      'm.content as m_content',
      'm.created_at as m_created_at',
      'm.edited_at as m_edited_at',
      'm.deleted_at as m_deleted_at',
      'm.kind as m_kind',
      'm.system as m_system',
      'm.reply_to as m_reply_to',
      'm.reply_sender_id as m_reply_sender_id',
      'm.reply_excerpt as m_reply_excerpt',
      'm.mentions as m_mentions',
      'm.reactions as m_reactions',
      'm.attachments as m_attachments',
      'm.attachment_names as m_attachment_names',
    ])
    // Messages after my read marker that mention me: only the unread part of the conversation is read.
    .select((eb) =>
      eb
        .selectFrom('messages as mm')
        .select((sub) => sub.fn.countAll().as('n'))
        .whereRef('mm.conversation_id', '=', 'c.id')
        .whereRef('mm.seq', '>', 'me.last_read_seq')
        .where('mm.mentions', 'like', `%"${userId}"%`)
        .as('unread_mentions'),
    )
    .where('me.user_id', '=', userId)
    .orderBy('c.last_activity_at', 'desc')
    .orderBy('c.id')
    .execute();
  if (rows.length === 0) return [];

  const memberRows = await db
    .selectFrom('conversation_members as mine')
    .innerJoin('conversation_members as cm', 'cm.conversation_id', 'mine.conversation_id')
    .select(['cm.conversation_id', 'cm.user_id', 'cm.last_read_seq', 'cm.role'])
    .where('mine.user_id', '=', userId)
    .orderBy('cm.joined_at')
    .orderBy('cm.user_id')
    .execute();
  const members = new Map<string, string[]>();
  const reads = new Map<string, Record<string, number>>();
  const roles = new Map<string, Record<string, MemberRole>>();
  for (const { conversation_id, user_id, last_read_seq, role } of memberRows) {
    if (role) roles.set(conversation_id, { ...roles.get(conversation_id), [user_id]: role });
    const list = members.get(conversation_id);
    if (list) list.push(user_id);
    else members.set(conversation_id, [user_id]);
    const seqs = reads.get(conversation_id) ?? {};
    seqs[user_id] = last_read_seq;
    reads.set(conversation_id, seqs);
  }

  return rows.map((r) => ({
    conversation: {
      id: r.id,
      kind: r.kind,
      title: r.title,
      dm_key: r.dm_key,
      created_by: r.created_by,
      created_at: r.created_at,
      last_seq: r.last_seq,
      last_activity_at: r.last_activity_at,
    },
    members: members.get(r.id) ?? [],
    last_read_seq: r.last_read_seq,
    read_seqs: reads.get(r.id) ?? {},
    muted: r.muted_at !== null,
    unread_mentions: Number(r.unread_mentions ?? 0),
    roles: roles.get(r.id) ?? {},
    last_message:
      r.m_id === null
        ? null
        : {
            id: r.m_id,
            conversation_id: r.id,
            seq: r.m_seq!,
            pos: r.m_pos!,
            sender_id: r.m_sender_id!,
            message_id: r.m_message_id!,
            content: r.m_content!,
            created_at: r.m_created_at!,
            edited_at: r.m_edited_at,
            deleted_at: r.m_deleted_at,
            kind: r.m_kind!,
            system: r.m_system,
            reply_to: r.m_reply_to,
            reply_sender_id: r.m_reply_sender_id,
            reply_excerpt: r.m_reply_excerpt,
            mentions: r.m_mentions,
            reactions: r.m_reactions,
            attachments: r.m_attachments,
            attachment_names: r.m_attachment_names,
          },
  }));
}

export async function removeMember(db: Executor, conversationId: string, userId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('conversation_members')
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows === 1n;
}

export async function renameConversation(db: Executor, conversationId: string, title: string): Promise<void> {
  await db.updateTable('conversations').set({ title }).where('id', '=', conversationId).execute();
}

/**
 * Moves the member's read position forward (never back, never past the last
 * message). Returns the new position, or null when it did not move.
 */
export async function advanceReadSeq(
  db: Executor,
  conversationId: string,
  userId: string,
  seq: number,
): Promise<number | null> {
  const row = await db
    .updateTable('conversation_members')
    .set((eb) => ({
      last_read_seq: eb
        .selectFrom('conversations')
        .select((inner) =>
          inner
            .case()
            .when('conversations.last_seq', '<', seq)
            .then(inner.ref('conversations.last_seq'))
            .else(seq)
            .end()
            .as('bounded'),
        )
        .where('conversations.id', '=', conversationId),
    }))
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .where('last_read_seq', '<', seq)
    .returning('last_read_seq')
    .executeTakeFirst();
  return row ? row.last_read_seq : null;
}

/**
 * Mutes the conversation for the member (`mutedAt`, when) or unmutes it
 * (null). Returns false when nothing changed: not a member, or already so.
 */
export async function setMutedAt(
  db: Executor,
  conversationId: string,
  userId: string,
  mutedAt: string | null,
): Promise<boolean> {
  const result = await db
    .updateTable('conversation_members')
    .set({ muted_at: mutedAt })
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .where('muted_at', mutedAt === null ? 'is not' : 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Each member's last read seq. */
export async function listMemberReads(db: Executor, conversationId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('conversation_members')
    .select(['user_id', 'last_read_seq'])
    .where('conversation_id', '=', conversationId)
    .execute();
  return new Map(rows.map((r) => [r.user_id, r.last_read_seq]));
}

/** On PostgreSQL: the counts as two arrays, one text for any batch (see preparedText). */
const takeSeqsOfManyPg = preparedText<{ id: string; last_seq: number }>(
  `update conversations c set last_seq = c.last_seq + k.n, last_activity_at = $3
    from unnest($1::uuid[], $2::int[]) as k(id, n)
    where c.id = k.id
      and c.id in (select id from conversations where id = any($1::uuid[]) order by id for update)
    returning c.id, c.last_seq`,
);

/**
 * Takes `counts.get(id)` consecutive seqs of each conversation in one
 * statement and returns the first of each. Rows are locked in id order
 * (PostgreSQL: `for update` in a sorted subquery; SQLite has one writer),
 * as every writer takes them, so two batches never deadlock.
 */
export async function takeSeqsOfMany(
  db: Executor,
  counts: ReadonlyMap<string, number>,
  now: string,
): Promise<Map<string, number>> {
  const ids = [...counts.keys()].sort();
  if (ids.length === 0) return new Map();
  const rows =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? await takeSeqsOfManyPg(db, [ids, ids.map((id) => counts.get(id)!), now])
      : await db
          .updateTable('conversations')
          .set((eb) => ({
            last_seq: eb(
              'last_seq',
              '+',
              sql<number>`case id ${sql.join(
                ids.map((id) => sql`when ${id} then cast(${counts.get(id)!} as integer)`),
                sql` `,
              )} end`,
            ),
            last_activity_at: now,
          }))
          .where('id', 'in', ids)
          .returning(['id', 'last_seq'])
          .execute();
  return new Map(rows.map((r) => [r.id, r.last_seq - counts.get(r.id)! + 1]));
}

/** On PostgreSQL: the read markers as three arrays, one text for any batch (see preparedText). */
const readUpToManyPg = preparedText(
  `update conversation_members m set last_read_seq = k.seq
    from unnest($1::uuid[], $2::uuid[], $3::int[]) as k(conversation_id, user_id, seq)
    where m.conversation_id = k.conversation_id and m.user_id = k.user_id and m.last_read_seq < k.seq`,
);

/**
 * Members have read up to the given seqs (messages of their own): each moves
 * forward only. One statement; a member once in `reads`.
 */
export async function readUpToMany(
  db: Executor,
  reads: readonly { conversationId: string; userId: string; seq: number }[],
): Promise<void> {
  if (reads.length === 0) return;
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await readUpToManyPg(db, [
      reads.map((r) => r.conversationId),
      reads.map((r) => r.userId),
      reads.map((r) => r.seq),
    ]);
    return;
  }
  const seq = sql<number>`case ${sql.join(
    reads.map(
      (r) =>
        sql`when conversation_id = ${r.conversationId} and user_id = ${r.userId} and last_read_seq < ${r.seq}
          then cast(${r.seq} as integer)`,
    ),
    sql` `,
  )} else last_read_seq end`;
  await db
    .updateTable('conversation_members')
    .set({ last_read_seq: seq })
    .where((eb) =>
      eb.or(
        reads.map((r) =>
          eb.and([eb('conversation_id', '=', r.conversationId), eb('user_id', '=', r.userId)]),
        ),
      ),
    )
    .execute();
}

/** Users asked about in one contacts query. */
const CONTACTS_CHUNK = 500;

/**
 * The contacts of the users in `ids`, a JSON array: one SQL text for any
 * number of them, compiled once (the query was built anew for every batch of
 * presence changes, and it is what the server runs while sockets connect).
 */
const contactsOf = compiledOnce(
  (db, ids: string) =>
    db
      .selectFrom('conversation_members as mine')
      .innerJoin('conversation_members as other', 'other.conversation_id', 'mine.conversation_id')
      .select(['mine.user_id as user_id', 'other.user_id as contact_id'])
      .distinct()
      .where(
        'mine.user_id',
        'in',
        db.getExecutor().adapter instanceof PostgresAdapter
          ? sql<string>`(select json_array_elements_text(${ids}::json)::uuid)`
          : sql<string>`(select value from json_each(${ids}))`,
      )
      .whereRef('other.user_id', '!=', 'mine.user_id'),
  1,
);

/**
 * Everyone who shares at least one conversation with each of `userIds`,
 * themself excluded, by user: what presence tells when they come online or
 * go offline. One query for a batch of them (a chunk of 500 each).
 */
export async function listContactIdsOf(
  db: Executor,
  userIds: readonly string[],
): Promise<Map<string, string[]>> {
  const contacts = new Map<string, string[]>(userIds.map((id) => [id, []]));
  for (let i = 0; i < userIds.length; i += CONTACTS_CHUNK) {
    const rows = await contactsOf(db, JSON.stringify(userIds.slice(i, i + CONTACTS_CHUNK)));
    for (const row of rows) contacts.get(row.user_id)?.push(row.contact_id);
  }
  return contacts;
}

/** Everyone who shares at least one conversation with `userId`, themself excluded. */
export async function listContactIds(db: Executor, userId: string): Promise<string[]> {
  return (await listContactIdsOf(db, [userId])).get(userId) ?? [];
}

/** Members of several conversations at once; conversations that do not exist are absent. */
export async function listMembersOf(
  db: Executor,
  conversationIds: readonly string[],
): Promise<Map<string, string[]>> {
  const members = new Map<string, string[]>();
  if (conversationIds.length === 0) return members;
  const rows = await db
    .selectFrom('conversations as c')
    .leftJoin('conversation_members as cm', 'cm.conversation_id', 'c.id')
    .select(['c.id', 'cm.user_id'])
    .where('c.id', 'in', [...conversationIds])
    .orderBy('cm.joined_at')
    .orderBy('cm.user_id')
    .execute();
  for (const { id, user_id } of rows) {
    const list = members.get(id) ?? [];
    if (user_id) list.push(user_id);
    members.set(id, list);
  }
  return members;
}

/** A member has read up to `seq` (their own message): moves forward only. */
export async function readUpTo(
  db: Executor,
  conversationId: string,
  userId: string,
  seq: number,
): Promise<void> {
  await db
    .updateTable('conversation_members')
    .set({ last_read_seq: seq })
    .where('conversation_id', '=', conversationId)
    .where('user_id', '=', userId)
    .where('last_read_seq', '<', seq)
    .execute();
}
