import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkPrerequisites,
  launchBrowser,
  messageTexts,
  openAs,
  PASSWORD,
  type Person,
  type RunningServer,
  screenshot,
  send,
  signUp,
  startServer,
  waitForMessage,
} from './harness.ts';

const PING_MS = 1000;

/** tRPC sockets the server has accepted so far. */
async function socketsOpened(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('pneumatic_websocket_connections_total{transport="trpc"}'));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

// The steps build on each other, as people would: sign up, talk, form a group, come back.
describe('Pneumatic web app in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let carol: Person;
  const people: Person[] = [];

  beforeAll(async () => {
    checkPrerequisites();
    // Pings every second, so the browser answers many of them during the run.
    server = await startServer({ SOCKET_PING_MS: String(PING_MS), SOCKET_PONG_TIMEOUT_MS: '2000' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('serves the app with its title', async () => {
    alice = await openAs(browser, server.url, 'alice', 'Alice Liddell');
    people.push(alice);
    expect(await alice.page.title()).toContain('Pneumatic Chat');
  });

  it("shows the server's validation messages next to their fields", async () => {
    const { page } = alice;
    await page.getByRole('tab', { name: 'Sign up' }).click();
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    const passwordError = page.locator('.field', { has: page.getByLabel('Password', { exact: true }) });
    await passwordError.getByText('Must be at least 8 characters').waitFor();
    await page.getByRole('tab', { name: 'Log in' }).click();
  });

  it('signs up alice and bob, each in their own browser', async () => {
    await signUp(alice);
    bob = await openAs(browser, server.url, 'bob', 'Bob Builder');
    people.push(bob);
    await signUp(bob);

    // A taken username is reported on the username field.
    const intruder = await openAs(browser, server.url, 'bob', 'Not Bob');
    await intruder.page.getByRole('tab', { name: 'Sign up' }).click();
    await intruder.page.getByLabel('Username').fill('BOB');
    await intruder.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await intruder.page.getByRole('button', { name: 'Create account' }).click();
    const usernameField = intruder.page.locator('.field', { has: intruder.page.getByLabel('Username') });
    await usernameField.getByText('Username already registered').waitFor();
    await intruder.context.close();
  });

  it('alice opens a 1-on-1 with bob; messages go both ways live', async () => {
    await alice.page.getByRole('tab', { name: 'People' }).click();
    await alice.page.getByRole('button', { name: 'Message Bob Builder' }).click();
    await alice.page.getByRole('heading', { name: 'Bob Builder' }).waitFor();
    await send(alice, 'Hi Bob! Lunch tomorrow?');
    await waitForMessage(alice, 'Hi Bob! Lunch tomorrow?');

    // Bob's list gains the conversation without a reload, unread.
    const fromAlice = bob.page.getByRole('button', { name: /Alice Liddell/ });
    await fromAlice.getByText('1 unread').waitFor({ timeout: 10_000 });
    await fromAlice.click();
    await waitForMessage(bob, 'Hi Bob! Lunch tomorrow?');
    await send(bob, 'Sure, 12:30 works.');

    await waitForMessage(alice, 'Sure, 12:30 works.');
    expect(await messageTexts(alice)).toEqual(['Hi Bob! Lunch tomorrow?', 'Sure, 12:30 works.']);
    expect(await messageTexts(bob)).toEqual(['Hi Bob! Lunch tomorrow?', 'Sure, 12:30 works.']);
    await screenshot(alice, 'direct-alice');
  });

  it("stays on its socket across the server's pings, still live", async () => {
    const opened = await socketsOpened(server.url);
    await new Promise((resolve) => setTimeout(resolve, PING_MS * 5));
    // Both browsers answered every PING: no socket was dropped and opened again.
    expect(await socketsOpened(server.url)).toBe(opened);
    await send(bob, 'Still here after the pings');
    await waitForMessage(alice, 'Still here after the pings');
  });

  it('a group of three exchanges messages', async () => {
    carol = await openAs(browser, server.url, 'carol', 'Carol Danvers', { width: 390, height: 780 });
    people.push(carol);
    await signUp(carol);

    await alice.page.getByRole('button', { name: 'New group' }).first().click();
    const dialog = alice.page.getByRole('dialog', { name: 'New group' });
    await dialog.getByLabel('Group name').fill('Weekend plans');
    await dialog.getByLabel('Participants').fill('bob nobody');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await dialog.getByText('No one is called “nobody”').waitFor();
    await dialog.getByLabel('Participants').fill('carol');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByRole('heading', { name: /Weekend plans/ }).waitFor();

    await send(alice, 'Hiking on Saturday?');
    for (const [person, text] of [
      [bob, 'Count me in'],
      [carol, 'Me too! Early start?'],
    ] as const) {
      await person.page.getByRole('button', { name: /Weekend plans/ }).click();
      await waitForMessage(person, 'Hiking on Saturday?');
      await send(person, text);
      await waitForMessage(person, text);
    }
    await send(alice, '8:00 at the trailhead.');

    const expected = ['Hiking on Saturday?', 'Count me in', 'Me too! Early start?', '8:00 at the trailhead.'];
    for (const person of [alice, bob, carol]) {
      await waitForMessage(person, '8:00 at the trailhead.');
      expect(await messageTexts(person)).toEqual(expected);
    }
    // Sender names label the others' messages in a group.
    await carol.page.getByRole('log').locator('.message-sender', { hasText: 'Bob Builder' }).waitFor();
    await screenshot(alice, 'group-alice');
    await screenshot(carol, 'group-carol-phone');
  });

  it('a reload keeps the login and the history', async () => {
    await bob.page.reload();
    await bob.page.getByRole('button', { name: 'Log out' }).waitFor();
    // The open conversation is in the URL, so the reload lands back in it.
    await bob.page.getByRole('heading', { name: /Weekend plans/ }).waitFor();
    await waitForMessage(bob, '8:00 at the trailhead.');
    expect(await messageTexts(bob)).toHaveLength(4);

    await bob.page.getByRole('button', { name: /Alice Liddell/ }).click();
    await waitForMessage(bob, 'Still here after the pings');
    expect(await messageTexts(bob)).toEqual([
      'Hi Bob! Lunch tomorrow?',
      'Sure, 12:30 works.',
      'Still here after the pings',
    ]);
    await screenshot(bob, 'reloaded-bob');
  });

  it('makes every call through the tRPC client: batched HTTP to /trpc and one /trpc socket', async () => {
    const { page } = bob;
    /** What the page's code fetched; the page, its scripts, styles and images are not calls. */
    const requests: URL[] = [];
    const sockets: URL[] = [];
    const onRequest = (request: { url(): string; resourceType(): string }) => {
      if (request.resourceType() === 'fetch' || request.resourceType() === 'xhr')
        requests.push(new URL(request.url()));
    };
    const onSocket = (socket: { url(): string }) => sockets.push(new URL(socket.url()));
    page.on('request', onRequest);
    page.on('websocket', onSocket);
    try {
      await page.reload();
      await page.getByRole('heading', { name: /Alice Liddell/ }).waitFor();
      await waitForMessage(bob, 'Still here after the pings');
      await send(bob, 'Sent through the hooks');
      await waitForMessage(bob, 'Sent through the hooks');
      await page.getByRole('button', { name: /Weekend plans/ }).click();
      await waitForMessage(bob, '8:00 at the trailhead.');
    } finally {
      page.off('request', onRequest);
      page.off('websocket', onSocket);
    }
    const calls = requests.filter((url) => url.pathname.startsWith('/trpc/'));
    expect(requests.filter((url) => !calls.includes(url)).map((url) => url.href)).toEqual([]);
    // The hooks' queries, by the paths tRPC's HTTP batch link puts in the URL.
    const procedures = new Set(calls.flatMap((url) => url.pathname.slice('/trpc/'.length).split(',')));
    for (const procedure of ['auth.me', 'conversations.list', 'users.get', 'messages.list', 'messages.send'])
      expect(procedures).toContain(procedure);
    expect(sockets.map((url) => url.pathname)).toEqual(['/trpc']);
  });

  it('messaging someone again reuses the 1-on-1', async () => {
    await bob.page.getByRole('tab', { name: 'People' }).click();
    await bob.page.getByRole('button', { name: 'Message Alice Liddell' }).click();
    await waitForMessage(bob, 'Sure, 12:30 works.');
    const directs = bob.page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: /Alice Liddell/ });
    expect(await directs.count()).toBe(1);
  });

  it('on a phone, goes back to the list and logs out, forgetting the tokens', async () => {
    // A phone shows the conversation alone; the list (with the log-out button) is one step back.
    expect(await carol.page.getByRole('button', { name: 'Log out' }).isVisible()).toBe(false);
    await carol.page.getByRole('button', { name: 'Back to conversations' }).click();
    await carol.page.getByRole('button', { name: 'Log out' }).click();
    await carol.page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await carol.page.evaluate(() => localStorage.getItem('pneumatic.session'))).toBeNull();
  });

  it('raised no uncaught errors or CSP violations in any page', () => {
    expect(people.flatMap((p) => p.errors)).toEqual([]);
  });
});
