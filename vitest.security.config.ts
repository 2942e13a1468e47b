import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/** The suite's order: the attack files first (by name), the leak search (zz-leaks) last. */
class LeaksLast extends BaseSequencer {
  override async sort(files: TestSpecification[]) {
    const name = (f: TestSpecification) => f.moduleId.split('/').pop() ?? ''
    return [...files].sort((a, b) => Number(name(a).startsWith('zz-')) - Number(name(b).startsWith('zz-')) || name(a).localeCompare(name(b)))
  }
}

// The security suite (issue 6 item 3): tenant isolation from the OpenAPI document, JWT
// forgeries, fast-check fuzzing of every JSON route, the /pay page's defences, and at the end
// the search of every table, log line and error answer for card data and secrets. Same
// database setup as the main suite (PGlite snapshot, or PostgreSQL with PAYLINK_TEST_DB=pg).
// Files run one after another, so that on PostgreSQL (one database for the run) the leak
// search sees what every other file wrote, and the fuzzer has the machine's two cores.
export default defineConfig({
  test: {
    include: ['test/security/**/*.test.ts'],
    exclude: ['node_modules/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    pool: 'forks',
    fileParallelism: false,
    sequence: { sequencer: LeaksLast },
    testTimeout: 90_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
})
