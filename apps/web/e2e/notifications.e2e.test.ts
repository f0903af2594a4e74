import type { PneumaticClient } from '@pneumatic/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiAs,
  checkPrerequisites,
  launchBrowser,
  logIn,
  openAs,
  type Person,
  type RunningServer,
  screenshot,
  signUp,
  startServer,
  waitForMessage,
} from './harness.ts';

/** What the stub records of a notification the app made. */
interface Shown {
  title: string;
  body: string;
  tag: string;
}

declare global {
  interface Window {
    __notifications: (Shown & { onclick: (() => void) | null; closed: boolean })[];
    __permissionRequests: number;
    __focusCalls: number;
    __setHidden(hidden: boolean): void;
  }
}

/**
 * Headless Chromium cannot show a notification, so the page gets a stand-in
 * for the Notification API that records what the app makes of it: each
 * notification, and each permission request, answered with `answer` (kept
 * in localStorage, as a browser keeps a site's permission across reloads).
 * It also lets the test hide the tab (visibilityState), which headless
 * Chromium never does by itself, and counts window.focus() calls.
 */
function stubNotifications(answer: NotificationPermission): void {
  const KEY = '__stub_notification_permission';
  const notifications: Window['__notifications'] = [];
  window.__notifications = notifications;
  window.__permissionRequests = 0;
  window.__focusCalls = 0;
  class StubNotification {
    static get permission(): NotificationPermission {
      return (localStorage.getItem(KEY) as NotificationPermission | null) ?? 'default';
    }
    static async requestPermission(): Promise<NotificationPermission> {
      window.__permissionRequests++;
      localStorage.setItem(KEY, answer);
      return answer;
    }
    title: string;
    body: string;
    tag: string;
    onclick: (() => void) | null = null;
    closed = false;
    constructor(title: string, options: NotificationOptions = {}) {
      this.title = title;
      this.body = options.body ?? '';
      this.tag = options.tag ?? '';
      notifications.push(this);
    }
    close(): void {
      this.closed = true;
    }
  }
  Object.defineProperty(window, 'Notification', {
    value: StubNotification,
    configurable: true,
    writable: true,
  });
  window.focus = () => {
    window.__focusCalls++;
  };
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (hidden ? 'hidden' : 'visible'),
  });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (value: boolean) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
}

