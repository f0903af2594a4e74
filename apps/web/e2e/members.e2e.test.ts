import { beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations } from './axe.ts';
import { apiAs, logIn, messageRow, openAs, type Person, screenshot, useServerAndBrowser } from './harness.ts';

// A group's owner makes an admin; the admin removes someone, whose view drops the group live.
describe('group members and roles', () => {
  const running = useServerAndBrowser();
  let alice: Person;
  let bob: Person;
  let carol: Person;

  beforeAll(async () => {
    const { server, browser } = running;
    const clients = await Promise.all([
      apiAs(server.url, 'alice', 'Alice Liddell'),
      apiAs(server.url, 'bob', 'Bob Builder'),
      apiAs(server.url, 'carol', 'Carol Danvers'),
    ]);
    const { users } = await clients[0]!.api.users.list.query();
    const id = (username: string) => users.find((u) => u.username === username)!.id;
    const group = await clients[0]!.api.conversations.create.mutate({
      title: 'Trip',
      member_ids: [id('bob'), id('carol')],
    });
    await clients[0]!.sendMessage(group.id, 'Who is coming?');
    for (const client of clients) client.close();
    alice = await openAs(browser, server.url, 'alice', 'Alice Liddell');
    bob = await openAs(browser, server.url, 'bob', 'Bob Builder');
    carol = await openAs(browser, server.url, 'carol', 'Carol Danvers');
    for (const person of [alice, bob, carol]) {
      await logIn(person);
      await person.page
        .getByRole('list', { name: 'Conversations' })
        .getByRole('button', { name: /Trip/ })
        .click();
      await person.page.getByRole('heading', { name: /Trip/ }).waitFor();
    }
  });

  const openMembers = async (person: Person) => {
    await person.page.getByRole('button', { name: 'Group settings' }).click();
    await person.page.getByRole('menuitem', { name: 'Members' }).click();
    return person.page.getByRole('dialog', { name: 'Members of Trip' });
  };
  const row = (dialog: Awaited<ReturnType<typeof openMembers>>, name: string) =>
    dialog.getByRole('listitem').filter({ hasText: name });

  it('lets the owner make an admin, shown to everyone', async () => {
    const members = await openMembers(alice);
    await row(members, 'You').getByText('Owner', { exact: true }).waitFor();
    expect(await members.getByRole('button', { name: 'Make admin' }).count()).toBe(2);
    expect(await accessibilityViolations(alice.page, 'members dialog')).toBe('');
    await row(members, 'Bob Builder').getByRole('button', { name: 'Make admin' }).click();
    await row(members, 'Bob Builder').getByText('Admin', { exact: true }).waitFor();
    await members.getByRole('status').getByText('Bob Builder is now an admin').waitFor();
    await screenshot(alice, 'members-owner');
    await members.getByRole('button', { name: 'Done' }).click();
    await messageRow(alice, 'You made Bob Builder an admin').waitFor();
    await messageRow(bob, 'Alice Liddell made you an admin').waitFor();
  });

  it('lets an admin remove a member (never the owner); the removed person’s view drops the group', async () => {
    const members = await openMembers(bob);
    await row(members, 'Alice Liddell').getByText('Owner', { exact: true }).waitFor();
    // Neither the owner can be removed by an admin, nor can an admin make admins.
    expect(await row(members, 'Alice Liddell').getByRole('button').count()).toBe(0);
    expect(await members.getByRole('button', { name: 'Make admin' }).count()).toBe(0);
    await row(members, 'Carol Danvers').getByRole('button', { name: 'Remove' }).click();
    await row(members, 'Carol Danvers').waitFor({ state: 'detached' });
    await screenshot(bob, 'members-admin');
    await members.getByRole('button', { name: 'Done' }).click();

    await messageRow(bob, 'You removed Carol Danvers').waitFor();
    await messageRow(alice, 'Bob Builder removed Carol Danvers').waitFor();
    await carol.page
      .getByRole('list', { name: 'Conversations' })
      .getByRole('button', { name: /Trip/ })
      .waitFor({ state: 'detached' });
    await carol.page.getByRole('heading', { name: 'Pick up where you left off' }).waitFor();
    await screenshot(carol, 'members-removed');
  });

  it('raised no uncaught errors or CSP violations in any page', () => {
    expect([...alice.errors, ...bob.errors, ...carol.errors]).toEqual([]);
  });
});
