/**
 * The real app on a real port for a test file, on the database of this run (PGlite snapshot,
 * or the run's PostgreSQL database), and the waiting tests do around it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'
import { migrate } from '../../src/storage/migrate.js'
import { buildApp, type App, type Services } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { postgresDb, type Db, type PostgresOptions } from '../../src/storage/db.js'
import { openMemoryDb } from '../../src/storage/embedded.js'
import { createLogger } from '../../src/logger.js'
import { TestClock } from './clock.js'
import { freePort } from './net.js'

export { freePort }

/** The repository's root: where `bin/paylink.mjs` runs from. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Every test server of a run shares one DATA_ENCRYPTION_KEY: on PostgreSQL all test files
 * share one database, whose signing keys are sealed under the key of the first server.
 */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7)

export const usingPostgres = () => inject('databaseUrl') !== ''

/** Opens this run's database: a PGlite loaded from the snapshot, or a pool on the PostgreSQL database. */
/**
 * PAYLINK_TEST_POOLER_URL (e.g. postgresql://postgres@127.0.0.1:6432): the app reaches the
 * run's PostgreSQL through PgBouncer in transaction-pooling mode, as a production deployment
 * behind one would (`.ci/run` runs the webhook and chaos suites so). Databases are still made
 * and dropped on PostgreSQL itself; LISTEN goes there too (DATABASE_DIRECT_URL).
 */
const POOLER_URL = process.env.PAYLINK_TEST_POOLER_URL

/** How the app reaches a database made at `directUrl`: its URL, the options of its Db, and the env of a child process. */
export function appDatabase(directUrl: string): { url: string; options: PostgresOptions; env: Record<string, string> } {
  if (!POOLER_URL) return { url: directUrl, options: {}, env: { DATABASE_URL: directUrl } }
  const url = new URL(directUrl)
  const pooler = new URL(POOLER_URL)
  url.host = pooler.host
  return {
    url: url.toString(),
    options: { pooler: 'transaction' as const, directUrl },
    env: { DATABASE_URL: url.toString(), DATABASE_POOLER: 'transaction', DATABASE_DIRECT_URL: directUrl },
  }
}

export async function openTestDb(): Promise<Db> {
  const url = inject('databaseUrl')
  if (url) {
    const app = appDatabase(url)
    return postgresDb(app.url, { max: 20, ...app.options })
  }
  const snapshot = fs.readFileSync(inject('pgliteSnapshot'))
  return openMemoryDb(new Blob([snapshot]))
}

/**
 * A migrated database no other test file uses: a fresh PGlite, or a new PostgreSQL
 * database beside the run's one, dropped by `drop()`. For tests that close the database,
 * use another encryption key, or move a clock that background jobs read for every tenant.
 */
export async function openPrivateDb(): Promise<{ db: Db; url: string; env: Record<string, string>; drop(): Promise<void> }> {
  if (!usingPostgres()) {
    const db = await openTestDb()
    return { db, url: '', env: {}, drop: () => db.close().catch(() => {}) }
  }
  const runUrl = new URL(inject('databaseUrl'))
  const name = `${runUrl.pathname.slice(1)}_${randomBytes(4).toString('hex')}`.slice(0, 63)
  const admin = new URL(runUrl)
  admin.pathname = '/postgres'
  const run = async (statement: string) => {
    const c = new pg.Client({ connectionString: admin.toString() })
    await c.connect()
    try {
      await c.query(statement)
    } finally {
      await c.end()
    }
  }
  await run(`CREATE DATABASE ${name}`)
  const url = new URL(runUrl)
  url.pathname = `/${name}`
  const app = appDatabase(url.toString())
  const db = postgresDb(app.url, { max: 20, ...app.options })
  await migrate(db)
  return {
    db,
    url: app.url,
    env: app.env,
    async drop() {
      await db.close().catch(() => {})
      await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

export interface TestServer {
  app: App
  services: Services
  db: Db
  clock: TestClock
  config: Config
  baseUrl: string
  close(): Promise<void>
}

export interface ServerOptions {
  /** A database the caller owns (and closes); the run's database by default. */
  db?: Db
  /** Collects every JSON log line the app writes (level debug and up). */
  logs?: string[]
  encryptionKey?: Buffer
  /** Another server's clock, so that both servers stand at the same time. */
  clock?: TestClock
  /** A port to listen on (a restarted deployment keeps its address); a free one by default. */
  port?: number
}

/** Starts the app on 127.0.0.1 with an ephemeral port. PUBLIC_BASE_URL is the real address. */
export async function startServer(env: Record<string, string> = {}, opts: ServerOptions = {}): Promise<TestServer> {
  const db = opts.db ?? (await openTestDb())
  const clock = opts.clock ?? new TestClock()
  // Pick the port first, so issuer, audience and pay_url carry the real address.
  const probe = opts.port ?? (await freePort())
  const config = loadConfig({ NODE_ENV: 'test', PORT: String(probe), PUBLIC_BASE_URL: `http://127.0.0.1:${probe}`, LOG_LEVEL: 'silent', RATE_LIMIT_MULTIPLIER: '100', ...env })
  const logger = opts.logs ? createLogger('debug', { write: (line: string) => void opts.logs!.push(line) }) : undefined
  const { app, services } = await buildApp({ config, db, clock, encryptionKey: opts.encryptionKey ?? TEST_ENCRYPTION_KEY, ...(logger ? { logger } : {}) })
  await app.listen({ port: probe, host: '127.0.0.1' })
  return {
    app,
    services,
    db,
    clock,
    config,
    baseUrl: config.publicBaseUrl,
    async close() {
      await app.close()
      if (!opts.db) await db.close()
    },
  }
}

/**
 * The app on a database of its own (see openPrivateDb), for a file whose background work
 * (the worker's tick, the sweeper) must see only its own tenants; close() drops the database.
 * `databaseUrl` is that database on PostgreSQL ('' on PGlite), and `databaseEnv` what a
 * child process needs to reach it as this one does (through the pooler, when there is one).
 */
export async function startPrivateServer(env: Record<string, string> = {}, opts: Omit<ServerOptions, 'db'> = {}): Promise<TestServer & { databaseUrl: string; databaseEnv: Record<string, string> }> {
  const fileDb = await openPrivateDb()
  const server = await startServer(env, { ...opts, db: fileDb.db })
  return {
    ...server,
    databaseUrl: fileDb.url,
    databaseEnv: fileDb.env,
    async close() {
      await server.close()
      await fileDb.drop()
    },
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `check` every `everyMs` until it holds, or throws once `timeoutMs` has passed (real time). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 200) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await sleep(everyMs)
  }
}

/** `node bin/paylink.mjs <args>` from the repository's root, with only PATH, HOME and NODE_ENV=test of this process's environment, then `env`. */
export function spawnPaylink(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['bin/paylink.mjs', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}
