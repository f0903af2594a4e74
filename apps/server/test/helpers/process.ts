import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bundleOptions } from '../../bundle-options.mjs';
import { TEST_SECRET } from './server.ts';

const SERVER_DIR = join(import.meta.dirname, '..', '..');
const MAIN = join(SERVER_DIR, 'src', 'main.ts');
// Inside node_modules so that bare imports resolve to the server's dependencies.
const BUNDLE_DIR = join(SERVER_DIR, 'node_modules', '.cache', 'pneumatic-test');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | string>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /**
   * Run the server bundled (as `pnpm build` makes it) instead of through tsx:
   * it starts in about half the time, for tests that start many processes.
   */
  bundled?: boolean;
  /**
   * Make file permissions apply even to root (the tests run as root, which
   * ignores them): the server starts without the capabilities that override
   * them, through util-linux's setpriv. Same user, same paths.
   */
  honourFilePermissions?: boolean;
}

const WITHOUT_OVERRIDES = [
  '--bounding-set',
  '-dac_override,-dac_read_search',
  '--inh-caps',
  '-dac_override,-dac_read_search',
];

let bundle: Promise<string> | undefined;

/** Bundles src/main.ts once per test process, as build.mjs does (code-split, so it starts as fast). */
export function bundledServer(): Promise<string> {
  bundle ??= build(bundleOptions({ entry: MAIN, outdir: BUNDLE_DIR })).then(() =>
    join(BUNDLE_DIR, 'main.js'),
  );
  return bundle;
}

/** The real server in its own process, on port 0; resolves once it listens. */
export async function spawnServer(
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  const nodeArgs = options.bundled ? [await bundledServer()] : ['--import', 'tsx', MAIN];
  const asRoot = options.honourFilePermissions === true && process.getuid?.() === 0;
  const [command, args] = asRoot
    ? ['setpriv', [...WITHOUT_OVERRIDES, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(command, args, {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pneumatic-proc-')),
      SECRET_KEY: TEST_SECRET,
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_PER_HOUR: '1000000000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: SERVER_DIR,
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let output = '';
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d.toString();
    output += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      // Never leave a process behind that the caller has no handle on.
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${stderr}`));
    }, 30_000);
    child.stdout!.on('data', (chunk) => {
      buffer += chunk.toString();
      output += chunk.toString();
      const match = /Pneumatic listening on (http:\/\/[\d.:]+)/.exec(buffer);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new ServerExit(code, stderr));
    });
  });
  return { url, child, exited, output: () => output, kill: (signal = 'SIGTERM') => child.kill(signal) };
}

/** The server process ended before it listened. */
export class ServerExit extends Error {
  constructor(
    readonly code: number | string,
    readonly stderr: string,
  ) {
    super(`server exited (${code}): ${stderr}`);
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a `pneumatic` command in its own process (bundled, as `pnpm build`
 * makes it), without blocking this one: servers in the test process keep
 * serving meanwhile.
 */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<CliResult> {
  const child = spawn(process.execPath, [await bundledServer(), ...args], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pneumatic-cli-')),
      SECRET_KEY: TEST_SECRET,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
    cwd: SERVER_DIR,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d) => {
    stderr += d.toString();
  });
  child.stdin!.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
