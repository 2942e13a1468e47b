/**
 * Starts the real app on a real port for a test file, on the database of this run
 * (PGlite snapshot, or the run's PostgreSQL database), and offers what tests need:
 * tenants made through the CLI's own service, tokens through a real OAuth client
 * (oauth4webapi), and a small HTTP client that returns status, headers and JSON.
 */
import fs from 'node:fs'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { migrate } from '../../src/storage/migrate.js'
import { inject } from 'vitest'
import * as oauth from 'oauth4webapi'
import { buildApp, type App, type Services } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { postgresDb, type Db } from '../../src/storage/db.js'
import { openMemoryDb } from '../../src/storage/embedded.js'
import type { Clock } from '../../src/domain/shared/clock.js'
import { createLogger } from '../../src/logger.js'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'

/**
 * Every test server of a run shares one DATA_ENCRYPTION_KEY: on PostgreSQL all test files
 * share one database, whose signing keys are sealed under the key of the first server.
 */
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7)

/** Real time plus an offset that tests move forward: ordering stays natural, expiry is instant. */
export class TestClock implements Clock {
  offsetMs = 0
  now() {
    return new Date(Date.now() + this.offsetMs)
  }
  advance(ms: number) {
    this.offsetMs += ms
  }
}

export const usingPostgres = () => inject('databaseUrl') !== ''

/** Opens this run's database: a PGlite loaded from the snapshot, or a pool on the PostgreSQL database. */
export async function openTestDb(): Promise<Db> {
  const url = inject('databaseUrl')
  if (url) return postgresDb(url, { max: 20 })
  const snapshot = fs.readFileSync(inject('pgliteSnapshot'))
  return openMemoryDb(new Blob([snapshot]))
}

/**
 * A migrated database no other test file uses: a fresh PGlite, or a new PostgreSQL
 * database beside the run's one, dropped by `drop()`. For tests that close the database,
 * use another encryption key, or move a clock that background jobs read for every tenant.
 */
export async function openPrivateDb(): Promise<{ db: Db; url: string; drop(): Promise<void> }> {
  if (!usingPostgres()) {
    const db = await openTestDb()
    return { db, url: '', drop: () => db.close().catch(() => {}) }
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
  const db = postgresDb(url.toString(), { max: 20 })
  await migrate(db)
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close().catch(() => {})
      await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
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

/** Starts the app on 127.0.0.1 with an ephemeral port. PUBLIC_BASE_URL is the real address. */
export async function startServer(env: Record<string, string> = {}, opts: { db?: Db; logs?: string[]; encryptionKey?: Buffer } = {}): Promise<TestServer> {
  const db = opts.db ?? (await openTestDb())
  const clock = new TestClock()
  // Bind first to learn the port, so issuer, audience and pay_url carry the real address.
  const probe = await freePort()
  const config = loadConfig({ NODE_ENV: 'test', PORT: String(probe), PUBLIC_BASE_URL: `http://127.0.0.1:${probe}`, LOG_LEVEL: 'silent', RATE_LIMIT_MULTIPLIER: '100', ...env })
  // With `logs`, every JSON log line the app writes (level debug and up) is captured there.
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

export interface TestTenant {
  tenantId: string
  clientId: string
  clientSecret: string
}

let tenantCounter = 0

/** A new tenant (isolation between tests) with its first client, made as the CLI makes it. */
export async function createTenant(server: TestServer, opts: { origins?: string[]; allowTopLevel?: boolean } = {}): Promise<TestTenant> {
  const r = await server.services.tenants.createTenant({
    name: `Test Shop ${++tenantCounter}`,
    origins: opts.origins ?? ['https://shop.example'],
    allowTopLevel: opts.allowTopLevel,
  })
  return { tenantId: r.tenant.id, clientId: r.clientId, clientSecret: r.clientSecret }
}

/** Gets an access token with oauth4webapi, the way an integrator's server would. */
export async function getToken(
  server: TestServer,
  client: { clientId: string; clientSecret: string },
  opts: { scope?: string; method?: 'basic' | 'post' } = {},
): Promise<string> {
  const issuer = new URL(server.baseUrl)
  const discovery = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true })
  const as = await oauth.processDiscoveryResponse(issuer, discovery)
  const c: oauth.Client = { client_id: client.clientId }
  const auth = opts.method === 'post' ? oauth.ClientSecretPost(client.clientSecret) : oauth.ClientSecretBasic(client.clientSecret)
  const params = new URLSearchParams()
  if (opts.scope) params.set('scope', opts.scope)
  const response = await oauth.clientCredentialsGrantRequest(as, c, auth, params, { [oauth.allowInsecureRequests]: true })
  const result = await oauth.processClientCredentialsResponse(as, c, response)
  return result.access_token
}

export interface ApiResponse<T = any> {
  status: number
  headers: Headers
  body: T
}

/** A JSON client for the API: `api.post('/v1/…', body, {token})`. */
export function apiClient(server: TestServer, defaultToken?: string) {
  const call = async (method: string, path: string, body?: unknown, opts: { token?: string; headers?: Record<string, string>; raw?: string } = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...opts.headers }
    const token = opts.token ?? defaultToken
    if (token) headers.authorization = `Bearer ${token}`
    let payload: string | undefined
    if (opts.raw !== undefined) payload = opts.raw
    else if (body !== undefined) payload = JSON.stringify(body)
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
    const res = await fetch(server.baseUrl + path, { method, headers, body: payload })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed }
  }
  return {
    get: (path: string, opts?: Parameters<typeof call>[3]) => call('GET', path, undefined, opts),
    post: (path: string, body?: unknown, opts?: Parameters<typeof call>[3]) => call('POST', path, body, opts),
    patch: (path: string, body?: unknown, opts?: Parameters<typeof call>[3]) => call('PATCH', path, body, opts),
    delete: (path: string, opts?: Parameters<typeof call>[3]) => call('DELETE', path, undefined, opts),
    call,
  }
}

/**
 * Everything a payment-link test needs: a tenant, a token with every tenant scope, a user
 * and an approved sandbox account (USD and EUR unless told otherwise).
 */
export async function setupPayer(server: TestServer, opts: { currencies?: string[] } = {}) {
  const tenant = await createTenant(server)
  const token = await getToken(server, tenant, { scope: TENANT_SCOPES.join(' ') })
  const api = apiClient(server, token)
  const user = await api.post('/v1/platform/users', { email: 'payer@example.com', name: 'Payer' })
  const account = await server.services.tenants.createAccount(tenant.tenantId, { name: 'Sandbox', processor: 'sandbox', currencies: opts.currencies ?? ['USD', 'EUR'] })
  const enrol = await api.post(`/v1/platform/card-processing/users/${user.body.data.id}`, { card_processing_id: account.id })
  if (enrol.status !== 201) throw new Error(`enrolment failed: ${JSON.stringify(enrol.body)}`)
  return { tenant, token, api, userId: user.body.data.id as string, accountId: account.id as string }
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
