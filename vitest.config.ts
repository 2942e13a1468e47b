import { defineConfig } from 'vitest/config'

// One database per test file (shared by its tests, isolated by tenant); PGlite files load
// a migrated snapshot made once by the global setup. PAYLINK_TEST_DB=pg runs the same
// tests on PostgreSQL in a fresh database.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/browser/**', 'test/chaos/**', 'test/security/**', 'node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
})
