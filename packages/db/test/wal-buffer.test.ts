import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { walBufferExtension } from '../src/wal-buffer.ts';

/**
 * The wal-buffer extension gathers a commit's WAL frames into a few writes.
 * What must hold: every commit is in the file when it returns (other
 * connections, a reopened database and a killed process see it), reads of
 * frames still in the buffer see them, and nothing else changes.
 */
describe('the wal-buffer SQLite extension', () => {
  const extension = walBufferExtension();
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pneumatic-wal-buffer-'));
    // Loading it makes it the process's default VFS for the databases opened after.
    const loader = new Database(':memory:');
    loader.loadExtension(extension!);
    loader.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A database in WAL mode with synchronous=FULL and buffering asked for, as the writer thread opens it. */
  const open = (name: string, options: { buffer?: boolean; cachePages?: number } = {}) => {
    const db = new Database(join(dir, name));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    if (options.cachePages) db.pragma(`cache_size = ${options.cachePages}`);
    if (options.buffer ?? true) db.pragma('pneumatic_wal_buffer = 1');
    return db;
  };
  /** Rows with random keys under a unique index: each commit writes pages all over the file. */
  const schema = 'create table t (id integer primary key, k text not null unique, v text not null)';

  it('is built by the install and found by the writer', () => {
    expect(extension).toMatch(/wal-buffer\.so$/);
  });

  it('is asked for per connection', () => {
    const buffered = open('asked.db');
    const plain = open('asked.db', { buffer: false });
    expect(buffered.pragma('pneumatic_wal_buffer', { simple: true })).toBe('1');
    expect(plain.pragma('pneumatic_wal_buffer', { simple: true })).toBe('0');
    buffered.close();
    plain.close();
  });

  it("gathers a commit's frames into a few writes, and only where asked", () => {
    const stats = (db: Database.Database) =>
      String(db.pragma('pneumatic_wal_buffer_stats', { simple: true }))
        .split(' ')
        .map(Number) as [number, number];
    for (const buffer of [true, false]) {
      const db = open(`gathers-${buffer}.db`, { buffer });
      db.exec(schema);
      const insert = db.prepare('insert into t (k, v) values (?, ?)');
      const [gatheredBefore, flushesBefore] = stats(db);
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run(randomUUID(), 'z'.repeat(200));
      })();
      const [gathered, flushes] = stats(db);
      if (buffer) {
        // Two writes a frame (header, page), some 150 frames: a write per 31 frames or so.
        expect(gathered - gatheredBefore).toBeGreaterThan(200);
        expect(flushes - flushesBefore).toBeLessThan((gathered - gatheredBefore) / 20);
      } else {
        expect([gathered, flushes]).toEqual([0, 0]);
      }
      db.close();
    }
  });

  it('puts every commit in the file before it returns: another connection sees it at once', () => {
    const db = open('visible.db');
    db.exec(schema);
    const reader = open('visible.db', { buffer: false });
    const insert = db.prepare('insert into t (k, v) values (?, ?)');
    const count = reader.prepare('select count(*) from t').pluck();
    const commit = db.transaction((n: number) => {
      for (let i = 0; i < n; i++) insert.run(randomUUID(), 'x'.repeat(300));
    });
    let expected = 0;
    for (let batch = 1; batch <= 300; batch++) {
      commit(batch % 40);
      expected += batch % 40;
      expect(count.get()).toBe(expected);
      // The WAL started over now and then, as the writer's checkpoints do.
      if (batch % 100 === 0) db.pragma('wal_checkpoint(RESTART)');
    }
    db.close();
    reader.close();
    const again = new Database(join(dir, 'visible.db'));
    expect(again.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(again.prepare('select count(*) from t').pluck().get()).toBe(expected);
    again.close();
  });

  it('reads back pages a transaction spilled to the WAL and are still in the buffer', () => {
    // A cache of 10 pages: a large transaction spills pages to the WAL and reads them again.
    const db = open('spill.db', { cachePages: 10 });
    db.exec(schema);
    const keys = Array.from({ length: 5000 }, () => randomUUID());
    db.transaction(() => {
      const insert = db.prepare('insert into t (k, v) values (?, ?)');
      for (const k of keys) insert.run(k, k.repeat(4));
      const find = db.prepare('select v from t where k = ?').pluck();
      for (const k of keys) expect(find.get(k)).toBe(k.repeat(4));
    })();
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const again = new Database(join(dir, 'spill.db'));
    expect(again.prepare('select count(*) from t').pluck().get()).toBe(keys.length);
    again.close();
  });

  it('loses no commit that returned when the process is killed', async () => {
    const path = join(dir, 'killed.db');
    const setup = open('killed.db');
    setup.exec(schema);
    setup.close();
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    // Commits batches of 20 and prints the count after each commit returned, until killed.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const Database = require(${JSON.stringify(driver)});
        const loader = new Database(':memory:'); loader.loadExtension(${JSON.stringify(extension)}); loader.close();
        const db = new Database(${JSON.stringify(path)});
        db.pragma('synchronous = FULL'); db.pragma('pneumatic_wal_buffer = 1');
        const insert = db.prepare('insert into t (k, v) values (?, ?)');
        const commit = db.transaction(() => { for (let i = 0; i < 20; i++) insert.run(require('node:crypto').randomUUID(), 'y'.repeat(500)); });
        for (let n = 20; ; n += 20) { commit(); require('node:fs').writeSync(1, n + '\\n'); }`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let printed = 0;
    let output = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const lines = output.split('\n');
        output = lines.pop()!;
        if (lines.length > 0) printed = Number(lines.at(-1));
        if (printed >= 2000 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.once('exit', () => resolve());
    });
    expect(printed).toBeGreaterThanOrEqual(2000);
    const after = new Database(path);
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(after.prepare('select count(*) from t').pluck().get()).toBeGreaterThanOrEqual(printed);
    after.close();
  });
});
