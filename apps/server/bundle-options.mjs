// How the server is bundled, for build.mjs and for tests that run the bundle.
// The server and the workspace packages it imports go into the bundle;
// third-party packages stay in node_modules (native addons cannot be bundled).

/** @param {{ entry: string, outdir: string, sourcemap?: boolean }} where */
export function bundleOptions({ entry, outdir, sourcemap = false }) {
  return {
    entryPoints: [entry],
    outdir,
    // Chunks load when first needed: the OpenTelemetry SDK only when tracing is on.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap,
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'externalize-dependencies',
        /** @param {import('esbuild').PluginBuild} b */
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@pneumatic/') ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  };
}
