// Bundles the server into dist/ (see bundle-options.mjs).
import { build } from 'esbuild';
import { bundleOptions } from './bundle-options.mjs';

await build(bundleOptions({ entry: 'src/main.ts', outdir: 'dist', sourcemap: true }));
