import { hashPassword, verifyPassword } from '@pneumatic/api';
import { describe, expect, it } from 'vitest';

/** Keeps this thread busy for `ms`, as a fan-out burst does. */
function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

// Hashes ran on libuv's pool, one at a time, and each next one started only when the event
// loop got round to handing the slot on: during a fan-out a login storm lost a third of its
// logins. The hashing workers now take their queued jobs back to back on their own.
describe('password hashing while the event loop is busy', () => {
  it('runs queued verifies back to back without waiting for the event loop', async () => {
    const hashed = await hashPassword('correct horse battery');
    const start = performance.now();
    expect(await verifyPassword(hashed, 'correct horse battery')).toBe(true);
    const oneVerifyMs = performance.now() - start;

    const queued = Array.from({ length: 4 }, () => verifyPassword(hashed, 'correct horse battery'));
    // Room for all four to finish several times over, had they the thread to themselves.
    blockEventLoop(Math.max(400, 12 * oneVerifyMs));
    const unblocked = performance.now();
    expect(await Promise.all(queued)).toEqual([true, true, true, true]);
    // Waiting on the event loop, three of them would only start now.
    expect(performance.now() - unblocked).toBeLessThan(oneVerifyMs);
  });
});
