import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');

function cli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('server command line', () => {
  it('prints usage with --help', () => {
    const result = cli(['--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/migrate/);
    expect(result.stdout).toMatch(/reset-db/);
  });

  it('migrates a new SQLite database and can reset it in development', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-cli-'));
    const env = { DATA_DIR: dir, SECRET_KEY: 'k'.repeat(40), LOG_LEVEL: 'silent' };
    expect(cli(['migrate'], env).code).toBe(0);
    const db = new Database(join(dir, 'pneumatic.db'));
    const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as {
      name: string;
    }[];
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['users', 'messages', 'conversations']));
    db.prepare(
      "insert into users (id, username, username_lower, full_name, password_hash, created_at) values ('u1', 'x', 'x', null, 'h', '2026-01-01T00:00:00.000Z')",
    ).run();
    db.close();
    expect(cli(['reset-db'], env).code).toBe(0);
    const after = new Database(join(dir, 'pneumatic.db'));
    expect(after.prepare('select count(*) as n from users').get()).toEqual({ n: 0 });
    after.close();
  });

  it('gives each command its own --help', () => {
    for (const command of [
      'serve',
      'migrate',
      'reset-db',
      'create-user',
      'seed',
      'disable-user',
      'enable-user',
      'revoke-sessions',
      'delete-user',
      'backup',
      'export-conversation',
      'prune',
    ]) {
      const result = cli([command, '--help'], {});
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toMatch(new RegExp(`Usage: pneumatic ${command}`));
    }
    expect(cli(['frobnicate'], {}).code).toBe(2);
  });

  it('creates a user that can log in, and refuses bad input with the rules of sign-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-cli-'));
    const env = { DATA_DIR: dir, SECRET_KEY: 'k'.repeat(40), LOG_LEVEL: 'silent' };
    const created = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'create-user',
        '--username',
        'admin',
        '--full-name',
        'The Admin',
        '--password-stdin',
      ],
      { env: { PATH: process.env.PATH, ...env }, input: 'sup3r secret pass\n', encoding: 'utf8' },
    );
    expect(created.status).toBe(0);
    expect(created.stdout).toMatch(/Created admin/);
    const db = new Database(join(dir, 'pneumatic.db'));
    expect(db.prepare('select username, full_name from users').all()).toEqual([
      { username: 'admin', full_name: 'The Admin' },
    ]);
    db.close();
    const taken = cli(['create-user', '--username', 'ADMIN', '--password', 'another password'], env);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/Username already registered/);
    const short = cli(['create-user', '--username', 'shorty', '--password', 'abc'], env);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/password: Must be at least 8 characters/);
    expect(cli(['create-user', '--password', 'abcdefghij'], env).code).toBe(2);
  });

  it('seeds demo users and conversations, and can run twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-cli-'));
    const env = { DATA_DIR: dir, SECRET_KEY: 'k'.repeat(40), LOG_LEVEL: 'silent' };
    expect(cli(['seed'], env).code).toBe(0);
    expect(cli(['seed'], env).code).toBe(0);
    const db = new Database(join(dir, 'pneumatic.db'));
    expect(db.prepare('select count(*) as n from users').get()).toEqual({ n: 3 });
    expect(
      (db.prepare('select count(*) as n from messages').get() as { n: number }).n,
    ).toBeGreaterThanOrEqual(5);
    db.close();
  });

  it('refuses reset-db in production', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pneumatic-cli-'));
    const result = cli(['reset-db'], { DATA_DIR: dir, SECRET_KEY: 'k'.repeat(40), NODE_ENV: 'production' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refuses to run when NODE_ENV=production/);
  });

  it('stops start-up with one line naming a bad variable', () => {
    const result = cli([], { PORT: 'eighty', SECRET_KEY: 'k'.repeat(40) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/PORT/);
  });

  it('refuses to start in production without SECRET_KEY', () => {
    const result = cli([], { NODE_ENV: 'production', DATA_DIR: mkdtempSync(join(tmpdir(), 'p-')) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/SECRET_KEY is required/);
  });
});
