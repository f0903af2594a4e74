// Bundles the server and the workspace packages it imports into dist/main.js;
// third-party packages stay in node_modules (native addons cannot be bundled).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outdir: 'dist',
  // Chunks load when first needed: the OpenTelemetry SDK only when tracing is on.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  plugins: [
    {
      name: 'externalize-dependencies',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@pneumatic/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
