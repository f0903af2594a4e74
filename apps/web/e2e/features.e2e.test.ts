import type { PneumaticClient } from '@pneumatic/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiAs,
  checkPrerequisites,
  isInView,
  launchBrowser,
  logIn,
  messageRow,
  messageTexts,
  openAs,
  type Person,
  type RunningServer,
  screenshot,
  send,
  signUp,
  startServer,
  TcpProxy,
  waitForMessage,
} from './harness.ts';

// Presence, typing, read state, edits, membership, search and a network cut, each seen live in
// another browser. The steps build on each other, as a day of chatting would.
describe('chat features, live across browsers', () => {
  let server: RunningServer;
  /** Bob's desktop reaches the server through this, so the test can cut his network. */
  let proxy: TcpProxy;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let bobPhone: Person;
  let carol: Person;
  let dave: PneumaticClient;
  const people: Person[] = [];

  beforeAll(async () => {
    checkPrerequisites();
    // Presence goes offline this soon after the last socket closes (default 5 s).
    server = await startServer({ PRESENCE_GRACE_MS: '300' });
    proxy = new TcpProxy({ host: '127.0.0.1', port: server.port });
    await proxy.start();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    dave?.close();
    await browser?.close();
    await proxy?.close();
    await server?.close();
  });

  /** The people list button for someone, in `viewer`'s sidebar; with `online`, only while it says so. */
  const personButton = (viewer: Person, name: string, online = false) =>
    viewer.page
      .getByRole('list', { name: 'People' })
      .getByRole('button', { name: new RegExp(`^Message ${name} @\\S+${online ? ' · Online$' : ''}`) });
  /** A conversation in `viewer`'s list. */
  const listItem = (viewer: Person, name: string | RegExp) =>
    viewer.page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name });

  it('shows who is online in the people list, live', async () => {
    alice = await openAs(browser, server.url, 'alice', 'Alice Liddell');
    bob = await openAs(browser, proxy.url, 'bob', 'Bob Builder');
    carol = await openAs(browser, server.url, 'carol', 'Carol Danvers');
    people.push(alice, bob, carol);
    await Promise.all([signUp(alice), signUp(bob), signUp(carol)]);
    // Dave has an account but no browser open: never online. His group makes the others contacts,
    // and presence goes live to contacts only.
    dave = await apiAs(server.url, 'dave', 'Dave Grohl');
    const { users: everyone } = await dave.api.users.list.query();
    await dave.api.conversations.create.mutate({
      member_ids: everyone.filter((u) => u.username !== 'dave').map((u) => u.id),
      title: 'Band',
    });

    await alice.page.getByRole('tab', { name: 'People' }).click();
    await personButton(alice, 'Bob Builder', true).waitFor();
    await personButton(alice, 'Carol Danvers', true).waitFor();
    expect(await personButton(alice, 'Dave Grohl').getAttribute('data-online')).toBeNull();

    // Carol closes the app: her dot goes once the grace period is over, and comes back with her.
    await carol.page.goto('about:blank');
    await alice.page
      .locator('.person-item[data-online]', { hasText: 'Carol Danvers' })
      .waitFor({ state: 'detached' });
    await screenshot(alice, 'presence-people');
    await carol.page.goto(server.url);
    await personButton(alice, 'Carol Danvers', true).waitFor();
  });

  it('shows "typing…" in the other window, never to the typist, and ends it by itself', async () => {
    await personButton(alice, 'Bob Builder').click();
    const header = alice.page.locator('.conversation-header');
    await header.getByRole('heading', { name: 'Bob Builder' }).waitFor();
    await header.getByText('Online').waitFor();
    await send(alice, 'Hi Bob!');
    await listItem(bob, /Alice Liddell/).click();
    await waitForMessage(bob, 'Hi Bob!');

    // Typed key by key over more than the 2.5 s between announcements.
    const box = alice.page.getByRole('textbox', { name: 'Message' });
    await box.pressSequentially('Are you th', { delay: 300 });
    const typing = bob.page.locator('.typing-indicator[data-active]');
    await typing.getByText('Alice is typing…').waitFor({ timeout: 5000 });
    await listItem(bob, /Alice Liddell/)
      .getByText('typing…')
      .waitFor();
    expect(await alice.page.locator('.typing-indicator[data-active]').count()).toBe(0);
    await screenshot(bob, 'typing-bob');

    // Alice leaves the box without sending: the indicator expires on its own (after 6 s).
    await alice.page.getByRole('log').click();
    await typing.waitFor({ state: 'hidden', timeout: 10_000 });

    // Typing again shows it again; her message ends it at once.
    await box.fill('Are you there?');
    await typing.waitFor({ timeout: 5000 });
    await box.press('Enter');
    await waitForMessage(bob, 'Are you there?');
    await typing.waitFor({ state: 'hidden', timeout: 1000 });
  });

  it('counts unread messages on every device, clears them when read anywhere, and says "Seen"', async () => {
    bobPhone = await openAs(browser, server.url, 'bob', 'Bob Builder', { width: 390, height: 780 });
    people.push(bobPhone);
    await logIn(bobPhone);
    // Bob's desktop goes back to the list: nothing is open there now.
    await bob.page.evaluate(() => {
      window.location.hash = '';
    });
    await bob.page.getByRole('heading', { name: 'Pick up where you left off' }).waitFor();

    await send(alice, 'First unread');
    await send(alice, 'Second unread');
    await waitForMessage(alice, 'Second unread');
    for (const device of [bob, bobPhone]) {
      await listItem(device, /Alice Liddell/)
        .getByText('2 unread')
        .waitFor();
    }
    // Bob read "Are you there?" while it was on his screen.
    await messageRow(alice, 'Are you there?').getByText('Seen').waitFor();
    await screenshot(bobPhone, 'unread-bob-phone');

    await listItem(bob, /Alice Liddell/).click();
    await waitForMessage(bob, 'Second unread');
    // The phone hears that Bob read them on his desktop.
    await listItem(bobPhone, /Alice Liddell/)
      .locator('.badge')
      .waitFor({ state: 'detached' });
    await messageRow(alice, 'Second unread').getByText('Seen').waitFor();
    expect(await alice.page.locator('.receipt').count()).toBe(1);
    await screenshot(alice, 'seen-alice');
  });

  it('edits and deletes my own messages from the keyboard, live for the other side', async () => {
    // Only my own messages can be edited or deleted; anyone's can be answered.
    await messageRow(bob, 'Second unread').getByRole('button', { name: 'Message actions' }).click();
    await bob.page.getByRole('menuitem', { name: 'Reply' }).waitFor();
    expect(await bob.page.getByRole('menuitem', { name: /Edit|Delete/ }).count()).toBe(0);
    await bob.page.keyboard.press('Escape');

    const second = messageRow(alice, 'Second unread');
    await second.hover();
    await second.getByRole('button', { name: 'Message actions' }).focus();
    await alice.page.keyboard.press('Enter');
    await alice.page.getByRole('menuitem', { name: 'Edit' }).waitFor();
    await screenshot(alice, 'message-menu');
    // Reply and Add reaction come first.
    await alice.page.keyboard.press('ArrowDown');
    await alice.page.keyboard.press('ArrowDown');
    await alice.page.keyboard.press('Enter');
    const editor = alice.page.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('Second one, edited');
    await screenshot(alice, 'message-editor');
    await editor.press('Enter');
    await messageRow(bob, 'Second one, edited').getByText('(edited)').waitFor();

    // Escape leaves the text as it was.
    const edited = messageRow(alice, 'Second one, edited');
    await edited.hover();
    await edited.getByRole('button', { name: 'Message actions' }).click();
    await alice.page.getByRole('menuitem', { name: 'Edit' }).click();
    await editor.fill('never saved');
    await editor.press('Escape');
    await editor.waitFor({ state: 'detached' });
    expect(await messageRow(alice, 'Second one, edited').count()).toBe(1);

    const first = messageRow(alice, 'First unread');
    await first.hover();
    await first.getByRole('button', { name: 'Message actions' }).click();
    await alice.page.getByRole('menuitem', { name: 'Delete' }).click();
    const confirm = alice.page.getByRole('alertdialog', { name: 'Delete message?' });
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await confirm.waitFor({ state: 'detached' });
    await bob.page.getByRole('log').getByText('Message deleted').waitFor();
    expect(await messageRow(bob, 'First unread').count()).toBe(0);
    await screenshot(bob, 'edited-deleted-bob');
  });

  it('renames a group, adds and removes people, with system lines for everyone', async () => {
    // A 1-on-1 cannot grow: "Add people" offers a new group with the other person in it.
    await alice.page.getByRole('button', { name: 'Add people' }).click();
    const newGroup = alice.page.getByRole('dialog', { name: 'New group' });
    await newGroup.getByText('A 1-on-1 stays between the two of you').waitFor();
    await newGroup.locator('.chip', { hasText: 'bob' }).waitFor();
    await screenshot(alice, 'direct-add-people');
    await newGroup.getByLabel('Group name').fill('Weekend plans');
    await newGroup.getByLabel('Participants').fill('carol');
    await newGroup.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByRole('heading', { name: /Weekend plans/ }).waitFor();
    await send(alice, 'Plans for Saturday?');
    await listItem(bob, /Weekend plans/).click();
    await listItem(carol, /Weekend plans/).click();

    // In a group, typing names who.
    for (const person of [bob, carol])
      await person.page.getByRole('textbox', { name: 'Message' }).fill('Sure');
    await alice.page
      .locator('.typing-indicator')
      .getByText('Bob and Carol are typing…')
      .waitFor({ timeout: 5000 });
    await screenshot(alice, 'typing-group-alice');
    for (const person of [bob, carol]) await person.page.getByRole('textbox', { name: 'Message' }).fill('');

    await alice.page.getByRole('button', { name: 'Group settings' }).click();
    await alice.page.getByRole('menuitem', { name: 'Rename group' }).click();
    const rename = alice.page.getByRole('dialog', { name: 'Rename group' });
    await rename.getByLabel('Group name').fill('Hiking crew');
    await rename.getByRole('button', { name: 'Save' }).click();
    await alice.page.getByRole('heading', { name: /Hiking crew/ }).waitFor();
    await messageRow(alice, 'You renamed the group to “Hiking crew”').waitFor();
    await messageRow(bob, 'Alice Liddell renamed the group to “Hiking crew”').waitFor();
    await bob.page.getByRole('heading', { name: /Hiking crew/ }).waitFor();

    await alice.page.getByRole('button', { name: 'Add people' }).click();
    const add = alice.page.getByRole('dialog', { name: 'Add people to Hiking crew' });
    await add.getByLabel('People').fill('nobody');
    await add.getByRole('button', { name: 'Add', exact: true }).click();
    await add.getByText('No one is called “nobody”').waitFor();
    await add.getByLabel('People').fill('bob');
    await add.getByRole('button', { name: 'Add', exact: true }).click();
    await add.getByText('bob is already in Hiking crew').waitFor();
    await screenshot(alice, 'add-people-error');
    await add.getByLabel('People').fill('dave');
    await add.getByRole('button', { name: 'Add', exact: true }).click();
    await add.waitFor({ state: 'detached' });
    await messageRow(alice, 'You added Dave Grohl').waitFor();
    await messageRow(carol, 'Alice Liddell added Dave Grohl').waitFor();
    await alice.page
      .locator('.conversation-header')
      .getByText(/Dave Grohl/)
      .waitFor();

    // Carol leaves: gone from her list, and a line for the others.
    await carol.page.getByRole('button', { name: 'Group settings' }).click();
    await carol.page.getByRole('menuitem', { name: 'Leave group' }).click();
    await carol.page
      .getByRole('alertdialog', { name: 'Leave Hiking crew?' })
      .getByRole('button', { name: 'Leave group' })
      .click();
    await listItem(carol, /Hiking crew/).waitFor({ state: 'detached' });
    await carol.page.getByRole('heading', { name: 'Pick up where you left off' }).waitFor();
    await messageRow(alice, 'Carol Danvers left').waitFor();
    await messageRow(bob, 'Carol Danvers left').waitFor();
    await screenshot(bob, 'membership-bob');
    expect(await bob.page.locator('.system-row').count()).toBe(3);

    // Added back, the group reappears in Carol's list live; leaving on another device closes it live.
    await alice.page.getByRole('button', { name: 'Add people' }).click();
    await add.getByLabel('People').fill('carol');
    await add.getByRole('button', { name: 'Add', exact: true }).click();
    await listItem(carol, /Hiking crew/).click();
    await carol.page.getByRole('heading', { name: /Hiking crew/ }).waitFor();
    const conversationId = await alice.page.evaluate(() => window.location.hash.slice('#/c/'.length));
    const carolElsewhere = await apiAs(server.url, 'carol');
    await carolElsewhere.api.conversations.leave.mutate({ conversation_id: conversationId });
    carolElsewhere.close();
    await listItem(carol, /Hiking crew/).waitFor({ state: 'detached' });
    await carol.page.getByRole('heading', { name: 'Pick up where you left off' }).waitFor();
  });

  it('finds messages, marks the matches, and jumps to one in older history', async () => {
    // A word deep in Bob and Alice's history: more than a page of messages after it.
    const bobApi = await apiAs(server.url, 'bob');
    const conversations = await bobApi.api.conversations.list.query();
    const withAlice = conversations.find((c) => c.kind === 'direct');
    if (!withAlice) throw new Error('no 1-on-1 with alice');
    await bobApi.sendMessage(withAlice.id, 'The secret word is pumpernickel');
    for (let i = 1; i <= 60; i++) await bobApi.sendMessage(withAlice.id, `filler ${i}`);
    bobApi.close();

    const search = alice.page.getByRole('searchbox', { name: /Search/ });
    await search.fill('pumpernick');
    const results = alice.page.getByRole('region', { name: 'Messages found' });
    const result = results.getByRole('button', { name: /pumpernickel/ });
    await result.waitFor();
    expect(await result.locator('mark').allTextContents()).toEqual(['pumpernickel']);
    await screenshot(alice, 'search-results');

    await result.click();
    await alice.page.getByRole('heading', { name: 'Bob Builder' }).waitFor();
    const target = alice.page.locator('.message-row[data-highlight]', {
      hasText: 'The secret word is pumpernickel',
    });
    await target.waitFor({ timeout: 10_000 });
    expect(await isInView(alice, target)).toBe(true);
    await screenshot(alice, 'search-jump');
    await search.fill('');
  });

  it('going offline and back loses nothing: every message once, in order', async () => {
    // Bob's phone goes away, so his desktop is his only device.
    await bobPhone.context.close();
    await listItem(bob, /Alice Liddell/).click();
    await waitForMessage(bob, 'filler 60');
    const header = alice.page.locator('.conversation-header');
    await header.getByText('Online').waitFor();

    await proxy.cut();
    await bob.page.getByText('Connection lost. Reconnecting…').waitFor({ timeout: 5000 });
    // Offline, Bob cannot know who is online, so no one shows as online.
    await bob.page.locator('.conversation-header').getByText('@alice').waitFor();
    // Bob's last socket is gone: Alice sees him go offline.
    await header.getByText('@bob').waitFor();
    const missed = ['While you were away 1', 'While you were away 2', 'While you were away 3'];
    for (const text of missed) {
      await send(alice, text);
      await waitForMessage(alice, text);
    }
    await screenshot(bob, 'offline-bob');
    await proxy.restore();

    // The socket comes back on its own backoff (about 0.5 s doubling).
    await messageRow(bob, missed[2]!).waitFor({ timeout: 20_000 });
    await waitForMessage(bob, missed[2]!);
    const texts = await messageTexts(bob);
    expect(texts.slice(-4)).toEqual(['filler 60', ...missed]);
    for (const text of missed) expect(texts.filter((t) => t === text)).toHaveLength(1);
    await header.getByText('Online').waitFor();
    await screenshot(bob, 'back-online-bob');
  });

  it('raised no uncaught errors or CSP violations in any page', () => {
    expect(people.flatMap((p) => p.errors)).toEqual([]);
  });
});
