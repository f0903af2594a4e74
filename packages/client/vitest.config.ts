import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // The integration tests start the built server; the consumer test runs tsc.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
