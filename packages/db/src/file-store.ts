import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { Database } from './database.ts';

/**
 * Where the bytes of uploaded files live. Both directions stream: a write
 * pulls from its source one chunk at a time (the source waits while a chunk
 * is stored: backpressure), a read produces chunks as its consumer takes
 * them. Neither holds a whole file in memory. File ids are UUIDs checked by
 * the caller, never names a user chose.
 */
export interface FileStore {
  readonly kind: 'disk' | 'database';
  /**
   * Stores the bytes of file `id` from `source`; resolves with how many.
   * If the source fails (too big, interrupted, stalled), whatever was
   * written is removed and the error is rethrown.
   */
  write(id: string, source: AsyncIterable<Uint8Array>): Promise<number>;
  /** The stored bytes of file `id`, streamed. */
  read(id: string): Readable;
  /** Removes the bytes of these files; ids with nothing stored are ignored. */
  remove(ids: readonly string[]): Promise<void>;
}

/**
 * Files under a folder (one machine: SQLite's default). A write goes to
 * `<id>.part` and is renamed when complete, so a crash mid-upload leaves no
 * file under a real id (the sweep of abandoned uploads removes the part).
 */
export function diskFileStore(dir: string): FileStore {
  const ready = mkdir(dir, { recursive: true });
  const pathOf = (id: string) => join(dir, id);
  return {
    kind: 'disk',
    async write(id, source) {
      await ready;
      const part = `${pathOf(id)}.part`;
      let size = 0;
      const counted = async function* () {
        for await (const chunk of source) {
          size += chunk.byteLength;
          yield chunk;
        }
      };
      try {
        await pipeline(
          Readable.from(counted(), { objectMode: false }),
          createWriteStream(part, { flags: 'wx' }),
        );
        await rename(part, pathOf(id));
        return size;
      } catch (error) {
        await rm(part, { force: true });
        throw error;
      }
    },
    read(id) {
      return createReadStream(pathOf(id));
    },
    async remove(ids) {
      await Promise.all(
        ids.flatMap((id) => [rm(pathOf(id), { force: true }), rm(`${pathOf(id)}.part`, { force: true })]),
      );
    },
  };
}

/** Bytes per stored chunk: large enough for few rows, small enough to hold one at a time. */
export const FILE_CHUNK_BYTES = 256 * 1024;

/**
 * Chunks in the `file_chunks` table (several instances sharing PostgreSQL
 * and no disk: any instance serves any file). A chunk is inserted as soon as
 * it fills, and the next is read from the source only after; a read selects
 * one chunk per pull. The chunks go with their `files` row (on delete
 * cascade), so removing the row removes them too.
 */
export function databaseFileStore(db: Kysely<Database>, chunkBytes = FILE_CHUNK_BYTES): FileStore {
  return {
    kind: 'database',
    async write(id, source) {
      let n = 0;
      let size = 0;
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      const flush = async (data: Uint8Array) => {
        await db.insertInto('file_chunks').values({ file_id: id, n: n++, data }).execute();
      };
      try {
        for await (const chunk of source) {
          size += chunk.byteLength;
          let offset = 0;
          while (offset < chunk.byteLength) {
            const take = Math.min(chunkBytes - pendingBytes, chunk.byteLength - offset);
            pending.push(chunk.subarray(offset, offset + take));
            pendingBytes += take;
            offset += take;
            if (pendingBytes === chunkBytes) {
              const data = Buffer.concat(pending);
              pending = [];
              pendingBytes = 0;
              await flush(data);
            }
          }
        }
        if (pendingBytes > 0) await flush(Buffer.concat(pending));
        return size;
      } catch (error) {
        await db.deleteFrom('file_chunks').where('file_id', '=', id).execute();
        throw error;
      }
    },
    read(id) {
      let n = 0;
      return new Readable({
        read() {
          db.selectFrom('file_chunks')
            .select('data')
            .where('file_id', '=', id)
            .where('n', '=', n++)
            .executeTakeFirst()
            .then(
              (row) => this.push(row ? Buffer.from(row.data) : null),
              (error: Error) => this.destroy(error),
            );
        },
      });
    },
    async remove(ids) {
      if (ids.length === 0) return;
      await db
        .deleteFrom('file_chunks')
        .where('file_id', 'in', [...ids])
        .execute();
    },
  };
}
