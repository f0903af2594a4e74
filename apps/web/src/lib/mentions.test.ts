import { describe, expect, it } from 'vitest';
import { splitMentions } from './mentions.ts';

describe('splitMentions', () => {
  it('marks the mentioned usernames, in any letter case, and leaves the rest', () => {
    expect(splitMentions('hi @Alice and @bob, mail carol@x.io.', new Set(['alice']))).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@Alice', username: 'alice' },
      { kind: 'text', text: ' and @bob, mail carol@x.io.' },
    ]);
  });

  it('keeps a sentence-ending dot out of the mention', () => {
    expect(splitMentions('thanks @alice.', new Set(['alice']))).toEqual([
      { kind: 'text', text: 'thanks ' },
      { kind: 'mention', text: '@alice', username: 'alice' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('is the text itself when nobody is mentioned', () => {
    expect(splitMentions('@alice', new Set())).toEqual([{ kind: 'text', text: '@alice' }]);
  });
});
