import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TwoWindowBudget } from '../src/limits/request-budget.ts';

describe('the request budget in memory (one instance)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-12-06T10:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('allows the limit in a minute, refuses the next, and starts again when the window ends', async () => {
    const refused: string[] = [];
    const budget = new TwoWindowBudget({ perMinute: 3, perHour: 100, onRefused: (w) => refused.push(w) });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await budget.consume('user:a'));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3]).toMatchObject({
      limit: 3,
      resetSeconds: 60,
      message: 'Rate limit exceeded: 3 requests per minute',
    });
    expect(refused).toEqual(['minute']);
    // Another key has its own windows.
    expect(await budget.consume('user:b')).toMatchObject({ allowed: true, remaining: 2 });

    vi.advanceTimersByTime(45_000);
    expect(await budget.consume('user:a')).toMatchObject({ allowed: false, resetSeconds: 15 });
    vi.advanceTimersByTime(15_000);
    // The window started at the first request and lasted a minute: a new one begins.
    expect(await budget.consume('user:a')).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 60 });
  });

  it('shows the window nearer to running out, and refuses on the hour when the minute has room', async () => {
    const budget = new TwoWindowBudget({ perMinute: 10, perHour: 12 });
    for (let i = 0; i < 9; i++) await budget.consume('user:a');
    // 1 of 10 left in the minute, 3 of 12 in the hour: the minute is nearer.
    expect(await budget.consume('user:a')).toMatchObject({ allowed: true, limit: 10, remaining: 0 });
    vi.advanceTimersByTime(60_000);
    expect(await budget.consume('user:a')).toMatchObject({ allowed: true, limit: 12, remaining: 1 });
    await budget.consume('user:a');
    expect(await budget.consume('user:a')).toMatchObject({
      allowed: false,
      limit: 12,
      message: 'Rate limit exceeded: 12 requests per hour',
    });
  });
});
