import { defineConfig } from 'vitest/config'

// The chaos suite (issue 6): real `paylink serve` processes on PostgreSQL, killed and
// restarted under load. Run with `npm run test:chaos` (PAYLINK_TEST_DB=pg). Files run one
// after another: each starts its own processes on a database of its own.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    exclude: ['node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 150_000,
    hookTimeout: 90_000,
    reporters: ['default'],
  },
})
