import type { PneumaticClient } from '@pneumatic/client';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations } from './axe.ts';
import {
  apiAs,
  checkPrerequisites,
  launchBrowser,
  logIn,
  messageRow,
  openAs,
  PASSWORD,
  type RunningServer,
  screenshot,
  startServer,
  waitForMessage,
} from './harness.ts';

/** Everyone's accounts and conversations, made through the API; only Alice uses a browser. */
async function seed(url: string): Promise<void> {
  const alice = await apiAs(url, 'alice', 'Alice Liddell');
  const bob = await apiAs(url, 'bob', 'Bob Builder');
  const carol = await apiAs(url, 'carol', 'Carol Danvers');
  const { users } = await carol.api.users.list.query();
  const id = (username: string) => users.find((u) => u.username === username)!.id;
  const direct = await bob.api.conversations.create.mutate({
    title: 'bob & alice',
    member_ids: [id('alice')],
  });
  await bob.sendMessage(direct.id, 'Hi Alice! Read https://en.wikipedia.org/wiki/Foo_(bar) first.');
  await alice.sendMessage(direct.id, 'Thanks Bob, reading it now. Mail me at alice@example.com.');
  await bob.sendMessage(direct.id, 'Also www.example.com, and <b>this</b> is not bold.');
  const group = await carol.api.conversations.create.mutate({
    title: 'Weekend plans',
    member_ids: [id('alice'), id('bob')],
  });
  await carol.sendMessage(group.id, 'Hiking on Saturday?');
  await Promise.all([alice, bob, carol].map((c: PneumaticClient) => c.close()));
}

/** The page's background: tells which theme is showing. */
function background(page: Page): Promise<string> {
  return page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
}

const LIGHT_BACKGROUND = 'rgb(244, 245, 249)';
const DARK_BACKGROUND = 'rgb(14, 16, 22)';

