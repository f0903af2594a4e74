import { createRequire } from 'node:module';

/**
 * The wal-buffer SQLite extension (native/wal-buffer.c, built by `pnpm
 * install`), or undefined where it could not be built: the writer thread then
 * writes each WAL frame itself. Loaded, it becomes the process's default VFS;
 * a connection asks for buffering with `PRAGMA pneumatic_wal_buffer = 1`, and
 * only under synchronous=FULL (see the C file).
 */
export function walBufferExtension(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@pneumatic/db/wal-buffer.so');
  } catch {
    return undefined;
  }
}
