import { describe, expect, it } from 'vitest';
import { asEmoji } from '../../src/schemas/messages.schema.ts';
import { MAX_MENTIONS, mentionedNames, storedMentions } from '../../src/services/mentions.ts';

describe('mentionedNames', () => {
  it('finds @names in any letter case, once each, and not inside addresses or runs of @', () => {
    expect(mentionedNames('hi @Alice and @BOB_1, @alice again')).toEqual(['alice', 'bob_1']);
    expect(mentionedNames('mail me at carol@example.com')).toEqual([]);
    expect(mentionedNames('@@alice')).toEqual([]);
    expect(mentionedNames('thanks @dave. and @erin-')).toEqual(['dave', 'erin']);
    expect(mentionedNames('@ab @' + 'x'.repeat(33))).toEqual([]);
    expect(mentionedNames('no at sign')).toEqual([]);
  });

  it(`looks at ${MAX_MENTIONS} names at most, however many there are`, () => {
    const text = Array.from({ length: 1000 }, (_, i) => `@name${i}`).join(' ');
    expect(mentionedNames(text)).toHaveLength(MAX_MENTIONS);
    expect(mentionedNames('@'.repeat(1000))).toEqual([]);
  });

  it('keeps only the names of members', () => {
    const ids = new Map([
      ['alice', 'id-a'],
      ['bob', 'id-b'],
    ]);
    expect(storedMentions(['alice', 'bob', 'nobody'], ids, ['id-a'])).toBe('["id-a"]');
    expect(storedMentions(['bob'], ids, ['id-a'])).toBeNull();
  });
});

describe('asEmoji', () => {
  it('takes one RGI emoji, and gives a bare symbol its emoji selector', () => {
    for (const emoji of ['👍', '👍🏽', '🇫🇷', '1️⃣', '👨‍👩‍👧', '🏳️‍🌈']) expect(asEmoji(emoji)).toBe(emoji);
    expect(asEmoji('❤')).toBe('❤️');
  });

  it('refuses text, several emoji, made-up ZWJ chains and stray selectors', () => {
    for (const value of ['', 'a', '1', '👍👍', '👍\u200D👍', '\u200D', '\uFE0F', '👍\uFE0F\uFE0F', '\uD83D'])
      expect(asEmoji(value), JSON.stringify(value)).toBeNull();
  });
});
