import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/fixtures/temp-home.ts'],
    pool: 'forks',
    // Tests spawn real processes and fsync real files; two cores is what CI has.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
