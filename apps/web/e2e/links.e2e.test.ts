import { describe, expect, it } from 'vitest';
import {
  apiAs,
  messageRow,
  openAs,
  type Person,
  screenshot,
  signUp,
  useServerAndBrowser,
  waitForMessage,
} from './harness.ts';

const WITH_LINKS =
  'Read https://en.wikipedia.org/wiki/Foo_(bar), then www.example.com. Questions? bob@example.com!';
const WITH_MARKUP = 'Not bold: <b>x</b> <img src=x onerror="window.pwned=1"> javascript:alert(1)';

describe('links in messages', () => {
  const suite = useServerAndBrowser();
  let alice: Person;

  it('shows addresses as links that open safely, and markup as text', async () => {
    alice = await openAs(suite.browser, suite.server.url, 'alice', 'Alice Liddell');
    await signUp(alice);
    const bob = await apiAs(suite.server.url, 'bob', 'Bob Builder');
    const {
      users: [aliceUser],
    } = await bob.api.users.list.query();
    const conversation = await bob.api.conversations.create.mutate({
      title: 'bob & alice',
      member_ids: [aliceUser!.id],
    });
    await bob.sendMessage(conversation.id, WITH_LINKS);
    await bob.sendMessage(conversation.id, WITH_MARKUP);
    await bob.close();

    const { page } = alice;
    await page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: /Bob Builder/ })
      .click();
    await waitForMessage(alice, 'Not bold');

    const links = messageRow(alice, 'Read https').getByRole('link');
    expect(await links.allTextContents()).toEqual([
      'https://en.wikipedia.org/wiki/Foo_(bar)',
      'www.example.com',
      'bob@example.com',
    ]);
    const attributes = await links.evaluateAll((anchors) =>
      anchors.map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel')]),
    );
    expect(attributes).toEqual([
      ['https://en.wikipedia.org/wiki/Foo_(bar)', '_blank', 'noopener noreferrer'],
      ['https://www.example.com', '_blank', 'noopener noreferrer'],
      ['mailto:bob@example.com', '_blank', 'noopener noreferrer'],
    ]);
    // The punctuation around the links stays in the text.
    expect(await messageRow(alice, 'Read https').locator('.message-text').textContent()).toBe(WITH_LINKS);

    // Markup is shown as typed: no element made from it, no script run, no link to javascript:.
    const markup = messageRow(alice, 'Not bold').locator('.message-text');
    expect(await markup.textContent()).toBe(WITH_MARKUP);
    expect(await markup.locator('b, img, a').count()).toBe(0);
    expect(await page.evaluate(() => 'pwned' in window)).toBe(false);
    await screenshot(alice, 'links');
    expect(alice.errors).toEqual([]);
  });
});
