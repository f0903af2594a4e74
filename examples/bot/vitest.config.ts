import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // The end-to-end test starts the built server and the bot as processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
