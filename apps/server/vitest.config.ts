import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Test files share PostgreSQL databases per file but must not starve two cores.
    fileParallelism: false,
  },
});
