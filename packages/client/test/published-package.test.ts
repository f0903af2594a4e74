// The package as npm would ship it: `npm pack` of the built dist/, installed
// into a project of its own that has nothing of this repository but the
// client's runtime dependencies, and typechecked with the repository's tsc.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PACKAGE = resolve(import.meta.dirname, '..');
const DIST = join(PACKAGE, 'dist');
const TSC = resolve(PACKAGE, '../../node_modules/.bin/tsc');

/** Names of the server's internals: none may appear in the published declarations. */
const SERVER_INTERNALS = [
  '@pneumatic/api',
  '@pneumatic/db',
  'Context',
  'ApiDeps',
  'DatabaseHandle',
  'Database',
  'Kysely',
  'kysely',
  'fastify',
  'ConnectionHub',
  'EventBus',
  'TokenService',
  'better-sqlite3',
];

const WRONG_CALL =
  '  await client.api.messages.send.mutate({ conversation_id: id, message_id: "m-2", content: 42 });';

const CONSUMER = `import {
  createPneumaticClient,
  errorCode,
  fieldErrors,
  type Message,
  type RouterInputs,
  type StreamEventWithId,
} from '@pneumatic/client';
import WebSocket from 'ws';

const client = createPneumaticClient({ url: 'http://127.0.0.1:8000', WebSocket, onSessionEnded: (e) => e.message });

export async function talk(id: string): Promise<Message> {
  const input: RouterInputs['messages']['send'] = { conversation_id: id, message_id: 'm-1', content: 'hi' };
  await client.api.messages.send.mutate(input);
  const page = await client.api.messages.list.query({ conversation_id: id, limit: 20, cursor: null });
  const oldest: number | null = page.next_cursor;
  for await (const event of client.events({ lastEventId: null })) {
    const resumeFrom: string = event.eventId;
    if (event.type === 'message') return event.message;
    if (event.type === 'conversation') void [event.conversation.title, resumeFrom, oldest];
  }
  try {
    return await client.sendMessage(id, 'hello', { messageId: 'm-3' });
  } catch (error) {
    if (errorCode(error) === 'BAD_REQUEST') void fieldErrors(error)?.content;
    throw error;
  }
}

export async function wrong(id: string): Promise<void> {
  // @ts-expect-error content must be a string
${WRONG_CALL}
}

export type Seen = StreamEventWithId['type'];
`;

function tsc(project: string) {
  const result = spawnSync(TSC, ['-p', project], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function declarationFiles(): string[] {
  return readdirSync(DIST).filter((name) => name.endsWith('.d.ts'));
}

describe('the published package', () => {
  let consumer: string;

  beforeAll(() => {
    if (!existsSync(join(DIST, 'index.js')) || !existsSync(join(DIST, 'index.d.ts'))) {
      throw new Error('dist/ is missing: run node scripts/pnpm.mjs --filter @pneumatic/client build first');
    }
    consumer = mkdtempSync(join(tmpdir(), 'pneumatic-consumer-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', consumer], {
        cwd: PACKAGE,
        encoding: 'utf8',
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = packed[0]!;
    expect(
      tarball.files
        .map((f) => f.path)
        .every((p) => p === 'package.json' || p === 'README.md' || p.startsWith('dist/')),
    ).toBe(true);

    const installed = join(consumer, 'node_modules', '@pneumatic', 'client');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(consumer, tarball.filename), '-C', installed, '--strip-components=1']);
    // The client's runtime dependencies, and what a Node consumer brings: ws and Node's types.
    mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
    for (const dependency of ['@trpc', 'ws', '@types/ws', '@types/node']) {
      symlinkSync(
        join(PACKAGE, 'node_modules', dependency),
        join(consumer, 'node_modules', dependency),
        'dir',
      );
    }
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: { '@pneumatic/client': '*' },
      }),
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['index.ts'],
      }),
    );
  });

  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it('declares the router’s inputs and outputs without any server internals', () => {
    const leaks = declarationFiles().flatMap((file) => {
      const text = readFileSync(join(DIST, file), 'utf8');
      return SERVER_INTERNALS.filter((name) => new RegExp(`\\b${name}\\b`).test(text)).map(
        (n) => `${file}: ${n}`,
      );
    });
    expect(leaks).toEqual([]);
    const procedures = readFileSync(join(DIST, 'api-types.d.ts'), 'utf8');
    expect(procedures).toMatch(/send: \{\s+type: "mutation";\s+input: \{\s+message_id: string;/);
    // Types it names come from the client's own dependencies, never from a server package.
    const named = new Set(procedures.match(/import\("([^"]+)"\)/g));
    expect([...named].filter((name) => name !== 'import("@trpc/server")')).toEqual([]);
  });

  it('typechecks a correct call, and rejects a wrong one', () => {
    writeFileSync(join(consumer, 'index.ts'), CONSUMER);
    const passing = tsc(join(consumer, 'tsconfig.json'));
    expect(passing.output).toBe('');
    expect(passing.status).toBe(0);

    writeFileSync(
      join(consumer, 'index.ts'),
      CONSUMER.replace('  // @ts-expect-error content must be a string\n', ''),
    );
    const failing = tsc(join(consumer, 'tsconfig.json'));
    expect(failing.status).not.toBe(0);
    expect(failing.output).toMatch(
      /index\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/,
    );
    expect(
      failing.output
        .trim()
        .split('\n')
        .filter((line) => line.includes('error TS')),
    ).toHaveLength(1);
  });

  it('loads in Node from the consumer’s node_modules', () => {
    const output = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('@pneumatic/client'); process.stdout.write([typeof m.createPneumaticClient, typeof m.TRPCClientError, m.newMessageId().length].join(' '));",
      ],
      { cwd: consumer, encoding: 'utf8' },
    );
    expect(output.trim()).toBe('function function 36');
  });

  it('spells out exactly the types the server’s router has', () => {
    // Compiled inside this package, where @pneumatic/api resolves: the built types against the source.
    const dir = mkdtempSync(join(PACKAGE, '.dist-check-'));
    try {
      writeFileSync(
        join(dir, 'check.ts'),
        `import type { AppRouter, RouterInputs as ServerInputs, RouterOutputs as ServerOutputs } from '@pneumatic/api';
import type { TRPCClient } from '@trpc/client';
import type { PneumaticApi, RouterInputs, RouterOutputs } from '../dist/index.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const inputs: Same<RouterInputs, ServerInputs> = true;
export const outputs: Same<RouterOutputs, ServerOutputs> = true;
type StreamOf<C> = C extends { events: { stream: { subscribe: (input: infer I, opts: infer O) => unknown } } } ? [I, O] : never;
export const stream: Same<StreamOf<PneumaticApi>, StreamOf<TRPCClient<AppRouter>>> = true;
`,
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          extends: '../tsconfig.json',
          compilerOptions: { noEmit: true },
          files: ['check.ts'],
          include: [],
        }),
      );
      const result = tsc(join(dir, 'tsconfig.json'));
      expect(result.output).toBe('');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
