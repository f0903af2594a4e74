#!/usr/bin/env node
// The whole test suite: format, lint, typecheck, then every package's tests.
// Ends with one plain line, `N passed, N failed`, summed from vitest's JSON
// reports, which is what CI reads.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';

const root = join(import.meta.dirname, '..');
const REPORT = 'test-output/vitest.json';
const workspaces = ['apps', 'packages', 'examples']
  .filter((dir) => existsSync(join(root, dir)))
  .flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name)));

for (const ws of workspaces) rmSync(join(ws, REPORT), { force: true });

function firstLine(text) {
  const line =
    stripVTControlCharacters(String(text ?? ''))
      .split('\n')
      .find((l) => l.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

const run = (command, args) =>
  spawnSync(command, args, { cwd: root, stdio: 'inherit', env: process.env }).status ?? 1;
const bin = (name) => join(root, 'node_modules', '.bin', name);

// The browser tests drive Debian's Chromium (browser downloads fail on these machines).
// As root with apt-get at hand, install it when it is missing; otherwise the e2e test says what is wrong.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromium) && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
  process.stdout.write('Installing Chromium for the browser tests (apt-get install chromium)\n');
  run('sh', [
    '-c',
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null',
  ]);
}

let failedSteps = 0;
failedSteps += run(bin('biome'), ['ci', '.']) === 0 ? 0 : 1;
failedSteps += run(bin('turbo'), ['run', 'lint', 'typecheck', '--continue']) === 0 ? 0 : 1;
failedSteps +=
  run(bin('turbo'), [
    'run',
    'test',
    '--continue',
    '--concurrency=1',
    '--',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${REPORT}`,
  ]) === 0
    ? 0
    : 1;

let passed = 0;
let failed = 0;
// What failed, named once more at the very end, where a log cut to its tail still shows it.
const failures = [];
const flaky = [];
for (const ws of workspaces) {
  const file = join(ws, REPORT);
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  for (const result of report.testResults) {
    const where = relative(root, result.name);
    // A file that failed to load counts as a failure even though it ran no test.
    if (result.status === 'failed' && result.assertionResults.length === 0) {
      failed += 1;
      failures.push(`${where}: ${firstLine(result.message)}`);
    }
    for (const test of result.assertionResults) {
      if (test.status === 'passed' && test.failureMessages?.length > 0)
        flaky.push(`${where} > ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
      if (test.status === 'failed')
        failures.push(`${where} > ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    }
  }
}
if (failedSteps > 0 && failed === 0) failed = failedSteps;
if (flaky.length > 0)
  process.stdout.write(`\nPassed only when run again:\n${flaky.map((f) => `  ${f}`).join('\n')}\n`);
if (failures.length > 0) process.stdout.write(`\nFailed:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed > 0 || failedSteps > 0 ? 1 : 0);
