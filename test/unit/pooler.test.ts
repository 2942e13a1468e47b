/**
 * Behind PgBouncer in transaction-pooling mode (issue 13 item 2): named prepared statements
 * and LISTEN do not survive it. DATABASE_POOLER=transaction sends every statement unnamed and
 * LISTENs on DATABASE_DIRECT_URL (or not at all: the workers poll). When the run goes through
 * a pooler (PAYLINK_TEST_POOLER_URL, as `.ci/run` does for the webhook and chaos suites),
 * the app's own statements are checked through it under concurrency.
 */
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { postgresDb, sql } from '../../src/storage/db.js'
import { openTestDb, usingPostgres } from '../helpers/index.js'

describe('DATABASE_POOLER and DATABASE_DIRECT_URL', () => {
  it('are read and checked at start', () => {
    expect(loadConfig({}).databasePooler).toBe('none')
    expect(loadConfig({ DATABASE_POOLER: 'transaction', DATABASE_DIRECT_URL: 'postgresql://db.internal:5432/paylink' })).toMatchObject({
      databasePooler: 'transaction',
      databaseDirectUrl: 'postgresql://db.internal:5432/paylink',
    })
    expect(() => loadConfig({ DATABASE_POOLER: 'session' })).toThrow(ConfigError)
    expect(() => loadConfig({ DATABASE_DIRECT_URL: 'mysql://x' })).toThrow(/DATABASE_DIRECT_URL/)
  })

  it('without a direct URL there is no LISTEN (the workers poll); with one there is', () => {
    const pooled = postgresDb('postgresql://postgres@127.0.0.1:6432/none', { pooler: 'transaction' })
    const direct = postgresDb('postgresql://postgres@127.0.0.1:6432/none', { pooler: 'transaction', directUrl: 'postgresql://postgres@127.0.0.1:5432/none' })
    expect(pooled.listen).toBeUndefined()
    expect(direct.listen).toBeTypeOf('function')
    void pooled.close()
    void direct.close()
  })

  it.runIf(usingPostgres())('runs a named hot-path statement many times at once on the test database (through the pooler when the run has one)', async () => {
    const db = await openTestDb()
    try {
      const stmt = sql('pooler_check', 'SELECT $1::int + 1 AS n')
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => db.query<{ n: number }>(stmt, [i])))
      expect(answers.map((r) => r[0]!.n)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
    } finally {
      await db.close()
    }
  })
})
