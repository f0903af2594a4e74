import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { timeOrderedId } from '../src/time-ordered-id.ts';

describe('time-ordered ids', () => {
  it('are UUIDv7: version 7, the RFC variant, the time in front', () => {
    const now = Date.UTC(2026, 11, 5, 12, 0, 0, 123);
    const id = timeOrderedId(now);
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sort by time, and never repeat', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => timeOrderedId(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    const same = Array.from({ length: 10_000 }, () => timeOrderedId(1_700_000_000_000));
    expect(new Set(same).size).toBe(same.length);
  });

  it('keep version and variant in every id, across refills of the random pool', () => {
    // 10,000 ids take the pool (819 ids) over a dozen times.
    const ids = Array.from({ length: 10_000 }, () => timeOrderedId());
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Every hex digit of the random part turns up in every random position: nothing stuck.
    for (const at of [15, 16, 17, 20, 21, 22, 24, 35]) expect(new Set(ids.map((id) => id[at])).size).toBe(16);
  });
});
