/**
 * Runs once per test run. PGlite: builds one migrated database and dumps it, so each test
 * file loads it in about half a second instead of running initdb. PostgreSQL
 * (PAYLINK_TEST_DB=pg): creates a fresh database for this run, migrates it, drops it after.
 */
import type { TestProject } from 'vitest/node'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openMemoryDb } from '../../src/storage/embedded.js'
import { postgresDb } from '../../src/storage/db.js'
import { migrate } from '../../src/storage/migrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteSnapshot: string
    databaseUrl: string
  }
}

const ADMIN_URL = process.env.PAYLINK_TEST_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

export default async function setup(project: TestProject) {
  if (process.env.PAYLINK_TEST_DB === 'pg') {
    const name = `paylink_test_${Date.now()}_${randomBytes(3).toString('hex')}`
    const admin = new pg.Client({ connectionString: ADMIN_URL })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const url = new URL(ADMIN_URL)
    url.pathname = `/${name}`
    const db = postgresDb(url.toString(), { max: 1 })
    await migrate(db)
    await db.close()
    project.provide('databaseUrl', url.toString())
    project.provide('pgliteSnapshot', '')
    return async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
    }
  }
  const db = await openMemoryDb()
  await migrate(db)
  const file = path.join(os.tmpdir(), `paylink-snapshot-${process.pid}-${randomBytes(3).toString('hex')}.tar`)
  fs.writeFileSync(file, Buffer.from(await (await db.dump()).arrayBuffer()))
  await db.close()
  project.provide('pgliteSnapshot', file)
  project.provide('databaseUrl', '')
  return () => fs.rmSync(file, { force: true })
}