describe('notifications and mute, in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let alice: Person;
  let alicePhone: Person;
  let carol: Person;
  let bob: PneumaticClient;
  let aliceApi: PneumaticClient;
  let direct: string;
  let group: string;

  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    bob?.close();
    aliceApi?.close();
    await browser?.close();
    await server?.close();
  });

  /** Opens a page whose Notification API is the stub, then reloads it so the stub is there from the start. */
  async function openStubbed(username: string, fullName: string, answer: NotificationPermission) {
    const person = await openAs(browser, server.url, username, fullName);
    await person.context.addInitScript(stubNotifications, answer);
    await person.page.reload();
    return person;
  }

  const shown = (person: Person): Promise<Shown[]> =>
    person.page.evaluate(() => window.__notifications.map(({ title, body, tag }) => ({ title, body, tag })));
  const permissionRequests = (person: Person) => person.page.evaluate(() => window.__permissionRequests);
  const listItem = (person: Person, name: string | RegExp) =>
    person.page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name });
  /** Waits until `person`'s list shows `text` as the last message of a conversation: the event has been handled. */
  const arrived = (person: Person, conversation: string, text: string) =>
    listItem(person, conversation).getByText(text).waitFor();

  it('asks for permission only when the user clicks, never on load', async () => {
    alice = await openStubbed('alice', 'Alice Liddell', 'granted');
    await signUp(alice);
    bob = await apiAs(server.url, 'bob', 'Bob Builder');
    aliceApi = await apiAs(server.url, 'alice');
    const aliceId = (await aliceApi.api.auth.me.query()).id;
    // Three members make a group.
    const dave = await apiAs(server.url, 'dave', 'Dave Grohl');
    const daveId = (await dave.api.auth.me.query()).id;
    dave.close();
    direct = (await bob.api.conversations.create.mutate({ title: '', member_ids: [aliceId] })).id;
    group = (await bob.api.conversations.create.mutate({ title: 'Hikers', member_ids: [aliceId, daveId] }))
      .id;

    await listItem(alice, /Hikers/).waitFor();
    expect(await permissionRequests(alice)).toBe(0);
    await alice.page.reload();
    await listItem(alice, /Hikers/).waitFor();
    expect(await permissionRequests(alice)).toBe(0);

    const enable = alice.page.getByRole('button', { name: 'Enable notifications' });
    expect(await enable.getAttribute('title')).toBe('Notifications are off');
    await enable.click();
    await alice.page.getByRole('button', { name: 'Turn off notifications' }).waitFor();
    expect(await permissionRequests(alice)).toBe(1);
    // Allowed once, it stays on across a reload, and the new page asks nothing.
    await alice.page.reload();
    await alice.page.getByRole('button', { name: 'Turn off notifications' }).waitFor();
    expect(await permissionRequests(alice)).toBe(0);
  });

  it('notifies of a message in a conversation not in view, with the sender and an excerpt', async () => {
    await listItem(alice, /Bob Builder/).click();
    await alice.page.locator('.conversation-header').getByRole('heading', { name: 'Bob Builder' }).waitFor();

    await bob.sendMessage(group, 'Trail   meeting\nat <b>noon</b> tomorrow');
    await arrived(alice, 'Hikers', 'noon');
    expect(await shown(alice)).toEqual([
      {
        title: 'Bob Builder in Hikers',
        body: 'Trail meeting at <b>noon</b> tomorrow',
        tag: expect.any(String),
      },
    ]);
    const [first] = await shown(alice);

    // The open conversation, in view: nothing.
    await bob.sendMessage(direct, 'Can you see this?');
    await waitForMessage(alice, 'Can you see this?');
    expect(await shown(alice)).toHaveLength(1);

    // A burst in one conversation shares its tag, so the browser shows one.
    await bob.sendMessage(group, 'Bring water');
    await bob.sendMessage(group, 'And snacks');
    await arrived(alice, 'Hikers', 'And snacks');
    const burst = (await shown(alice)).slice(1);
    expect(burst.map((n) => n.body)).toEqual(['Bring water', 'And snacks']);
    expect(new Set([first!.tag, ...burst.map((n) => n.tag)]).size).toBe(1);
  });

  it('notifies of a message in the open conversation while the tab is hidden', async () => {
    await alice.page.evaluate(() => window.__setHidden(true));
    await bob.sendMessage(direct, 'Are you still there?');
    await waitForMessage(alice, 'Are you still there?');
    const last = (await shown(alice)).at(-1);
    expect(last).toMatchObject({ title: 'Bob Builder', body: 'Are you still there?' });
    expect(last!.tag).not.toBe((await shown(alice))[0]!.tag);
    await alice.page.evaluate(() => window.__setHidden(false));
  });

  it('never notifies of my own messages, sent from another device', async () => {
    const before = (await shown(alice)).length;
    await aliceApi.sendMessage(group, 'On my way');
    await arrived(alice, 'Hikers', 'On my way');
    await alice.page.evaluate(() => window.__setHidden(true));
    await aliceApi.sendMessage(direct, 'Sent from my phone');
    await waitForMessage(alice, 'Sent from my phone');
    await alice.page.evaluate(() => window.__setHidden(false));
    expect(await shown(alice)).toHaveLength(before);
  });

  it('opens the conversation and focuses the window when a notification is clicked', async () => {
    const index = (await shown(alice)).findIndex((n) => n.title === 'Bob Builder in Hikers');
    const focusBefore = await alice.page.evaluate(() => window.__focusCalls);
    await alice.page.evaluate((i) => window.__notifications[i]!.onclick?.(), index);
    await alice.page
      .locator('.conversation-header')
      .getByRole('heading', { name: /Hikers/ })
      .waitFor();
    expect(await alice.page.evaluate(() => window.location.hash)).toBe(`#/c/${group}`);
    expect(await alice.page.evaluate(() => window.__focusCalls)).toBe(focusBefore + 1);
    expect(await alice.page.evaluate((i) => window.__notifications[i]!.closed, index)).toBe(true);
  });

  it('mutes per conversation on the server: every device of mine agrees, and no notification comes', async () => {
    alicePhone = await openStubbed('alice', 'Alice Liddell', 'granted');
    await logIn(alicePhone);
    // The desktop goes back to the 1-on-1; the phone mutes the group.
    await listItem(alice, /Bob Builder/).click();
    await alice.page.locator('.conversation-header').getByRole('heading', { name: 'Bob Builder' }).waitFor();
    await listItem(alicePhone, /Hikers/).click();
    await alicePhone.page.getByRole('button', { name: 'Group settings' }).click();
    await alicePhone.page.getByRole('menuitem', { name: 'Mute notifications' }).click();
    await alicePhone.page.locator('.conversation-header').getByRole('img', { name: 'Muted' }).waitFor();

    // The desktop hears it live.
    await listItem(alice, /Hikers/)
      .getByRole('img', { name: 'Muted' })
      .waitFor();
    await screenshot(alice, 'muted-in-list');
    const before = (await shown(alice)).length;
    await bob.sendMessage(group, 'Muted news');
    await arrived(alice, 'Hikers', 'Muted news');
    await alice.page.evaluate(() => window.__setHidden(true));
    await bob.sendMessage(group, 'More muted news');
    await arrived(alice, 'Hikers', 'More muted news');
    await alice.page.evaluate(() => window.__setHidden(false));
    expect(await shown(alice)).toHaveLength(before);
    // The 1-on-1 still notifies.
    await alice.page.evaluate(() => window.__setHidden(true));
    await bob.sendMessage(direct, 'Not muted here');
    await waitForMessage(alice, 'Not muted here');
    await alice.page.evaluate(() => window.__setHidden(false));
    expect((await shown(alice)).at(-1)).toMatchObject({ title: 'Bob Builder', body: 'Not muted here' });

    // Unmuted on the desktop (from the 1-on-1 it has open, through the group's own header): the phone follows.
    await listItem(alice, /Hikers/).click();
    await alice.page.getByRole('button', { name: 'Group settings' }).click();
    await alice.page.getByRole('menuitem', { name: 'Unmute notifications' }).click();
    await listItem(alicePhone, /Hikers/)
      .getByRole('img', { name: 'Muted' })
      .waitFor({ state: 'detached' });
    await listItem(alice, /Bob Builder/).click();
    await alice.page.locator('.conversation-header').getByRole('heading', { name: 'Bob Builder' }).waitFor();
    await bob.sendMessage(group, 'Loud again');
    await arrived(alice, 'Hikers', 'Loud again');
    expect((await shown(alice)).at(-1)).toMatchObject({ title: 'Bob Builder in Hikers', body: 'Loud again' });
  });

  it('mutes a 1-on-1 from its header menu too, and a reload keeps it', async () => {
    await alice.page.getByRole('button', { name: 'Conversation settings' }).click();
    await alice.page.getByRole('menuitem', { name: 'Mute notifications' }).click();
    // Her other device hears of it once the server has stored it: only then can a reload keep it
    // (reloading at once could cancel the request before it left).
    await listItem(alicePhone, /Bob Builder/)
      .getByRole('img', { name: 'Muted' })
      .waitFor();
    await alice.page.reload();
    await alice.page.locator('.conversation-header').getByRole('img', { name: 'Muted' }).waitFor();
  });

  it('explains, when the browser denies them, where to allow them', async () => {
    carol = await openStubbed('carol', 'Carol Danvers', 'denied');
    await signUp(carol);
    expect(await permissionRequests(carol)).toBe(0);
    await carol.page.getByRole('button', { name: 'Enable notifications' }).click();
    const note = carol.page.getByRole('status').filter({ hasText: 'Notifications are blocked' });
    await note.waitFor();
    expect(await note.textContent()).toMatch(/site settings/);
    const blocked = carol.page.getByRole('button', { name: 'Notifications blocked' });
    expect(await blocked.getAttribute('title')).toBe('Your browser blocks notifications from this site');
    await screenshot(carol, 'notifications-blocked');
    await carol.page.getByRole('button', { name: 'Got it' }).click();
    await note.waitFor({ state: 'detached' });
    expect(await permissionRequests(carol)).toBe(1);
    // Asking again is pointless: a click explains instead.
    await blocked.click();
    await note.waitFor();
    expect(await permissionRequests(carol)).toBe(1);
    expect(alice.errors).toEqual([]);
    expect(carol.errors).toEqual([]);
  });
});
