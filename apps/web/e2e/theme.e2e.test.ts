import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { openAs, type Person, screenshot, signUp, useServerAndBrowser } from './harness.ts';

/** The page's own background colour in each theme (`--bg`). */
const LIGHT = 'rgb(244, 245, 249)';
const DARK = 'rgb(14, 16, 22)';

function background(page: Page): Promise<string> {
  return page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
}

function pinned(page: Page): Promise<string | null> {
  return page.evaluate(() => document.documentElement.getAttribute('data-theme'));
}

const themeSwitch = (scope: Page | Locator) => scope.getByRole('group', { name: 'Theme' });

describe('dark theme', () => {
  const suite = useServerAndBrowser();
  let alice: Person;

  it('follows the system until told otherwise', async () => {
    alice = await openAs(suite.browser, suite.server.url, 'alice', 'Alice Liddell');
    const { page } = alice;
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await background(page)).toBe(LIGHT);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background(page)).toBe(DARK);
    expect(await pinned(page)).toBeNull();
    expect(await themeSwitch(page).getByRole('radio', { name: 'System' }).isChecked()).toBe(true);
    await screenshot(alice, 'theme-sign-in-dark');
  });

  it('is overridden by the switch on the sign-in screen, either way', async () => {
    const { page } = alice;
    await themeSwitch(page).getByRole('radio', { name: 'Light' }).check();
    expect(await background(page)).toBe(LIGHT);
    expect(await pinned(page)).toBe('light');

    await page.emulateMedia({ colorScheme: 'light' });
    await themeSwitch(page).getByRole('radio', { name: 'Dark' }).check();
    expect(await background(page)).toBe(DARK);
    expect(await themeSwitch(page).getByRole('radio', { name: 'Dark' }).isChecked()).toBe(true);
    expect(await themeSwitch(page).getByRole('radio', { name: 'Light' }).isChecked()).toBe(false);
  });

  it('is remembered after a reload, and in place before the app has run', async () => {
    const { page } = alice;
    // Hold the app's script back: what shows meanwhile must already be the chosen theme.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(/\/assets\/index-.*\.js$/, async (route) => {
      await held;
      await route.continue();
    });
    await page.reload({ waitUntil: 'commit' });
    await page.waitForFunction(() => document.readyState !== 'loading');
    // The stylesheet has arrived (nothing is painted before it).
    await page.waitForFunction(
      () => getComputedStyle(document.documentElement).backgroundColor !== 'rgba(0, 0, 0, 0)',
    );
    expect(await page.evaluate(() => document.getElementById('root')?.childElementCount)).toBe(0);
    expect(await pinned(page)).toBe('dark');
    expect(await background(page)).toBe(DARK);
    release();
    await page.getByLabel('Username').waitFor();
    await page.unroute(/\/assets\/index-.*\.js$/);
    expect(await themeSwitch(page).getByRole('radio', { name: 'Dark' }).isChecked()).toBe(true);
    expect(await background(page)).toBe(DARK);
  });

  it('is in the sidebar once signed in, and other tabs follow it', async () => {
    const { page } = alice;
    await signUp(alice);
    const sidebar = page.getByRole('complementary', { name: 'Conversations and people' });
    const other = await alice.context.newPage();
    await other.goto(suite.server.url);
    await other.getByRole('button', { name: 'Log out' }).waitFor();
    expect(await background(other)).toBe(DARK);

    await themeSwitch(sidebar).getByRole('radio', { name: 'Light' }).check();
    expect(await background(page)).toBe(LIGHT);
    await other.waitForFunction(() => document.documentElement.dataset.theme === 'light');
    expect(await background(other)).toBe(LIGHT);
    expect(await themeSwitch(other).getByRole('radio', { name: 'Light' }).isChecked()).toBe(true);
    await other.close();
  });

  it('follows the system again when set back to System', async () => {
    const { page } = alice;
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background(page)).toBe(LIGHT);
    await themeSwitch(page).getByRole('radio', { name: 'System' }).check();
    expect(await pinned(page)).toBeNull();
    expect(await background(page)).toBe(DARK);
    expect(await page.evaluate(() => localStorage.getItem('pneumatic.theme'))).toBeNull();
    await page.reload();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    expect(await background(page)).toBe(DARK);
    await screenshot(alice, 'theme-chat-dark');
    expect(alice.errors).toEqual([]);
  });
});