describe('accessibility', () => {
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer();
    browser = await launchBrowser();
    await seed(server.url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('reports what it should: a clean scan means something', async () => {
    const visitor = await openAs(browser, server.url, 'visitor', 'Visitor');
    const { page } = visitor;
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByLabel('Username').waitFor();
    await page.evaluate(() => {
      document.querySelector<HTMLElement>('.auth-tagline')!.style.color = '#333';
      document.querySelector('.auth-form input')!.removeAttribute('id');
    });
    const report = await accessibilityViolations(page, 'sign-in, spoilt on purpose');
    expect(report).toContain('[serious] color-contrast');
    expect(report).toContain('[critical] label');
    await visitor.context.close();
  });

  // Every screen, menu and dialog, scanned with axe-core in each theme (as the system asks for it).
  for (const scheme of ['light', 'dark'] as const) {
    it(`has no critical or serious axe violations anywhere, ${scheme} theme`, async () => {
      const alice = await openAs(browser, server.url, 'alice', 'Alice Liddell');
      const { page } = alice;
      await page.emulateMedia({ colorScheme: scheme });
      expect(await background(page)).toBe(scheme === 'light' ? LIGHT_BACKGROUND : DARK_BACKGROUND);
      const scan = async (what: string) => {
        expect.soft(await accessibilityViolations(page, `${what} (${scheme})`)).toBe('');
      };

      await page.getByLabel('Username').waitFor();
      await scan('log in');
      await page.getByRole('tab', { name: 'Sign up' }).click();
      await scan('sign up');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByText('Enter your username').waitFor();
      await scan('sign up with errors');
      await page.getByRole('tab', { name: 'Log in' }).click();
      await logIn(alice);

      await page.getByRole('heading', { name: 'Pick up where you left off' }).waitFor();
      await scan('no conversation open');

      const list = page.getByRole('list', { name: 'Conversations' });
      await list.getByRole('button', { name: /Bob Builder/ }).click();
      await waitForMessage(alice, 'Thanks Bob');
      await scan('1-on-1 with messages');
      await screenshot(alice, `conversation-${scheme}`);

      const mine = page.getByRole('log').locator('.message-row', { hasText: 'Thanks Bob' });
      await mine.hover();
      await mine.getByRole('button', { name: 'Message actions' }).click();
      await page.getByRole('menuitem', { name: 'Edit' }).waitFor();
      await scan('message menu');
      await page.getByRole('menuitem', { name: 'Edit' }).click();
      await page.getByRole('textbox', { name: 'Edit message' }).waitFor();
      await scan('message editor');
      await page.getByRole('textbox', { name: 'Edit message' }).press('Escape');

      await mine.hover();
      await mine.getByRole('button', { name: 'Message actions' }).click();
      await page.getByRole('menuitem', { name: 'Delete' }).click();
      const deleting = page.getByRole('alertdialog', { name: 'Delete message?' });
      await deleting.waitFor();
      await scan('delete confirmation');
      await deleting.getByRole('button', { name: 'Cancel' }).click();

      await page.getByRole('button', { name: 'Add people' }).click();
      const fromDirect = page.getByRole('dialog', { name: 'New group' });
      await fromDirect.waitFor();
      await scan('new group from a 1-on-1');
      await fromDirect.getByRole('button', { name: 'Cancel' }).click();

      await page.getByRole('button', { name: 'New group', exact: true }).click();
      const newGroup = page.getByRole('dialog', { name: 'New group' });
      await newGroup.getByRole('button', { name: 'Create group' }).click();
      await newGroup.locator('.field-error, .form-error').first().waitFor();
      await scan('new group with errors');
      await newGroup.getByRole('button', { name: 'Cancel' }).click();

      await list.getByRole('button', { name: /Weekend plans/ }).click();
      await waitForMessage(alice, 'Hiking on Saturday?');
      await scan('group with messages');

      await page.getByRole('button', { name: 'Group settings' }).click();
      await page.getByRole('menuitem', { name: 'Rename group' }).waitFor();
      await scan('group settings menu');
      await page.getByRole('menuitem', { name: 'Rename group' }).click();
      const rename = page.getByRole('dialog', { name: 'Rename group' });
      await rename.waitFor();
      await scan('rename dialog');
      await rename.getByRole('button', { name: 'Cancel' }).click();

      await page.getByRole('button', { name: 'Add people' }).click();
      const add = page.getByRole('dialog', { name: 'Add people to Weekend plans' });
      await add.getByLabel('People').fill('nobody-by-that-name');
      await add.getByRole('button', { name: 'Add', exact: true }).click();
      await add.locator('.field-error, .form-error').first().waitFor();
      await scan('add people with an error');
      await add.getByRole('button', { name: 'Cancel' }).click();

      await page.getByRole('button', { name: 'Group settings' }).click();
      await page.getByRole('menuitem', { name: 'Leave group' }).click();
      const leave = page.getByRole('alertdialog', { name: 'Leave Weekend plans?' });
      await leave.waitFor();
      await scan('leave confirmation');
      await leave.getByRole('button', { name: 'Cancel' }).click();

      await page.getByRole('searchbox', { name: /Search/ }).fill('wikipedia');
      await page.getByRole('region', { name: 'Messages found' }).getByRole('button').first().waitFor();
      await scan('search results');
      await page.getByRole('searchbox', { name: /Search/ }).fill('');

      await page.getByRole('tab', { name: 'People' }).click();
      await page.getByRole('button', { name: /^Message Bob Builder @bob/ }).waitFor();
      await scan('people');

      await page.getByRole('button', { name: /^Account:/ }).click();
      const account = page.getByRole('dialog', { name: 'Account' });
      await account.getByRole('list', { name: 'Sessions' }).waitFor();
      await account.getByRole('button', { name: 'Change password' }).click();
      await account.locator('.field-error, .form-error').first().waitFor();
      await account.getByRole('button', { name: 'Delete account…' }).click();
      await scan('account with errors');
      await page.keyboard.press('Escape');

      expect(alice.errors).toEqual([]);
      await alice.context.close();
    });
  }

  it('reads, sends and searches by keyboard alone, with focus always visible', async () => {
    const alice = await openAs(browser, server.url, 'alice', 'Alice Liddell');
    const { page, errors } = alice;
    const { keyboard } = page;

    /**
     * Presses Tab until one of `target` has focus (as a keyboard user would),
     * checking that every element on the way shows where focus is.
     */
    const tabTo = async (target: Locator, reverse = false) => {
      for (let i = 0; i < 60; i++) {
        await keyboard.press(reverse ? 'Shift+Tab' : 'Tab');
        const focus = await focusState(page);
        if (focus.element !== 'BODY') {
          expect.soft(focus.visible, `no visible focus indicator on ${focus.description}`).toBe(true);
        }
        if (await target.evaluateAll((all) => all.some((el) => el === document.activeElement))) return;
      }
      throw new Error(`Tab never reached ${target}`);
    };

    // Log in: the username field has focus from the start.
    await page.getByLabel('Username').waitFor();
    await keyboard.type('alice');
    await tabTo(page.getByLabel('Password', { exact: true }));
    await keyboard.type(PASSWORD);
    await keyboard.press('Enter');
    await page.getByRole('button', { name: 'Log out' }).waitFor();

    // Read: open the 1-on-1 from the list, then scroll its history from the keyboard.
    await tabTo(
      page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Bob Builder/ }),
    );
    await keyboard.press('Enter');
    await waitForMessage(alice, 'Thanks Bob');
    await tabTo(page.getByRole('log'));
    await keyboard.press('PageUp');
    await keyboard.press('End');

    // A message's own menu: arrows move through it, Escape closes it.
    await tabTo(messageRow(alice, 'Thanks Bob').getByRole('button', { name: 'Message actions' }));
    await keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'Edit' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Reply');
    await keyboard.press('End');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Delete');
    await keyboard.press('Escape');
    await page.getByRole('menu').waitFor({ state: 'detached' });

    // Send.
    await tabTo(page.getByRole('textbox', { name: 'Message' }));
    await keyboard.type('Typed without a mouse');
    await keyboard.press('Enter');
    await waitForMessage(alice, 'Typed without a mouse');

    // Search, and open what was found.
    await tabTo(page.getByRole('searchbox', { name: /Search/ }), true);
    await keyboard.type('wikipedia');
    const found = page
      .getByRole('region', { name: 'Messages found' })
      .getByRole('button', { name: /wikipedia/ });
    await found.waitFor();
    await tabTo(found);
    await keyboard.press('Enter');
    await page.locator('.message-row[data-highlight]', { hasText: 'wikipedia' }).waitFor();

    // The theme switch: arrow keys change the choice.
    await tabTo(page.getByRole('radio', { checked: true }));
    await keyboard.press('ArrowRight');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');

    expect(errors).toEqual([]);
    await alice.context.close();
  });
});

/** What has focus, and whether it (or the label that stands for it) shows a focus indicator. */
function focusState(page: Page): Promise<{ element: string; description: string; visible: boolean }> {
  return page.evaluate(() => {
    const active = document.activeElement as HTMLElement | null;
    if (!active) return { element: 'BODY', description: 'nothing', visible: false };
    // A visually hidden radio shows its focus on its label.
    const shown = active.closest('label') ?? active;
    const style = getComputedStyle(shown);
    const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0;
    const ring = style.boxShadow !== 'none';
    const description = `${active.tagName.toLowerCase()} ${active.getAttribute('aria-label') ?? active.textContent?.trim().slice(0, 40) ?? ''}`;
    return {
      element: active.tagName,
      description,
      visible: active.matches(':focus-visible') && (outline || ring),
    };
  });
}
