import type { Readable } from 'node:stream';
import { type FileRow, filesRepository } from '@pneumatic/db';
import type { ApiDeps } from '../deps.ts';
import { fail, invalidField, unknownId } from '../errors.ts';
import { isId } from '../schemas/common.ts';
import { type FileLink, isInlineImage, type UploadedFile } from '../schemas/files.schema.ts';
import { timeOrderedId } from '../time-ordered-id.ts';
import { requireMembership } from './conversations.service.ts';
import { fileUrl, type StoredAttachment, toAttachment } from './views.ts';

/** The start of a file kept in memory to tell its type and an image's size (JPEG puts EXIF first). */
const HEAD_BYTES = 128 * 1024;
const MAX_NAME_CHARACTERS = 200;
const DAY_MS = 24 * 3600 * 1000;
const MIB = 1024 * 1024;

export interface UploadRequest {
  /** As given: anything that is not a UUID is answered as an unknown conversation. */
  conversationId: string;
  /** The name the client gave; cleaned before it is stored. */
  name: string | undefined;
  /** Content-Length, when the client sent one: refused at once if too big. */
  declaredBytes: number | undefined;
  body: AsyncIterable<Uint8Array>;
}

function describeBytes(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}

function tooLarge(deps: ApiDeps): Error {
  return fail.tooLarge(`File too large: at most ${describeBytes(deps.settings.uploads.maxBytes)}`);
}

function overQuota(deps: ApiDeps): Error {
  return fail.tooManyRequests(
    `Upload quota exceeded: at most ${describeBytes(deps.settings.uploads.quotaBytesPerDay)} per day`,
  );
}

/**
 * A name safe to store and to put in a Content-Disposition header: the last
 * path segment, without control or bidirectional-override characters, no
 * leading dots or surrounding spaces, at most 200 characters (the extension
 * kept), `file` when nothing is left.
 */
export function cleanFileName(raw: string | undefined): string {
  let name = (raw ?? '').toWellFormed().normalize('NFC');
  name = name.split(/[/\\]/).pop() ?? '';
  name = name.replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/gu, '');
  name = name.trim().replace(/^\.+/, '').trim();
  const chars = [...name];
  if (chars.length > MAX_NAME_CHARACTERS) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 ? [...name.slice(dot)] : [];
    const keep = ext.length > 0 && ext.length <= 16 ? ext : [];
    name = chars.slice(0, MAX_NAME_CHARACTERS - keep.length).join('') + keep.join('');
  }
  return name.length > 0 ? name : 'file';
}

/** Type and, for images shown inline, pixel size, from the first bytes; never from the name. */
async function describeContent(head: Buffer): Promise<Pick<FileRow, 'type' | 'width' | 'height'>> {
  // Loaded on the first upload, not at start-up (file-type brings a few modules of its own).
  const [{ fileTypeFromBuffer }, { imageSize }] = await Promise.all([
    import('file-type'),
    import('image-size'),
  ]);
  const detected = await fileTypeFromBuffer(head).catch(() => undefined);
  const type = detected?.mime ?? 'application/octet-stream';
  if (!isInlineImage(type)) return { type, width: null, height: null };
  try {
    const { width, height } = imageSize(head);
    if (width > 0 && height > 0) return { type, width, height };
  } catch {
    // A header the parser cannot read (or beyond the head): shown without reserved size.
  }
  return { type, width: null, height: null };
}

function toUploadedFile(file: FileRow): UploadedFile {
  return { ...toAttachment(file), conversation_id: file.conversation_id, created_at: file.created_at };
}

/**
 * Stores an upload from a member of the conversation, streamed: bytes are
 * counted as they arrive and the upload stops (413, or 429 over the daily
 * quota) at the first byte too many, Content-Length or not. Whatever fails
 * leaves nothing behind: the row and the stored bytes are removed.
 */
export async function uploadFile(
  deps: ApiDeps,
  userId: string,
  request: UploadRequest,
): Promise<UploadedFile> {
  const { maxBytes, quotaBytesPerDay } = deps.settings.uploads;
  if (!isId(request.conversationId)) throw unknownId.conversation();
  const { db } = deps.database;
  await requireMembership(db, request.conversationId, userId);
  if (request.declaredBytes !== undefined && request.declaredBytes > maxBytes) throw tooLarge(deps);
  const now = new Date();
  const used = await filesRepository.bytesUploadedSince(
    db,
    userId,
    new Date(now.getTime() - DAY_MS).toISOString(),
  );
  const allowance = quotaBytesPerDay - used;
  if (allowance <= 0 || (request.declaredBytes !== undefined && request.declaredBytes > allowance))
    throw overQuota(deps);

  const id = timeOrderedId();
  await filesRepository.insertFile(db, {
    id,
    conversation_id: request.conversationId,
    uploader_id: userId,
    name: cleanFileName(request.name),
    size: 0,
    type: 'application/octet-stream',
    width: null,
    height: null,
    state: 'uploading',
    message_key: null,
    created_at: now.toISOString(),
  });
  const head: Buffer[] = [];
  let headBytes = 0;
  let total = 0;
  const counted = async function* () {
    for await (const chunk of request.body) {
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge(deps);
      if (total > allowance) throw overQuota(deps);
      if (headBytes < HEAD_BYTES) {
        const part = chunk.subarray(0, HEAD_BYTES - headBytes);
        head.push(Buffer.from(part));
        headBytes += part.byteLength;
      }
      yield chunk;
    }
  };
  try {
    const size = await deps.files.write(id, counted());
    const file = await filesRepository.completeFile(db, id, {
      size,
      ...(await describeContent(Buffer.concat(head))),
    });
    return toUploadedFile(file);
  } catch (error) {
    await discard(deps, [id]);
    throw error;
  }
}

