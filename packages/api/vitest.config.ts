import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['test/**/*.test.ts'],
    // The realtime tests take milliseconds; the writer tests create a PostgreSQL database and sign users up.
    testTimeout: 30_000,
  },
});
