import { describe, expect, it } from 'vitest';
import { newMessageId } from '../src/message-id.ts';

describe('newMessageId', () => {
  it('makes UUIDv7s: the time first, then random bits, never the same twice', () => {
    const at = Date.UTC(2026, 11, 7, 8, 0, 0, 123);
    const id = newMessageId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    const many = new Set(Array.from({ length: 10_000 }, () => newMessageId(at)));
    expect(many.size).toBe(10_000);
  });

  it('sorts by time: a later millisecond gives a greater id', () => {
    const ids = [0, 1, 255, 256, 65_536, 2 ** 40, Date.now(), 2 ** 48 - 1].map((ms) => newMessageId(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(newMessageId(1).slice(0, 13)).toBe('00000000-0001');
  });
});
