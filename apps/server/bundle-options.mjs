// How the server is bundled, for build.mjs and for tests that run the bundle.
// The server, the workspace packages and the pure-JS dependencies go into the
// bundle: start-up used to be mostly node finding, reading and compiling some
// 1,400 module files one by one; a few big chunks load much faster.
// Bundled code must not look for its own files at run time (__dirname): check
// `grep __dirname dist/chunks/*.js` when adding a dependency. Today the only hit
// is ioredis's showFriendlyErrorStack path, an option the server leaves off.

/**
 * Packages left in node_modules, each for a reason. Each must be a dependency
 * of @pneumatic/server (build.mjs checks), so that `pnpm deploy` puts it in the image.
 */
export const EXTERNAL_PACKAGES = [
  // Native addons: a .node file found next to the package at run time.
  'better-sqlite3',
  '@node-rs/argon2',
  // Serves its own static/ folder (found from __dirname); loaded on the first /docs request.
  '@fastify/swagger-ui',
  // Reads its own package.json; loaded with Swagger UI.
  '@fastify/swagger',
  // Transports run in a worker thread started from files inside the package.
  'pino',
  'pino-pretty',
];

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
    // Bundled CommonJS calls require() for node: built-ins and optional packages.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    // A package named here is external with all its subpaths.
    external: EXTERNAL_PACKAGES,
  };
}
