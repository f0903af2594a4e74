import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { applyTheme, parseThemeChoice, THEME_STORAGE_KEY } from './theme.ts';

const BOOT_SCRIPT = readFileSync(new URL('../../public/theme-boot.js', import.meta.url), 'utf8');

/** Runs public/theme-boot.js against a stored value; returns what it set on <html>. */
function boot(stored: Record<string, string>, storageThrows = false): Record<string, string> {
  const dataset: Record<string, string> = {};
  runInNewContext(BOOT_SCRIPT, {
    document: { documentElement: { dataset } },
    localStorage: {
      getItem(key: string) {
        if (storageThrows) throw new Error('SecurityError');
        return stored[key] ?? null;
      },
    },
  });
  return dataset;
}

describe('theme', () => {
  it('reads anything but light or dark as following the system', () => {
    expect(parseThemeChoice('light')).toBe('light');
    expect(parseThemeChoice('dark')).toBe('dark');
    expect(parseThemeChoice(null)).toBe('system');
    expect(parseThemeChoice('purple')).toBe('system');
  });

  it('pins the page to a theme, or lets it follow the system', () => {
    const root = { dataset: {} as Record<string, string> } as unknown as HTMLElement;
    applyTheme('dark', root);
    expect(root.dataset.theme).toBe('dark');
    applyTheme('system', root);
    expect(root.dataset.theme).toBeUndefined();
  });

  it('boots with what this module stores, under the same key', () => {
    expect(boot({ [THEME_STORAGE_KEY]: 'dark' })).toEqual({ theme: 'dark' });
    expect(boot({ [THEME_STORAGE_KEY]: 'light' })).toEqual({ theme: 'light' });
    expect(boot({ [THEME_STORAGE_KEY]: 'purple' })).toEqual({});
    expect(boot({})).toEqual({});
  });

  it('boots following the system when storage is off', () => {
    expect(boot({}, true)).toEqual({});
  });
});
