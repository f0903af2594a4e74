import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id recommendation: 19 MiB, two passes, one lane.
// algorithm 2 is Argon2id (the package exports it as a const enum, which isolated modules cannot read).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let decoy: Promise<string> | undefined;

/**
 * Verifies a password against a stored hash. Without a hash (unknown user) it
 * verifies against a decoy, so both answers take the same time.
 */
export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  if (storedHash === undefined) {
    decoy ??= hashPassword('decoy password that matches nothing');
    await verify(await decoy, password, OPTIONS);
    return false;
  }
  try {
    return await verify(storedHash, password, OPTIONS);
  } catch {
    return false;
  }
}
