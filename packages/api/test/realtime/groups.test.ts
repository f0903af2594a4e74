import { describe, expect, it } from 'vitest';
import { Groups } from '../../src/realtime/groups.ts';

describe('Groups', () => {
  it('groups values by key and says how big a group is after each change', () => {
    const groups = new Groups<string, object>();
    const [a, b, c] = [{}, {}, {}];
    expect(groups.add('alice', a)).toBe(1);
    expect(groups.add('alice', b)).toBe(2);
    expect(groups.add('alice', b)).toBe(2);
    expect(groups.add('bob', c)).toBe(1);
    expect(groups.get('alice')).toEqual([a, b]);
    expect(groups.size).toBe(2);
    expect(groups.count()).toBe(3);
    expect([...groups.keys()]).toEqual(['alice', 'bob']);

    expect(groups.delete('alice', c)).toBe(-1);
    expect(groups.delete('carol', a)).toBe(-1);
    expect(groups.delete('alice', a)).toBe(1);
    expect(groups.delete('alice', b)).toBe(0);
    expect(groups.get('alice')).toEqual([]);
    expect(groups.size).toBe(1);
  });

  it('never changes a group a loop is walking: a value may remove itself or others meanwhile', () => {
    const groups = new Groups<string, string>();
    for (const name of ['phone', 'laptop', 'tablet']) groups.add('alice', name);
    const seen: string[] = [];
    for (const name of groups.get('alice')) {
      seen.push(name);
      groups.delete('alice', 'phone');
      groups.delete('alice', 'tablet');
      groups.add('alice', 'watch');
    }
    expect(seen).toEqual(['phone', 'laptop', 'tablet']);
    expect(groups.get('alice')).toEqual(['laptop', 'watch']);
  });
});
