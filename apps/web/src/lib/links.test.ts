import { describe, expect, it } from 'vitest';
import { linkify, type TextPart } from './links.ts';

const link = (text: string, href = text): TextPart => ({ kind: 'link', text, href });
const text = (t: string): TextPart => ({ kind: 'text', text: t });

describe('linkify', () => {
  it('leaves text without links as one text part', () => {
    expect(linkify('just words, no links')).toEqual([text('just words, no links')]);
    expect(linkify('')).toEqual([]);
  });

  it('links http and https addresses', () => {
    expect(linkify('see https://example.com/a?b=c#d now')).toEqual([
      text('see '),
      link('https://example.com/a?b=c#d'),
      text(' now'),
    ]);
    expect(linkify('http://example.org')).toEqual([link('http://example.org')]);
  });

  it('keeps a closing bracket that belongs to the address', () => {
    expect(linkify('read https://en.wikipedia.org/wiki/Foo_(bar)')).toEqual([
      text('read '),
      link('https://en.wikipedia.org/wiki/Foo_(bar)'),
    ]);
    expect(linkify('(see https://en.wikipedia.org/wiki/Foo_(bar))')).toEqual([
      text('(see '),
      link('https://en.wikipedia.org/wiki/Foo_(bar)'),
      text(')'),
    ]);
  });

  it('leaves trailing punctuation out', () => {
    expect(linkify('Go to https://x.org.')).toEqual([text('Go to '), link('https://x.org'), text('.')]);
    expect(linkify('https://x.org/a, https://x.org/b!')).toEqual([
      link('https://x.org/a'),
      text(', '),
      link('https://x.org/b'),
      text('!'),
    ]);
    expect(linkify('is it https://x.org/page?')).toEqual([
      text('is it '),
      link('https://x.org/page'),
      text('?'),
    ]);
    expect(linkify('(https://x.org)')).toEqual([text('('), link('https://x.org'), text(')')]);
  });

  it('links bare hosts to https', () => {
    expect(linkify('try www.example.com today')).toEqual([
      text('try '),
      link('www.example.com', 'https://www.example.com'),
      text(' today'),
    ]);
    expect(linkify('docs at example.dev/start.')).toEqual([
      text('docs at '),
      link('example.dev/start', 'https://example.dev/start'),
      text('.'),
    ]);
  });

  it('links e-mail addresses with mailto', () => {
    expect(linkify('write to bob@example.com.')).toEqual([
      text('write to '),
      link('bob@example.com', 'mailto:bob@example.com'),
      text('.'),
    ]);
    expect(linkify('mailto:bob@example.com')).toEqual([link('mailto:bob@example.com')]);
  });

  it('links nothing but http(s) and mailto', () => {
    for (const unsafe of [
      'javascript:alert(1)',
      'data:text/html,<b>x</b>',
      'ftp://example.com/file',
      'file:///etc/passwd',
      'vbscript:msgbox',
    ]) {
      expect(
        linkify(unsafe).every((part) => part.kind === 'text' || /^(https?|mailto):/.test(part.href)),
      ).toBe(true);
    }
    expect(linkify('javascript:alert(1)')).toEqual([text('javascript:alert(1)')]);
    expect(linkify('ftp://example.com/file')).toEqual([text('ftp://example.com/file')]);
  });

  it('keeps markup as plain text', () => {
    expect(linkify('<b>x</b> <a href="https://evil.test">y</a>')).toEqual([
      text('<b>x</b> <a href="'),
      link('https://evil.test'),
      text('">y</a>'),
    ]);
  });

  it('puts every character back in order', () => {
    const input = 'a https://x.org/(b) c www.y.com, d@e.io; end';
    expect(
      linkify(input)
        .map((p) => p.text)
        .join(''),
    ).toBe(input);
  });
});