/** Removes files' rows, then their bytes (a row without bytes is never served: rows go first). */
async function discard(deps: ApiDeps, ids: string[]): Promise<void> {
  await filesRepository.deleteFiles(deps.database.db, ids);
  await deps.files.remove(ids);
}

/** A file a user may read, and its bytes. */
export interface OpenedFile {
  file: FileRow;
  /** png, jpeg, gif or webp: may be shown inline. Anything else is sent as an attachment. */
  inline: boolean;
  body: Readable;
}

/**
 * The file, if `userId` may see it: a member of its conversation, once a
 * message carries it (its uploader also before). Anyone else, and any id
 * that names nothing, gets the same 404: a guessed id learns nothing.
 */
async function visibleFile(deps: ApiDeps, userId: string, fileId: string): Promise<FileRow> {
  const found = isId(fileId)
    ? await filesRepository.findFileForReader(deps.database.db, fileId, userId)
    : undefined;
  const visible =
    found?.file.state === 'ready' && found.isMember && (found.attached || found.file.uploader_id === userId);
  if (!visible) throw fail.notFound('File not found');
  return found.file;
}

/** Opens a file for `userId` (see visibleFile). */
export async function openFile(deps: ApiDeps, userId: string, fileId: string): Promise<OpenedFile> {
  const file = await visibleFile(deps, userId, fileId);
  return { file, inline: isInlineImage(file.type), body: deps.files.read(fileId) };
}

/** A download URL for `<img>` tags and links, signed for this file and user (see FileLinks). */
export async function linkFile(deps: ApiDeps, userId: string, fileId: string): Promise<FileLink> {
  const file = await visibleFile(deps, userId, fileId);
  const { access, expiresAt } = deps.fileLinks.sign(fileId, userId);
  return {
    url: `${fileUrl(fileId, file.name)}?access=${encodeURIComponent(access)}`,
    expires_at: expiresAt.toISOString(),
  };
}

/** What a message stores of the files it carries: `attachments` (JSON) and `attachment_names` (searched). */
export interface ClaimedFiles {
  attachments: string;
  attachment_names: string;
  list: StoredAttachment[];
}

/**
 * Gives the sender's pending uploads to the message they are sending
 * (`messageKey`: its client message_id), in the order asked. Each must be
 * the sender's own, to this conversation, stored, and carried by no other
 * message; else the send is refused (400) naming it, and nothing is sent.
 */
export async function claimAttachments(
  deps: ApiDeps,
  senderId: string,
  conversationId: string,
  messageKey: string,
  ids: readonly string[],
): Promise<ClaimedFiles> {
  const unique = [...new Set(ids)];
  const claimed = await filesRepository.claimFiles(deps.database.db, {
    ids: unique,
    uploaderId: senderId,
    conversationId,
    messageKey,
  });
  const byId = new Map(claimed.map((f) => [f.id, f]));
  const missing = unique.findIndex((id) => !byId.has(id));
  if (missing >= 0)
    throw invalidField(['attachment_ids', missing], `Unknown or unavailable file: ${unique[missing]}`);
  const list = unique.map((id) => {
    const { name, size, type, width, height } = byId.get(id)!;
    return { id, name, size, type, width, height };
  });
  return {
    attachments: JSON.stringify(list),
    attachment_names: list.map((f) => f.name).join('\n'),
    list,
  };
}

/** Deletes the files a deleted message carried: rows in the caller's transaction, bytes after (removeFileBytes). */
export function deleteFilesOfMessage(
  db: Parameters<typeof filesRepository.deleteFilesOfMessage>[0],
  senderId: string,
  messageKey: string,
): Promise<string[]> {
  return filesRepository.deleteFilesOfMessage(db, senderId, messageKey);
}

/**
 * Removes uploads abandoned longer than the pending time (never finished,
 * or never carried by a message), rows first, then bytes; returns how many.
 */
export async function sweepAbandonedFiles(deps: ApiDeps, now = Date.now()): Promise<number> {
  const before = new Date(now - deps.settings.uploads.pendingTtlSeconds * 1000).toISOString();
  let total = 0;
  for (;;) {
    const ids = await filesRepository.deleteAbandonedFiles(deps.database.db, before);
    await deps.files.remove(ids);
    total += ids.length;
    if (ids.length < 500) return total;
  }
}
