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
});
