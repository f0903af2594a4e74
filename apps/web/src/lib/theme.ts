/**
 * The colour theme this browser asked for: follow the system (the default), or
 * always light or dark. The choice lives in localStorage; `public/theme-boot.js`
 * applies it before the first paint (the server's CSP allows no inline script),
 * and this module keeps it, applies changes and follows other tabs.
 *
 * The stylesheet does the rest: `color-scheme: light dark` follows the system,
 * `html[data-theme]` pins one, and every colour is a `light-dark()` pair.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

export const THEME_CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

/** Must match `public/theme-boot.js` (a unit test holds them together). */
export const THEME_STORAGE_KEY = 'pneumatic.theme';

export function parseThemeChoice(value: string | null | undefined): ThemeChoice {
  return value === 'light' || value === 'dark' ? value : 'system';
}

/** Pins the page to a theme, or lets it follow the system. */
export function applyTheme(choice: ThemeChoice, root: HTMLElement = document.documentElement): void {
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
}

function readStored(): ThemeChoice {
  try {
    return parseThemeChoice(localStorage.getItem(THEME_STORAGE_KEY));
  } catch {
    // Storage can be switched off; the page then follows the system.
    return 'system';
  }
}

let current: ThemeChoice | null = null;
const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

/** The theme chosen here (or in another tab). */
export function getThemeChoice(): ThemeChoice {
  current ??= readStored();
  return current;
}

/** Applies `choice` at once and remembers it for this browser. */
export function setThemeChoice(choice: ThemeChoice): void {
  current = choice;
  applyTheme(choice);
  try {
    if (choice === 'system') localStorage.removeItem(THEME_STORAGE_KEY);
    else localStorage.setItem(THEME_STORAGE_KEY, choice);
  } catch {
    // Not remembered, but still applied to this page.
  }
  notify();
}

/** For useSyncExternalStore: changes here and in other tabs of this browser. */
export function subscribeThemeChoice(listener: () => void): () => void {
  if (listeners.size === 0) window.addEventListener('storage', onStorage);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) window.removeEventListener('storage', onStorage);
  };
}

function onStorage(event: StorageEvent): void {
  if (event.key !== THEME_STORAGE_KEY && event.key !== null) return;
  current = readStored();
  applyTheme(current);
  notify();
}
