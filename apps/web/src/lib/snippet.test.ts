import { describe, expect, it } from 'vitest';
import { snippetParts } from './snippet.ts';

const S = '\uE000';
const E = '\uE001';

describe('snippetParts', () => {
  it('turns marked words into matches and leaves the rest plain', () => {
    expect(snippetParts(`meet at the ${S}trailhead${E} at 8`)).toEqual([
      { text: 'meet at the ', match: false },
      { text: 'trailhead', match: true },
      { text: ' at 8', match: false },
    ]);
  });

  it('finds several matches, at either end', () => {
    expect(snippetParts(`${S}Lunch${E} or ${S}lunch${E}`)).toEqual([
      { text: 'Lunch', match: true },
      { text: ' or ', match: false },
      { text: 'lunch', match: true },
    ]);
  });

  it('joins adjacent matches and drops empty ones', () => {
    expect(snippetParts(`a ${S}b${E}${S}c${E}${S}${E} d`)).toEqual([
      { text: 'a ', match: false },
      { text: 'bc', match: true },
      { text: ' d', match: false },
    ]);
  });

  it('keeps markup as text: the snippet is never HTML', () => {
    expect(snippetParts(`<b>${S}x${E}</b>`)).toEqual([
      { text: '<b>', match: false },
      { text: 'x', match: true },
      { text: '</b>', match: false },
    ]);
  });

  it('tolerates unbalanced marks', () => {
    expect(snippetParts(`plain${E} text`)).toEqual([{ text: 'plain text', match: false }]);
    expect(snippetParts(`open ${S}to the end`)).toEqual([
      { text: 'open ', match: false },
      { text: 'to the end', match: true },
    ]);
    expect(snippetParts('')).toEqual([]);
  });
});
