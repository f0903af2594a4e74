// Builds dist/: JavaScript and declarations with tsc, then replaces the
// declarations of src/api-types.ts, which point at the server's router, with
// the router's types spelled out. The published package then carries every
// procedure's input and output and nothing of the server (no context, no
// database types), and needs neither @pneumatic/api nor the server's packages.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const work = join(root, '.types-build');
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

/** Names that belong to the server; none may reach the published declarations. */
const SERVER_INTERNALS =
  /@pneumatic\/(api|db)|\bContext\b|\bApiDeps\b|\bDatabaseHandle\b|\bDatabase\b|\bKysely\b|\bkysely\b|\bfastify\b|\bConnectionHub\b|\bEventBus\b|\bTokenService\b/;

function run(args) {
  const result = spawnSync(process.execPath, [tsc, ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

rmSync(dist, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
run(['-p', 'tsconfig.build.json']);

// Declaration emit prints the type of an unannotated constant in full, so
// expand<T>() makes tsc write out every object type behind the aliases.
mkdirSync(work);
writeFileSync(
  join(work, 'expand.ts'),
  `import type { PneumaticErrorShape, PneumaticProcedures } from '../src/api-types.ts';

type Plain<T> = T extends string | number | boolean | bigint | symbol | null | undefined | void
  ? T
  : T extends readonly (infer Item)[]
    ? Plain<Item>[]
    : T extends object
      ? { [K in keyof T]: Plain<T[K]> }
      : T;
declare function expand<T>(): Plain<T>;

export const procedures = expand<PneumaticProcedures>();
export const errorShape = expand<PneumaticErrorShape>();
`,
);
writeFileSync(
  join(work, 'tsconfig.json'),
  JSON.stringify({
    extends: '../tsconfig.json',
    compilerOptions: {
      noEmit: false,
      declaration: true,
      emitDeclarationOnly: true,
      rootDir: '..',
      outDir: 'out',
    },
    files: ['expand.ts'],
    include: [],
  }),
);
run(['-p', join(work, 'tsconfig.json')]);
const emitted = readFileSync(findFile(join(work, 'out'), 'expand.d.ts'), 'utf8');
const procedures = between(emitted, 'export declare const procedures: ', 'export declare const errorShape: ');
const errorShape = between(emitted, 'export declare const errorShape: ', null);

writeFileSync(
  join(dist, 'api-types.d.ts'),
  '/**\n' +
    " * The Pneumatic API's procedures and error shape, spelled out from the server's\n" +
    ' * router when this package was built (scripts/build.mjs).\n' +
    ' */\n' +
    '/** Every procedure of the API by path: `query`, `mutation` or `subscription`, with its input and output. */\n' +
    `export type PneumaticProcedures = ${procedures}\n` +
    "/** The shape of the API's errors (`TRPCClientError#shape`), with `data.zodError` for invalid input. */\n" +
    `export type PneumaticErrorShape = ${errorShape}\n`,
);
rmSync(work, { recursive: true, force: true });

// tsc keeps `.ts` in the specifiers of declarations; the files next to them are `.d.ts` for `.js`.
for (const file of readdirSync(dist).filter((name) => name.endsWith('.d.ts'))) {
  const path = join(dist, file);
  const text = readFileSync(path, 'utf8').replace(
    /((?:from|import)\s*\(?\s*['"]\.\.?\/[^'"]+)\.ts(['"])/g,
    '$1.js$2',
  );
  writeFileSync(path, text);
}

const leaks = readdirSync(dist)
  .filter((name) => name.endsWith('.d.ts'))
  .flatMap((name) =>
    readFileSync(join(dist, name), 'utf8')
      .split('\n')
      .map((line, i) => ({ where: `${name}:${i + 1}`, line }))
      .filter(({ line }) => SERVER_INTERNALS.test(line) || /import\("(?!@trpc\/)/.test(line)),
  );
if (leaks.length > 0) {
  for (const leak of leaks)
    process.stderr.write(`server type in the declarations: ${leak.where}: ${leak.line}\n`);
  process.exit(1);
}

function between(text, start, end) {
  const from = text.indexOf(start);
  const to = end === null ? text.length : text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`tsc did not print ${start.trim()} as expected:\n${text}`);
  return text.slice(from + start.length, to).trim();
}

function findFile(dir, name) {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === name) return join(entry.parentPath, entry.name);
  }
  throw new Error(`${name} not found under ${dir}`);
}
