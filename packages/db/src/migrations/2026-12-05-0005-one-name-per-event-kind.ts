import { type Kysely, type RawBuilder, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and never import application types.
type AnyDb = Kysely<any>;

/**
 * Events are named as the client stream names them: edits and deletes are
 * both `message_updated` (the message row says which), a conversation
 * created or changed is `conversation`. `events.kind` has no CHECK
 * constraint in either dialect, so renaming the rows is all it takes.
 */
export async function up(db: AnyDb): Promise<void> {
  await rename(db, ['message.edited', 'message.deleted'], 'message_updated');
  await rename(db, ['conversation.created', 'conversation.updated'], 'conversation');
}

/** Back to the former names, recovered from what the rows still say. */
export async function down(db: AnyDb): Promise<void> {
  // A deleted message's last change is its deletion: nothing changes a deleted message.
  await renameOnePerGroup(db, 'message_updated', 'message.deleted', {
    per: 'subject_id',
    pick: 'max',
    where: sql<boolean>`exists (select 1 from messages
      where cast(messages.id as text) = events.subject_id and messages.deleted_at is not null)`,
  });
  await rename(db, ['message_updated'], 'message.edited');
  // A conversation's first event is its creation.
  await renameOnePerGroup(db, 'conversation', 'conversation.created', {
    per: 'conversation_id',
    pick: 'min',
  });
  await rename(db, ['conversation'], 'conversation.updated');
}

async function rename(db: AnyDb, from: string[], to: string): Promise<void> {
  await db.updateTable('events').set({ kind: to }).where('kind', 'in', from).execute();
}

/**
 * Renames, of each group of `from` events with the same `per`, the first
 * (`min`) or last (`max`) by position, if it also matches `where`. A group
 * counts its renamed rows too, so the result does not depend on the order
 * the database updates rows in.
 */
async function renameOnePerGroup(
  db: AnyDb,
  from: string,
  to: string,
  group: { per: 'subject_id' | 'conversation_id'; pick: 'min' | 'max'; where?: RawBuilder<boolean> },
): Promise<void> {
  const { per, pick, where } = group;
  await db
    .updateTable('events')
    .set({ kind: to })
    .where('kind', '=', from)
    .$if(where !== undefined, (qb) => qb.where(where!))
    .where((eb) =>
      eb(
        'pos',
        '=',
        eb
          .selectFrom('events as other')
          .select(eb.fn[pick]('other.pos').as('pos'))
          .whereRef(`other.${per}`, '=', `events.${per}`)
          .where('other.kind', 'in', [from, to]),
      ),
    )
    .execute();
}
