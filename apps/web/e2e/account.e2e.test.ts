import type { PneumaticClient } from '@pneumatic/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiAs,
  checkPrerequisites,
  launchBrowser,
  logIn,
  messageRow,
  openAs,
  PASSWORD,
  type Person,
  type RunningServer,
  signUp,
  startServer,
} from './harness.ts';

// The Account dialog, each of its screens seen to take effect in another browser or client.
describe('the account dialog', () => {
  let server: RunningServer;
  let browser: Browser;
  const clients: PneumaticClient[] = [];

  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await browser?.close();
    await server?.close();
  });

  /** Opens the dialog from the sidebar's user area. */
  async function openAccount(person: Person) {
    await person.page.getByRole('button', { name: /^Account:/ }).click();
    const dialog = person.page.getByRole('dialog', { name: 'Account' });
    await dialog.waitFor();
    return dialog;
  }

  it('changes the password: a wrong current one is refused, then the other browser is signed out', async () => {
    const desk = await openAs(browser, server.url, 'alice', 'Alice Liddell');
    await signUp(desk);
    const laptop = await openAs(browser, server.url, 'alice', 'Alice Liddell');
    await logIn(laptop);

    const dialog = await openAccount(desk);
    // The first field takes the focus as the dialog opens.
    await expect.poll(() => desk.page.evaluate(() => document.activeElement?.id ?? '')).toMatch(/name$/);
    await dialog.getByLabel('Current password').fill('not my password');
    await dialog.getByLabel('New password', { exact: true }).fill('a newer long password');
    await dialog.getByLabel('New password again').fill('a newer long password');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Password is incorrect' }).waitFor();
    expect(await dialog.getByLabel('Current password').getAttribute('aria-invalid')).toBe('true');

    await dialog.getByLabel('Current password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();

    // The laptop's login is over at once: back to the sign-in screen.
    await laptop.page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 10_000 });
    // This browser stays signed in, its list of sessions down to itself.
    await dialog.getByRole('list', { name: 'Sessions' }).getByRole('listitem').first().waitFor();
    await expect
      .poll(() => dialog.getByRole('list', { name: 'Sessions' }).getByRole('listitem').count())
      .toBe(1);
    await desk.page.keyboard.press('Escape');
    await desk.page.getByRole('button', { name: 'Log out' }).waitFor();
    expect([...desk.errors, ...laptop.errors]).toEqual([]);
    await desk.context.close();
    await laptop.context.close();
  });

  it('lists where I am signed in and signs another session out', async () => {
    const desk = await openAs(browser, server.url, 'bea', 'Bea Arthur');
    await signUp(desk);
    const script = await apiAs(server.url, 'bea');
    clients.push(script);

    const dialog = await openAccount(desk);
    const sessions = dialog.getByRole('list', { name: 'Sessions' });
    await expect.poll(() => sessions.getByRole('listitem').count()).toBe(2);
    await sessions.getByRole('listitem').filter({ hasText: 'This device' }).waitFor();
    await expect.poll(() => sessions.getByRole('listitem').filter({ hasText: 'Chrome' }).count()).toBe(1);

    const other = sessions.getByRole('listitem').filter({ hasNotText: 'This device' });
    await other.getByRole('button', { name: /^Sign out/ }).click();
    await dialog
      .getByRole('status')
      .filter({ hasText: /^Signed out/ })
      .waitFor();
    await expect.poll(() => sessions.getByRole('listitem').count()).toBe(1);
    await expect(script.session.refresh()).rejects.toThrow();
    expect(desk.errors).toEqual([]);
    await desk.context.close();
  });

  it('renames me, and another person sees the new name without reloading', async () => {
    const cleo = await openAs(browser, server.url, 'cleo', 'Cleo Patra');
    const dan = await openAs(browser, server.url, 'dan', 'Dan Brown');
    await Promise.all([signUp(cleo), signUp(dan)]);
    const cleoApi = await apiAs(server.url, 'cleo');
    clients.push(cleoApi);
    const { users } = await cleoApi.api.users.list.query({ query: 'dan' });
    await cleoApi.api.conversations.create.mutate({ title: 'cleo & dan', member_ids: [users[0]!.id] });
    const danList = dan.page.getByRole('list', { name: 'Conversations' });
    await danList.getByRole('button', { name: /Cleo Patra/ }).waitFor();

    const dialog = await openAccount(cleo);
    await dialog.getByLabel('Name shown to others').fill('Cleopatra VII');
    await dialog.getByRole('button', { name: 'Save name' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Display name saved.' }).waitFor();
    await cleo.page.keyboard.press('Escape');
    await cleo.page.getByRole('button', { name: /^Account: Cleopatra VII/ }).waitFor();

    await danList.getByRole('button', { name: /Cleopatra VII/ }).waitFor({ timeout: 10_000 });
    expect([...cleo.errors, ...dan.errors]).toEqual([]);
    await cleo.context.close();
    await dan.context.close();
  });

  it('deletes my account after a confirmation; my messages stay, from "Deleted user"', async () => {
    const eve = await openAs(browser, server.url, 'eve', 'Eve Online');
    const fay = await openAs(browser, server.url, 'fay', 'Fay Wray');
    await Promise.all([signUp(eve), signUp(fay)]);
    const eveApi = await apiAs(server.url, 'eve');
    clients.push(eveApi);
    const { users } = await eveApi.api.users.list.query({ query: 'fay' });
    const chat = await eveApi.api.conversations.create.mutate({
      title: 'eve & fay',
      member_ids: [users[0]!.id],
    });
    await eveApi.sendMessage(chat.id, 'before I go');
    await fay.page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: /Eve Online/ })
      .click();
    await messageRow(fay, 'before I go').waitFor();

    const dialog = await openAccount(eve);
    await dialog.getByRole('button', { name: 'Delete account…' }).click();
    const password = dialog.getByLabel('Your password, to confirm');
    await expect.poll(() => password.evaluate((el) => el === document.activeElement)).toBe(true);
    await password.fill('wrong password');
    await dialog.getByRole('button', { name: 'Delete my account for good' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'Password is incorrect' }).waitFor();

    await password.fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Delete my account for good' }).click();
    await eve.page.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 10_000 });

    // Fay sees the account gone, live: the chat is now with "Deleted user", the message still there.
    await fay.page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: /Deleted user/ })
      .waitFor();
    await messageRow(fay, 'before I go').waitFor();
    expect([...eve.errors, ...fay.errors]).toEqual([]);
    await eve.context.close();
    await fay.context.close();
  });
});
