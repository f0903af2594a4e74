import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      // The unit tests run first, on their own, never sharing the two cores with Chromium and the
      // server (a CI run once failed in this package while both ran at once).
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Drives the built app (apps/web/dist) served by the built server (apps/server/dist) in Chromium.
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          // A browser, a server and the test share two cores with whatever else CI runs: a test
          // that fails goes once more. One that passes only then is still named at the end of
          // `npm test` (scripts/check.mjs), with what failed the first time, so a flake is seen.
          retry: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
