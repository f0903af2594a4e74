import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id recommendation: 19 MiB, two passes, one lane.
// algorithm 2 is Argon2id (the package exports it as a const enum, which isolated modules cannot read).
export const PASSWORD_HASH_OPTIONS = {
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;
const OPTIONS = PASSWORD_HASH_OPTIONS;

/**
 * At most this many hashes run at once; the rest wait their turn. One core is
 * left to the event loop, so a login storm slows logins, not message delivery.
 */
export const HASH_CONCURRENCY = Math.max(1, availableParallelism() - 1);

let running = 0;
const waiting: Array<() => void> = [];

async function limited<T>(work: () => Promise<T>): Promise<T> {
  // A finishing hash hands its slot straight to the next in line.
  if (running >= HASH_CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export function hashPassword(password: string): Promise<string> {
  return limited(() => hash(password, OPTIONS));
}

let decoy: Promise<string> | undefined;

/**
 * Verifies a password against a stored hash. Without a hash (unknown user) it
 * verifies against a decoy, so both answers take the same time.
 */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (storedHash === undefined) {
    decoy ??= hashPassword('decoy password that matches nothing');
    const target = await decoy;
    await limited(() => verify(target, password, OPTIONS));
    return false;
  }
  try {
    return await limited(() => verify(storedHash, password, OPTIONS));
  } catch {
    return false;
  }
}
