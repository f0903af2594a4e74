// Bundles the server into dist/ (see bundle-options.mjs).
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';
import { bundleOptions, EXTERNAL_PACKAGES } from './bundle-options.mjs';

// What stays external is loaded from node_modules at run time: `pnpm deploy` copies only dependencies.
const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8'));
const missing = EXTERNAL_PACKAGES.filter((name) => !(name in dependencies));
if (missing.length > 0) throw new Error(`external packages missing from dependencies: ${missing.join(', ')}`);

// Chunk names carry a hash: without this, every build's chunks would pile up in dist/.
rmSync('dist', { recursive: true, force: true });
await build(bundleOptions({ entry: 'src/main.ts', outdir: 'dist', sourcemap: true }));
