import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  messageRow,
  openAs,
  type Person,
  screenshot,
  send,
  signUp,
  useServerAndBrowser,
  waitForMessage,
} from './harness.ts';

/** A 40 × 30 grey PNG. */
const IMAGE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAACgAAAAeCAAAAAB7tgMBAAAAGElEQVR4nGNoIBIwjCocVTiqcFThYFYIAME9WB/23J5xAAAAAElFTkSuQmCC',
  'base64',
);
const NOTES = 'Agenda:\n1. files\n2. images\n';

describe('files in messages', () => {
  const suite = useServerAndBrowser();
  let alice: Person;
  let bob: Person;

  it('attaches an image and a file in one browser; the other shows the image in its space and downloads the file', async () => {
    const { browser, server } = suite;
    [alice, bob] = await Promise.all([
      openAs(browser, server.url, 'alice', 'Alice Liddell'),
      openAs(browser, server.url, 'bob', 'Bob Builder'),
    ]);
    await Promise.all([signUp(alice), signUp(bob)]);
    // Alice starts the 1-on-1 from the people list.
    await alice.page.getByRole('tab', { name: 'People' }).click();
    await alice.page.getByRole('button', { name: 'Message Bob Builder' }).click();

    // The attach button opens the file picker; the picker's files upload at once, with progress.
    const [chooser] = await Promise.all([
      alice.page.waitForEvent('filechooser'),
      alice.page.getByRole('button', { name: 'Attach files' }).click(),
    ]);
    await chooser.setFiles([
      { name: 'photo.png', mimeType: 'image/png', buffer: IMAGE },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(NOTES) },
    ]);
    const attached = alice.page.getByRole('list', { name: 'Attached files' });
    await attached.getByRole('listitem').filter({ hasText: 'photo.png' }).waitFor();
    await expect.poll(() => attached.getByRole('progressbar').count(), { timeout: 10_000 }).toBe(0);
    await send(alice, 'the files you asked for');
    await waitForMessage(alice, 'the files you asked for');
    expect(await attached.count()).toBe(0);

    await bob.page.getByRole('button', { name: /Alice Liddell/ }).click();
    await waitForMessage(bob, 'the files you asked for');
    const row = messageRow(bob, 'the files you asked for');
    const frame = row.getByRole('link', { name: 'Open image photo.png' });
    // The space is the image's own shape from the start (40 × 30), before and after it loads.
    const box = await frame.boundingBox();
    expect(box!.width / box!.height).toBeCloseTo(40 / 30, 1);
    const image = row.getByRole('img', { name: 'photo.png' });
    await expect
      .poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), {
        timeout: 10_000,
      })
      .toBe(40);
    const after = await frame.boundingBox();
    expect(after!.height).toBeCloseTo(box!.height, 0);

    const [download] = await Promise.all([
      bob.page.waitForEvent('download'),
      row.getByRole('link', { name: /Download notes\.txt/ }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('notes.txt');
    expect(await readFile((await download.path())!, 'utf8')).toBe(NOTES);
    await screenshot(bob, 'files-received');
    expect(alice.errors).toEqual([]);
    expect(bob.errors).toEqual([]);
  });

  it('takes a pasted image and sends it without text', async () => {
    await alice.page.getByRole('textbox', { name: 'Message' }).focus();
    await alice.page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
      document.activeElement!.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true }),
      );
    }, IMAGE.toString('base64'));
    const attached = alice.page.getByRole('list', { name: 'Attached files' });
    await attached.getByRole('listitem').filter({ hasText: 'pasted.png' }).waitFor();
    await expect.poll(() => attached.getByRole('progressbar').count(), { timeout: 10_000 }).toBe(0);
    await alice.page.getByRole('button', { name: 'Send message' }).click();
    await bob.page.getByRole('img', { name: 'pasted.png' }).waitFor({ timeout: 10_000 });
  });
});
