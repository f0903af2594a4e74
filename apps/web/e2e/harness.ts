import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const WEB_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER_MAIN = resolve(WEB_ROOT, '../server/dist/main.js');
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

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Fails with what to do when something the test does not build itself is missing. */
export function checkPrerequisites(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. Install it (apt-get install -y chromium) or set CHROMIUM_PATH.`,
    );
  }
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(`The server is not built (${SERVER_MAIN} missing): run the server's build first.`);
  }
  if (!existsSync(join(WEB_DIST, 'index.html'))) {
    throw new Error(`The web app is not built (${WEB_DIST}/index.html missing): run the web build first.`);
  }
}

/**
 * Starts the built server on a free port over a fresh SQLite database, and
 * resolves once /health answers.
 */
export async function startServer(): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pneumatic-e2e-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    SECRET_KEY: randomBytes(32).toString('hex'),
    WEB_DIST,
    LOG_LEVEL: 'info',
    // Three people signing up and chatting within seconds must not hit the per-minute limit.
    RATE_LIMIT_PER_MINUTE: '10000',
    RATE_LIMIT_PER_HOUR: '100000',
  };
  // The test's own database, whatever the environment points other tests at.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;

  const child = spawn(process.execPath, [SERVER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await listeningAddress(child);
  await waitForHealth(url);
  return {
    url,
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads the server's JSON log until it says where it listens. */
function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolveAddress, reject) => {
    let output = '';
    let pending = '';
    const timer = setTimeout(() => fail(new Error('the server did not start within 20 s')), 20_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n--- server output ---\n${output}`));
    };
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as { event?: string; address?: string };
          if (entry.event === 'start' && entry.address) {
            clearTimeout(timer);
            resolveAddress(entry.address);
          }
        } catch {
          // Not a JSON log line.
        }
      }
    });
    child.once('exit', (code) => fail(new Error(`the server exited with code ${code} before listening`)));
  });
}

async function waitForHealth(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // Not accepting connections yet.
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`${url}/health did not answer within 10 s`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** One person in their own browser context (own storage, own socket). */
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
