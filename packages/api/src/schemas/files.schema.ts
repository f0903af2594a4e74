import { z } from 'zod';
import { Id, Timestamp } from './common.ts';

/** Image types shown inline; anything else (SVG included) is only ever downloaded. */
export const INLINE_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

export function isInlineImage(type: string): boolean {
  return (INLINE_IMAGE_TYPES as readonly string[]).includes(type);
}

/** A file carried by a message. */
export const Attachment = z
  .object({
    id: Id,
    /** The name it was uploaded under, cleaned of paths and control characters. */
    name: z.string(),
    /** Bytes. */
    size: z.number().int(),
    /** Decided from the bytes (`application/octet-stream` when unknown). */
    type: z.string(),
    /** For png, jpeg, gif and webp images: pixels, known before the image loads. */
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    /** Where members download it, with `Authorization: Bearer` (see `files.link` for a URL without a header). */
    url: z.string(),
  })
  .meta({ id: 'Attachment' });
export type Attachment = z.infer<typeof Attachment>;

/** An upload, as `POST /files` answers: pending until a message of its uploader carries it. */
export const UploadedFile = Attachment.extend({
  conversation_id: Id,
  created_at: Timestamp,
}).meta({ id: 'UploadedFile' });
export type UploadedFile = z.infer<typeof UploadedFile>;

/** Files to attach to a message: uploaded by the sender to that conversation, not yet carried by another message. */
export const AttachmentIds = z.array(Id).max(10, 'At most 10 attachments').optional();

export const FileLinkInput = z.object({ id: Id });

export const FileLink = z
  .object({
    /** Downloads the file without an Authorization header, for this user only, until `expires_at`. */
    url: z.string(),
    expires_at: Timestamp,
  })
  .meta({ id: 'FileLink' });
export type FileLink = z.infer<typeof FileLink>;
