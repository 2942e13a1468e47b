/**
 * Runs once per test run. PGlite: builds one migrated database and dumps it, so each test
 * file loads it in about half a second instead of running initdb. PostgreSQL
 * (PAYLINK_TEST_DB=pg): creates a fresh database for this run, migrates it, drops it after.
 * PAYLINK_PRISM=1: also starts Prism in front of the test servers (see prism.ts); the run
 * fails at its end if Prism saw the traffic break the OpenAPI document.
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
import { openApiDocument } from '../../src/cli/openapi.js'
import { prismEnabled, startPrism } from './prism.js'

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteSnapshot: string
    databaseUrl: string
    /** Prism's address when PAYLINK_PRISM=1, else ''. */
    prismUrl: string
    /** The file the clients append Prism's violations to. */
    prismRecords: string
  }
}

const ADMIN_URL = process.env.PAYLINK_TEST_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

export default async function setup(project: TestProject) {
  const [teardownPrism, teardownDb] = await Promise.all([setupPrism(project), setupDatabase(project)])
  return async () => {
    await teardownDb()
    await teardownPrism()
  }
}

async function setupPrism(project: TestProject) {
  if (!prismEnabled()) {
    project.provide('prismUrl', '')
    project.provide('prismRecords', '')
    return async () => {}
  }
  const prism = await startPrism(await openApiDocument())
  project.provide('prismUrl', prism.url)
  project.provide('prismRecords', prism.records)
  return async () => {
    const { answers, tolerated, failures } = await prism.stop()
    console.log(`Prism checked ${answers} answers against the OpenAPI document; ${tolerated} violation(s) in requests the server refused (4xx), as tests meant.`)
    // Vitest logs an error thrown here but keeps its exit code: set it, so that the run fails.
    if (answers === 0 || failures.length > 0) process.exitCode = 1
    if (answers === 0) throw new Error('Prism: no request went through it (PAYLINK_PRISM=1 but the clients did not use it)')
    if (failures.length > 0) throw new Error(`Prism: the traffic broke the OpenAPI document:\n${failures.join('\n')}`)
  }
}

async function setupDatabase(project: TestProject): Promise<() => void | Promise<void>> {
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
