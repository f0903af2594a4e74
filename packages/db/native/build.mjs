// Builds the wal-buffer SQLite extension (wal-buffer.c) into build/ with the
// machine's C compiler, against the SQLite headers better-sqlite3 ships (the
// SQLite it loads into). Run by `pnpm install`. Without a compiler the
// writer thread runs without it (slower, nothing else changes): a warning, not a failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const out = join(here, 'build', 'wal-buffer.so');
const headers = join(
  dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')),
  'deps',
  'sqlite3',
);

if (process.platform === 'win32') {
  process.stderr.write('wal-buffer: not built on Windows; the SQLite writer writes each WAL frame itself\n');
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
// Built beside and renamed over, so a running server never loads a half-written file.
const partial = `${out}.${process.pid}`;
const compiler = process.env.CC || 'cc';
const result = spawnSync(
  compiler,
  ['-O2', '-fPIC', '-shared', '-I', headers, join(here, 'wal-buffer.c'), '-o', partial, '-lpthread'],
  { stdio: 'inherit' },
);
if (result.status === 0) {
  renameSync(partial, out);
} else {
  rmSync(partial, { force: true });
  process.stderr.write(
    `wal-buffer: ${compiler} failed (${result.error?.message ?? `exit ${result.status}`}); ` +
      'the SQLite writer writes each WAL frame itself (slower, nothing else changes)\n',
  );
}
