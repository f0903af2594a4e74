import type { Executor } from '../create-database.ts';
import type { EventRowKind, MessageRow } from '../database.ts';
import type { OfEventKinds } from '../event-kinds.ts';

/**
 * Reserves `count` consecutive log positions and returns the first. The
 * log_head row stays locked until commit, so in PostgreSQL positions become
 * visible in the order they were handed out (SQLite has one writer anyway):
 * a reader that has seen position p never later finds a new one below p.
 * Take positions last in a transaction, to hold that lock briefly.
 */
export async function takePositions(db: Executor, count = 1): Promise<number> {
  const row = await db
    .updateTable('log_head')
    .set((eb) => ({ pos: eb('pos', '+', count) }))
    .where('id', '=', 1)
    .returning('pos')
    .executeTakeFirstOrThrow();
  return row.pos - count + 1;
}

export async function insertEvent(
  db: Executor,
  event: {
    pos: number;
    kind: EventRowKind;
    conversation_id: string;
    actor_id: string;
    created_at: string;
    subject_id?: string | null;
  },
): Promise<void> {
  await db.insertInto('events').values(event).execute();
}

/**
 * Logs a change to a message (an edit, a delete, its reactions) at the next
 * position, by `actorId`; returns the position. Call it last in the transaction.
 */
export async function logMessageChange(
  db: Executor,
  kind: Extract<EventRowKind, 'message_updated' | 'reaction'>,
  message: { id: string; conversation_id: string },
  actorId: string,
  at: string,
): Promise<number> {
  const pos = await takePositions(db);
  await insertEvent(db, {
    pos,
    kind,
    conversation_id: message.conversation_id,
    actor_id: actorId,
    created_at: at,
    subject_id: message.id,
  });
  return pos;
}

export type LogEntry = OfEventKinds<
  | { kind: 'message'; pos: number; message: MessageRow }
  | {
      kind: EventRowKind;
      pos: number;
      conversation_id: string;
      actor_id: string;
      created_at: string;
      subject_id: string | null;
    }
>;

/**
 * What `userId` may see after position `after`, in position order, at most
 * `limit` entries: messages and events of the conversations they belong to now.
 *
 * Messages are found by seq: within a conversation seq and pos grow together
 * (every writer takes the conversation's seqs, then log positions, in one
 * transaction), so a conversation's messages after `after` are those after
 * its newest message at or before it, which a backward walk of the
 * `(conversation_id, seq)` index finds past only the newer ones. No index by
 * (conversation, position) is kept: it cost every send a page of its own.
 */
export async function readLogSince(
  db: Executor,
  userId: string,
  after: number,
  limit: number,
): Promise<LogEntry[]> {
  const [messages, events] = await Promise.all([
    db
      .selectFrom('conversation_members as cm')
      .innerJoin('messages as m', 'm.conversation_id', 'cm.conversation_id')
      .selectAll('m')
      .where('cm.user_id', '=', userId)
      .where('m.seq', '>', (eb) =>
        eb.fn.coalesce(
          eb
            .selectFrom('messages as seen')
            .select('seen.seq')
            .whereRef('seen.conversation_id', '=', 'cm.conversation_id')
            .where('seen.pos', '<=', after)
            .orderBy('seen.seq', 'desc')
            .limit(1),
          eb.lit(0),
        ),
      )
      .orderBy('m.pos')
      .limit(limit)
      .execute(),
    db
      .selectFrom('conversation_members as cm')
      .innerJoin('events as e', 'e.conversation_id', 'cm.conversation_id')
      .selectAll('e')
      .where('cm.user_id', '=', userId)
      .where('e.pos', '>', after)
      .orderBy('e.pos')
      .limit(limit)
      .execute(),
  ]);
  const entries: LogEntry[] = [
    ...messages.map((message): LogEntry => ({ kind: 'message', pos: message.pos, message })),
    ...events.map((e): LogEntry => ({ ...e })),
  ];
  entries.sort((a, b) => a.pos - b.pos);
  return entries.slice(0, limit);
}

/** The last position handed out; where a new listener's stream starts. */
export async function readLogHead(db: Executor): Promise<number> {
  const row = await db.selectFrom('log_head').select('pos').where('id', '=', 1).executeTakeFirstOrThrow();
  return row.pos;
}

/** Every entry with a position in [from, to], in order, whoever may see it. */
export async function readLogRange(db: Executor, from: number, to: number): Promise<LogEntry[]> {
  const [messages, events] = await Promise.all([
    db.selectFrom('messages').selectAll().where('pos', '>=', from).where('pos', '<=', to).execute(),
    db.selectFrom('events').selectAll().where('pos', '>=', from).where('pos', '<=', to).execute(),
  ]);
  const entries: LogEntry[] = [
    ...messages.map((message): LogEntry => ({ kind: 'message', pos: message.pos, message })),
    ...events.map((e): LogEntry => ({ ...e })),
  ];
  return entries.sort((a, b) => a.pos - b.pos);
}

/** The id shared by every instance on this database (made by a migration). */
export async function readClusterId(db: Executor): Promise<string> {
  const row = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', 'cluster_id')
    .executeTakeFirstOrThrow();
  return row.value;
}

const PRUNED_THROUGH = 'log_pruned_through';

/**
 * Deletes the events (edits, membership changes) at positions up to
 * `through` and records how far the log was pruned, so a stream resuming
 * from before that point is told to resync instead of replaying a log with
 * holes. Messages are history and stay. Returns the number deleted.
 */
export async function pruneEventsThrough(db: Executor, through: number): Promise<number> {
  if (through <= 0) return 0;
  // The mark first: a stream resuming meanwhile already resyncs rather than miss what goes.
  if (through > (await readPrunedThrough(db))) {
    await db
      .insertInto('meta')
      .values({ key: PRUNED_THROUGH, value: String(through) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(through) }))
      .execute();
  }
  const result = await db.deleteFrom('events').where('pos', '<=', through).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The last log position whose events may have been pruned (0: none). */
export async function readPrunedThrough(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('meta')
    .select('value')
    .where('key', '=', PRUNED_THROUGH)
    .executeTakeFirst();
  return row ? Number(row.value) : 0;
}
