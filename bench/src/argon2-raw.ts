/**
 * Raw argon2id verify throughput, in a process of its own (started by the
 * storm scenario): the server's parameters and hashing concurrency bound,
 * read from packages/api/src/auth/passwords.ts, and the very @node-rs/argon2
 * the server loads; no HTTP, no database, no event loop shared with anything.
 * Prints one JSON line: RawVerifyResult.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { HASH_CONCURRENCY, PASSWORD_HASH_OPTIONS } from '../../packages/api/src/auth/passwords.ts';
import { REPO_DIR } from './util.ts';

export interface RawVerifyResult {
  /** Verifies at once: the server's bound on concurrent hashes. */
  concurrency: number;
  options: typeof PASSWORD_HASH_OPTIONS;
  verifies: number;
  seconds: number;
  perSecond: number;
}

interface Argon2 {
  hash(password: string, options: object): Promise<string>;
  verify(hashed: string, password: string, options: object): Promise<boolean>;
}

const argon2 = createRequire(join(REPO_DIR, 'packages', 'api', 'package.json'))('@node-rs/argon2') as Argon2;

async function measure(durationMs: number): Promise<RawVerifyResult> {
  const password = 'bench password 0123';
  const hashed = await argon2.hash(password, PASSWORD_HASH_OPTIONS);
  for (let i = 0; i < 3; i++) await argon2.verify(hashed, password, PASSWORD_HASH_OPTIONS);
  let verifies = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  const lane = async () => {
    while (performance.now() < deadline) {
      if (!(await argon2.verify(hashed, password, PASSWORD_HASH_OPTIONS))) throw new Error('verify failed');
      verifies++;
    }
  };
  await Promise.all(Array.from({ length: HASH_CONCURRENCY }, lane));
  const seconds = (performance.now() - start) / 1000;
  return {
    concurrency: HASH_CONCURRENCY,
    options: PASSWORD_HASH_OPTIONS,
    verifies,
    seconds,
    perSecond: verifies / seconds,
  };
}

const result = await measure(Number(process.argv[2] ?? 3000));
process.stdout.write(`${JSON.stringify(result)}\n`);
