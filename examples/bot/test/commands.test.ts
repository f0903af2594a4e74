import { describe, expect, it } from 'vitest';
import { answer, greeting } from '../src/commands.ts';
import { ConfigError, readConfig } from '../src/config.ts';

describe('answer', () => {
  const now = new Date('2026-11-27T23:40:05.123Z');

  it('tells the time in UTC', () => {
    expect(answer('/time', now)).toBe('The time is 2026-11-27 23:40:05 UTC.');
    expect(answer('  /TIME  ', now)).toBe('The time is 2026-11-27 23:40:05 UTC.');
  });

  it('echoes the text after /echo, lines included', () => {
    expect(answer('/echo hi')).toBe('hi');
    expect(answer('/echo   two\nlines  ')).toBe('two\nlines');
    expect(answer('/echo')).toBe('Usage: /echo <text>');
  });

  it('leaves talk and unknown commands alone', () => {
    expect(answer('hello /time')).toBeNull();
    expect(answer('/timezone')).toBeNull();
    expect(answer('/nope')).toBeNull();
    expect(answer('')).toBeNull();
  });

  it('greets by name', () => {
    expect(greeting('Helper Bot')).toContain("I'm Helper Bot");
  });
});

describe('readConfig', () => {
  it('reads the settings, with defaults', () => {
    expect(readConfig({ BOT_USERNAME: 'bot', BOT_PASSWORD: 'secret' })).toEqual({
      url: 'http://127.0.0.1:8000',
      username: 'bot',
      password: 'secret',
      fullName: 'bot',
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => readConfig({ BOT_PASSWORD: 'x' })).toThrow(ConfigError);
    expect(() => readConfig({ BOT_USERNAME: 'bot' })).toThrow(/BOT_PASSWORD/);
    expect(() => readConfig({ PNEUMATIC_URL: 'ftp://x', BOT_USERNAME: 'bot', BOT_PASSWORD: 'x' })).toThrow(
      /PNEUMATIC_URL/,
    );
  });
});
