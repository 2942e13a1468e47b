import { defineConfig } from 'vitest/config'

// Browser tests: playwright-core drives Debian's chromium (/usr/bin/chromium) against the real
// app. One browser per test file; the same database setup as the main suite (PGlite
// snapshot, or PostgreSQL with PAYLINK_TEST_DB=pg).
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    exclude: ['node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    testTimeout: 45_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
})
