import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPneumaticClient, type PneumaticClient } from '@pneumatic/client';
import {
  assertServerBuilt,
  type RunningServer,
  startServer as startBuiltServer,
} from '@pneumatic/test-server';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';

export { TcpProxy } from '@pneumatic/test-server';
export type { RunningServer };

const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WEB_DIST = join(WEB_ROOT, 'dist');
export const OUTPUT_DIR = join(WEB_ROOT, 'test-output');

/** Debian's Chromium, unless CHROMIUM_PATH names another. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails with what to do when something the test does not build itself is missing. */
export function checkPrerequisites(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
  }
  assertServerBuilt();
  if (!existsSync(join(WEB_DIST, 'index.html'))) {
    throw new Error(`The web app is not built (${WEB_DIST}/index.html missing): run the web build first.`);
  }
}

/** The servers this file's tests run against, while they run. */
const servers = new Set<RunningServer>();

// A browser test that fails on timing says little by itself: it shows what each server logged.
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    for (const server of servers)
      process.stderr.write(`--- ${server.url}: the server's last lines ---\n${server.output()}\n`);
  });
});

/** The built server on a free port over a fresh SQLite database, serving the built app. */
export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const server = await startBuiltServer({ env: { WEB_DIST, ...env } });
  servers.add(server);
  return {
    ...server,
    close: () => {
      servers.delete(server);
      return server.close();
    },
  };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** One person in their own browser context (own storage, own socket). */
/**
 * A built server and a browser for the tests of one describe block, started
 * before them and closed after; read the fields inside tests.
 */
export function useServerAndBrowser(env: Record<string, string> = {}): {
  server: RunningServer;
  browser: Browser;
} {
  const suite = {} as { server: RunningServer; browser: Browser };
  beforeAll(async () => {
    checkPrerequisites();
    suite.server = await startServer(env);
    suite.browser = await launchBrowser();
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });
  return suite;
}

export interface Person {
  username: string;
  fullName: string;
  context: BrowserContext;
  page: Page;
  /** Uncaught errors and content security policy violations on the page. */
  errors: string[];
}

export async function openAs(
  browser: Browser,
  url: string,
  username: string,
  fullName: string,
  viewport = { width: 1200, height: 780 },
): Promise<Person> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // The server sends a strict content security policy; anything the app does against it shows here.
  page.on('console', (message) => {
    if (message.type() === 'error' && /content security policy/i.test(message.text()))
      errors.push(message.text());
  });
  await page.goto(url);
  return { username, fullName, context, page, errors };
}

export const PASSWORD = 'a long enough password';

export async function signUp(person: Person): Promise<void> {
  const { page } = person;
  await page.getByRole('tab', { name: 'Sign up' }).click();
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Full name').fill(person.fullName);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** Logs in as someone who already signed up (another device of theirs). */
export async function logIn(person: Person): Promise<void> {
  const { page } = person;
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/** The SDK from Node, signed in: for what a test sets up without a browser. */
export async function apiAs(url: string, username: string, fullName?: string): Promise<PneumaticClient> {
  const client = createPneumaticClient({ url });
  if (fullName) await client.signup({ username, password: PASSWORD, full_name: fullName });
  await client.login({ username, password: PASSWORD });
  return client;
}

/** The open conversation's row holding `text` (a message or a system line). */
export function messageRow(person: Person, text: string | RegExp): Locator {
  return person.page.getByRole('log').locator('.message-row', { hasText: text });
}

/** Whether `locator` lies inside the visible part of the open conversation. */
export async function isInView(person: Person, locator: Locator): Promise<boolean> {
  const [box, view] = await Promise.all([locator.boundingBox(), person.page.getByRole('log').boundingBox()]);
  return box !== null && view !== null && box.y >= view.y && box.y + box.height <= view.y + view.height;
}

/** Types into the open conversation and sends with Enter. */
export async function send(person: Person, text: string): Promise<void> {
  const box = person.page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

/** Waits until the open conversation shows `text` as a stored (not pending) message. */
export async function waitForMessage(person: Person, text: string): Promise<void> {
  await person.page
    .getByRole('log')
    .locator('.message-row[data-status="sent"]', { hasText: text })
    .waitFor({ timeout: 10_000 });
}

/** The texts of the open conversation's messages, in order. */
export function messageTexts(person: Person): Promise<string[]> {
  return person.page.getByRole('log').locator('.message-text').allTextContents();
}

export async function screenshot(person: Person, name: string): Promise<void> {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  await person.page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`) });
}
