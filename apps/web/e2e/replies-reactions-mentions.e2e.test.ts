import type { PneumaticClient } from '@pneumatic/client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations } from './axe.ts';
import {
  apiAs,
  checkPrerequisites,
  isInView,
  launchBrowser,
  messageRow,
  openAs,
  type Person,
  type RunningServer,
  screenshot,
  send,
  signUp,
  startServer,
  waitForMessage,
} from './harness.ts';

// Alice in a browser; Bob and Carol through the SDK, so what they do lands live in her window.
describe('replies, reactions and mentions in the browser', () => {
  let server: RunningServer;
  let browser: Browser;
  let alice: Person;
  let bob: PneumaticClient;
  let carol: PneumaticClient;
  let direct: string;

  beforeAll(async () => {
    checkPrerequisites();
    server = await startServer();
    browser = await launchBrowser();
    alice = await openAs(browser, server.url, 'alice', 'Alice Liddell');
    await signUp(alice);
    bob = await apiAs(server.url, 'bob', 'Bob Builder');
    carol = await apiAs(server.url, 'carol', 'Carol Danvers');
    const { users } = await bob.api.users.list.query();
    const aliceId = users.find((u) => u.username === 'alice')!.id;
    direct = (await bob.api.conversations.create.mutate({ member_ids: [aliceId], title: '' })).id;
  });

  afterAll(async () => {
    bob?.close();
    carol?.close();
    await browser?.close();
    await server?.close();
  });

  const listItem = (name: RegExp) =>
    alice.page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name });

  it('answers a message with its quote, and a quote jumps to its original in older history', async () => {
    const original = await bob.sendMessage(direct, 'Which train do we take?');
    for (let i = 1; i <= 60; i++) await bob.sendMessage(direct, `filler ${i}`);
    await bob.sendMessage(direct, 'The 9:15 then', { replyTo: original.id });

    await listItem(/Bob Builder/).click();
    await waitForMessage(alice, 'The 9:15 then');
    // The original is beyond the first page: not loaded yet (only the reply quotes it).
    const originalText = alice.page.getByRole('log').locator('.message-text', { hasText: 'Which train' });
    expect(await originalText.count()).toBe(0);
    const quote = messageRow(alice, 'The 9:15 then').getByRole('button', {
      name: /^In reply to Bob Builder: +Which train do we take\?$/,
    });
    await quote.click();
    const target = alice.page.locator('.message-row[data-highlight]', { hasText: 'Which train do we take?' });
    await target.waitFor({ timeout: 10_000 });
    expect(await isInView(alice, target)).toBe(true);
    await screenshot(alice, 'reply-jump');

    // Alice answers "filler 60" from its menu; Escape lets the reply go, the second time she sends it.
    const filler = messageRow(alice, /^.*filler 60/);
    const box = alice.page.getByRole('textbox', { name: 'Message' });
    await filler.getByRole('button', { name: 'Message actions' }).click();
    await alice.page.getByRole('menuitem', { name: 'Reply' }).click();
    const replying = alice.page.locator('.composer-reply');
    await replying.getByText('Replying to Bob Builder').waitFor();
    await box.press('Escape');
    await replying.waitFor({ state: 'detached' });
    await filler.getByRole('button', { name: 'Message actions' }).click();
    await alice.page.getByRole('menuitem', { name: 'Reply' }).click();
    await replying.getByText('filler 60').waitFor();
    await screenshot(alice, 'reply-composer');
    expect(await accessibilityViolations(alice.page, 'reply composer and quotes')).toBe('');
    await send(alice, 'Fine by me');
    await waitForMessage(alice, 'Fine by me');
    await replying.waitFor({ state: 'detached' });
    await messageRow(alice, 'Fine by me')
      .getByRole('button', { name: /^In reply to Bob Builder: +filler 60$/ })
      .waitFor();

    const history = await bob.api.messages.list.query({ conversation_id: direct, limit: 5 });
    const answer = history.messages.find((m) => m.content === 'Fine by me')!;
    expect(answer.reply_to).toMatchObject({ excerpt: 'filler 60', deleted: false });

    // Bob deletes his original: the quote says so.
    await bob.api.messages.delete.mutate({ id: original.id });
    await messageRow(alice, 'The 9:15 then')
      .getByRole('button', { name: /^In reply to Bob Builder: +Message deleted$/ })
      .waitFor();
  });

  it('reacts with a click or the keyboard, counts live, and takes reactions back', async () => {
    const row = messageRow(alice, 'Fine by me');
    await row.getByRole('button', { name: 'Message actions' }).click();
    await alice.page.getByRole('menuitem', { name: 'Add reaction' }).click();
    const picker = alice.page.getByRole('dialog', { name: 'Add reaction' });
    await picker.getByRole('button', { name: 'React with 👍' }).click();
    await picker.waitFor({ state: 'detached' });
    const thumbs = (name: string) => row.getByRole('button', { name, exact: true });
    await thumbs('👍 1, you reacted').waitFor();
    expect(await thumbs('👍 1, you reacted').getAttribute('aria-pressed')).toBe('true');

    // Bob's reaction shows up live.
    const stored = (await bob.api.messages.list.query({ conversation_id: direct, limit: 5 })).messages.find(
      (m) => m.content === 'Fine by me',
    )!;
    await bob.api.messages.react.mutate({ id: stored.id, emoji: '👍', on: true });
    await thumbs('👍 2, you reacted').waitFor();

    // Any emoji through the field; text is refused with a reason.
    await row.getByRole('button', { name: 'Add reaction' }).click();
    const other = picker.getByRole('textbox', { name: 'Other emoji' });
    await other.fill('abc');
    await other.press('Enter');
    await picker.getByRole('alert').waitFor();
    expect(await accessibilityViolations(alice.page, 'reaction chips and picker')).toBe('');
    await other.fill('🦄');
    await other.press('Enter');
    await thumbs('🦄 1, you reacted').waitFor();
    await screenshot(alice, 'reactions');

    // From the keyboard: the chip toggles mine off, and on again.
    await thumbs('👍 2, you reacted').focus();
    await alice.page.keyboard.press('Enter');
    await thumbs('👍 1').waitFor();
    expect(await thumbs('👍 1').getAttribute('aria-pressed')).toBe('false');
    await alice.page.keyboard.press('Space');
    await thumbs('👍 2, you reacted').waitFor();

    // A toggle that fails says why, and changes nothing; the next one that goes through clears it.
    const reactCalls = /\/trpc\/[^?]*messages\.react/;
    await alice.page.route(reactCalls, (route) => route.abort('connectionreset'));
    await thumbs('👍 2, you reacted').click();
    const refused = row.getByRole('group', { name: 'Reactions' }).getByRole('alert');
    await expect
      .poll(() => refused.textContent())
      .toBe('Can’t reach Pneumatic right now. Check your connection and try again.');
    expect(await thumbs('👍 2, you reacted').getAttribute('aria-pressed')).toBe('true');
    await alice.page.unroute(reactCalls);
    await thumbs('👍 2, you reacted').click();
    await thumbs('👍 1').waitFor();
    await refused.waitFor({ state: 'detached' });
  });

  it('highlights a mention of me and counts unread mentions in the list until I read them', async () => {
    const { users } = await carol.api.users.list.query();
    const ids = users.filter((u) => u.username !== 'carol').map((u) => u.id);
    const group = await carol.api.conversations.create.mutate({ member_ids: ids, title: 'Trip planning' });
    await carol.sendMessage(group.id, 'hello everyone');
    await carol.sendMessage(group.id, 'hey @alice, can you book?');
    await carol.sendMessage(group.id, '@bob and @ALICE: tickets?');
    await carol.sendMessage(group.id, 'and @nobody at all');

    const item = listItem(/Trip planning/);
    await item.locator('.mention-badge', { hasText: '@2' }).waitFor();
    expect(await item.textContent()).toContain('2 mentions');
    await screenshot(alice, 'mention-badge');

    await item.click();
    await waitForMessage(alice, 'and @nobody at all');
    const mentioned = messageRow(alice, 'can you book?');
    expect(await mentioned.getAttribute('data-mentions-me')).toBe('true');
    expect(await mentioned.locator('.mention[data-me]').allTextContents()).toEqual(['@alice']);
    const both = messageRow(alice, 'tickets?');
    expect(await both.locator('.mention').allTextContents()).toEqual(['@bob', '@ALICE']);
    expect(await both.locator('.mention[data-me]').allTextContents()).toEqual(['@ALICE']);
    // Not a member: plain text.
    expect(await messageRow(alice, 'and @nobody at all').locator('.mention').count()).toBe(0);
    await screenshot(alice, 'mention-highlight');
    expect(await accessibilityViolations(alice.page, 'mentions and their badge')).toBe('');

    // Read: the count goes, here and on the server.
    await item.locator('.mention-badge').waitFor({ state: 'detached' });
    await expect
      .poll(async () => {
        const aliceApi = await apiAs(server.url, 'alice');
        const listed = (await aliceApi.api.conversations.list.query()).find((c) => c.id === group.id);
        aliceApi.close();
        return listed?.unread_mentions;
      })
      .toBe(0);

    // A new mention while I look elsewhere counts live.
    await listItem(/Bob Builder/).click();
    await carol.sendMessage(group.id, 'one more thing @alice');
    await item.locator('.mention-badge', { hasText: '@1' }).waitFor();
    expect(alice.errors).toEqual([]);
  });
});
