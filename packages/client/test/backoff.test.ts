import { describe, expect, it } from 'vitest';
import { MAX_RECONNECT_DELAY_MS, reconnectDelay } from '../src/backoff.ts';

describe('reconnectDelay', () => {
  it('doubles per attempt between half and all of the base', () => {
    expect(reconnectDelay(0, () => 0)).toBe(250);
    expect(reconnectDelay(0, () => 0.999_999)).toBe(500);
    expect(reconnectDelay(3, () => 0)).toBe(2000);
    expect(reconnectDelay(3, () => 0.999_999)).toBe(4000);
  });

  it('never waits more than the cap, however many attempts failed', () => {
    for (const attempt of [5, 10, 50, 1000]) {
      expect(reconnectDelay(attempt, () => 0.999_999)).toBeLessThanOrEqual(MAX_RECONNECT_DELAY_MS);
      expect(reconnectDelay(attempt, () => 0)).toBe(MAX_RECONNECT_DELAY_MS / 2);
    }
  });

  it('spreads clients that fail together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => reconnectDelay(4)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
