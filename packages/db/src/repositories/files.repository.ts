import { sql } from 'kysely';
import type { Executor } from '../create-database.ts';
import type { FileRow } from '../database.ts';

/** The file's `message_key` names no stored message (never claimed, or claimed by a send that failed). */
function noMessageHolds(file: 'files' | 'f') {
  return sql<boolean>`not exists (select 1 from messages m
    where m.sender_id = ${sql.ref(`${file}.uploader_id`)} and m.message_id = ${sql.ref(`${file}.message_key`)})`;
}

export async function insertFile(db: Executor, file: FileRow): Promise<void> {
  await db.insertInto('files').values(file).execute();
}

/** Marks an upload stored, with what its bytes turned out to be. */
export async function completeFile(
  db: Executor,
  id: string,
  facts: Pick<FileRow, 'size' | 'type' | 'width' | 'height'>,
): Promise<FileRow> {
  return db
    .updateTable('files')
    .set({ ...facts, state: 'ready' })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteFiles(db: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .deleteFrom('files')
    .where('id', 'in', [...ids])
    .execute();
}

export async function findFile(db: Executor, id: string): Promise<FileRow | undefined> {
  return db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * A file with what decides who may read it: whether `userId` is a member of
 * its conversation, and whether a message that was not deleted carries it.
 */
export async function findFileForReader(
  db: Executor,
  id: string,
  userId: string,
): Promise<{ file: FileRow; isMember: boolean; attached: boolean } | undefined> {
  const row = await db
    .selectFrom('files as f')
    .leftJoin('conversation_members as cm', (j) =>
      j.onRef('cm.conversation_id', '=', 'f.conversation_id').on('cm.user_id', '=', userId),
    )
    .leftJoin('messages as m', (j) =>
      j.onRef('m.sender_id', '=', 'f.uploader_id').onRef('m.message_id', '=', 'f.message_key'),
    )
    .selectAll('f')
    .select(['cm.user_id as member_id', 'm.id as carried_by', 'm.deleted_at as carried_deleted_at'])
    .where('f.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const { member_id, carried_by, carried_deleted_at, ...file } = row;
  return { file, isMember: member_id !== null, attached: carried_by !== null && carried_deleted_at === null };
}

/** Bytes `userId` uploaded since `since` (files still kept, finished or not). */
export async function bytesUploadedSince(db: Executor, userId: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('files')
    .select(sql<string | number | null>`sum(size)`.as('total'))
    .where('uploader_id', '=', userId)
    .where('created_at', '>', since)
    .executeTakeFirst();
  return Number(row?.total ?? 0);
}

/**
 * Gives these ready files of `uploaderId` in `conversationId` to the
 * message `(uploaderId, messageKey)`, unless another message that exists
 * holds them; returns the files it now holds, of those asked for.
 */
export async function claimFiles(
  db: Executor,
  options: { ids: readonly string[]; uploaderId: string; conversationId: string; messageKey: string },
): Promise<FileRow[]> {
  const { ids, uploaderId, conversationId, messageKey } = options;
  if (ids.length === 0) return [];
  return db
    .updateTable('files')
    .set({ message_key: messageKey })
    .where('id', 'in', [...ids])
    .where('uploader_id', '=', uploaderId)
    .where('conversation_id', '=', conversationId)
    .where('state', '=', 'ready')
    .where((eb) =>
      eb.or([eb('message_key', 'is', null), eb('message_key', '=', messageKey), noMessageHolds('files')]),
    )
    .returningAll()
    .execute();
}

/** Deletes the file rows a message carries; returns their ids (their bytes are the caller's to remove). */
export async function deleteFilesOfMessage(
  db: Executor,
  senderId: string,
  messageKey: string,
): Promise<string[]> {
  const rows = await db
    .deleteFrom('files')
    .where('uploader_id', '=', senderId)
    .where('message_key', '=', messageKey)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Deletes uploads abandoned before `before`: never finished, or finished but
 * carried by no message; returns their ids.
 */
export async function deleteAbandonedFiles(db: Executor, before: string, limit = 500): Promise<string[]> {
  const abandoned = db
    .selectFrom('files as f')
    .select('f.id')
    .where('f.created_at', '<', before)
    .where((eb) =>
      eb.or([eb('f.state', '=', 'uploading'), eb('f.message_key', 'is', null), noMessageHolds('f')]),
    )
    .limit(limit);
  const rows = await db.deleteFrom('files').where('id', 'in', abandoned).returning('id').execute();
  return rows.map((r) => r.id);
}
