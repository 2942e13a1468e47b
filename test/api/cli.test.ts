/**
 * The operator CLI, run for real: `node bin/paylink.mjs <args>` from the repo root (what
 * `npm run --silent cli -- …` runs), on a database of its own — a fresh DATA_DIR on the
 * embedded database, a fresh PostgreSQL database on a PAYLINK_TEST_DB=pg run. What the CLI
 * makes is checked over HTTP against `paylink serve`, also run for real on that database.
 *
 * Every CLI start costs seconds, so the file's tests share one database and run in order:
 * later tests use the tenant, account and clients the earlier ones made.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort, until, usingPostgres } from '../helpers/index.js'
import { knownMigrations } from '../../src/storage/migrate.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** The tenant scopes SPEC lists ("HTTP surface"): a tenant's first client has all of them. */
const TENANT_SCOPES = ['payments:write', 'payments:read', 'users:write', 'users:read', 'webhooks:write', 'webhooks:read']

/** Settings the CLI and server read; the tests set the ones they mean, nothing leaks in. */
const CONFIG_VARS = [
  'PORT', 'HOST', 'PUBLIC_BASE_URL', 'DATABASE_URL', 'DATA_DIR', 'LINK_TTL_SECONDS', 'ACCESS_TOKEN_TTL_SECONDS',
  'DATA_ENCRYPTION_KEY', 'REDIS_URL', 'ROLE', 'LOG_LEVEL', 'NODE_ENV', 'ALLOW_PRIVATE_WEBHOOK_URLS', 'WORKER_POLL_SECONDS',
]

const children = new Set<ChildProcess>()
let workDir: string
let env: Record<string, string>
let pgAdminUrl: string | undefined
let pgDbName: string | undefined

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paylink-cli-'))
  env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !CONFIG_VARS.includes(e[0])))
  // DATA_DIR also holds the generated encryption key that the CLI and the server share.
  env.DATA_DIR = path.join(workDir, 'data')
  if (usingPostgres()) {
    // A database of this file's own on the run's server: the CLI and `serve` seal keys with
    // this DATA_DIR's key, which other files' servers on the run's database do not share.
    const runUrl = new URL(inject('databaseUrl'))
    pgDbName = `${runUrl.pathname.slice(1)}_cli_${randomBytes(3).toString('hex')}`
    const admin = new URL(runUrl)
    admin.pathname = '/postgres'
    pgAdminUrl = admin.toString()
    await pgQuery(`CREATE DATABASE ${pgDbName}`)
    const url = new URL(runUrl)
    url.pathname = `/${pgDbName}`
    env.DATABASE_URL = url.toString()
  }
})

afterAll(async () => {
  await Promise.all([...children].map((c) => stop(c)))
  if (pgDbName) await pgQuery(`DROP DATABASE IF EXISTS ${pgDbName} WITH (FORCE)`)
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true })
})

async function pgQuery(text: string) {
  const client = new pg.Client({ connectionString: pgAdminUrl })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}

// ---------------------------------------------------------------------------------------
// Child processes

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function spawnPaylink(args: string[], extraEnv: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['bin/paylink.mjs', ...args], { cwd: ROOT, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.on('exit', () => children.delete(child))
  return child
}

/** Runs `paylink <args>` to the end (killed after `timeoutMs`). */
function cli(args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 60_000): Promise<Run> {
  const child = spawnPaylink(args, extraEnv)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d) => (stdout += d))
  child.stderr!.on('data', (d) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** The JSON a successful `--json` command printed; fails the test with its stderr otherwise. */
function printed(run: Run): any {
  expect(run.code, `exit ${run.code}; stderr: ${run.stderr}`).toBe(0)
  return JSON.parse(run.stdout)
}

/** Stops a child: SIGTERM, then SIGKILL if it has not gone in 10 s. */
async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await gone
  clearTimeout(timer)
}


interface Server {
  child: ChildProcess
  baseUrl: string
  output: () => string
}

/** `paylink serve` on this file's database, once /readyz answers 200. */
async function startServe(): Promise<Server> {
  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  const child = spawnPaylink(['serve'], { PORT: String(port), HOST: '127.0.0.1', PUBLIC_BASE_URL: baseUrl, LOG_LEVEL: 'warn' })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const deadline = Date.now() + 45_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`paylink serve exited with ${child.exitCode}: ${output}`)
    const ready = await fetch(`${baseUrl}/readyz`).then((r) => r.status === 200, () => false)
    if (ready) return { child, baseUrl, output: () => output }
    await new Promise((r) => setTimeout(r, 150))
  }
  await stop(child)
  throw new Error(`paylink serve did not become ready: ${output}`)
}

let server: Server | undefined
async function serverUp(): Promise<Server> {
  server ??= await startServe()
  return server
}
/** The embedded database admits one process: stop the server before the CLI changes data. */
async function serverDownForCli() {
  if (usingPostgres() || !server) return
  await stop(server.child)
  server = undefined
}

// ---------------------------------------------------------------------------------------
// HTTP against the running server

interface Client {
  client_id: string
  client_secret: string
}

/** The client credentials grant, client_secret_basic. */
async function requestToken(client: Client, scope?: string) {
  const s = await serverUp()
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  if (scope !== undefined) form.set('scope', scope)
  const basic = Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')
  const res = await fetch(`${s.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  })
  return { status: res.status, body: (await res.json()) as any }
}

async function tokenOf(client: Client, scope?: string): Promise<string> {
  const r = await requestToken(client, scope)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.access_token
}

async function api(method: string, urlPath: string, token: string, body?: unknown) {
  const s = await serverUp()
  const res = await fetch(s.baseUrl + urlPath, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as any }
}

// ---------------------------------------------------------------------------------------
// What the tests make, in order

const TENANT_NAME = 'Corner Shop'
let tenant: { tenant_id: string } & Client
let accountId: string
let readOnlyClient: Client
let adminClient: Client
/** Names of tenants that commands refused to create: none of them may exist. */
const refusedTenantNames = ['Typo Shop', 'Pathful Shop', 'Intruder Shop']

describe('paylink migrate', () => {
  it('applies every migration a new database lacks, then finds the database up to date', { timeout: 60_000 }, async () => {
    const first = printed(await cli(['migrate', '--json']))
    expect(first).toEqual({ applied: knownMigrations().map((m) => m.version) })
    expect(first.applied.length).toBeGreaterThan(0)
    expect(printed(await cli(['migrate', '--json']))).toEqual({ applied: [] })
  })
})

describe('paylink tenant create', () => {
  it('prints the tenant id and its first client id and secret as JSON', { timeout: 30_000 }, async () => {
    const out = printed(await cli(['tenant', 'create', '--name', TENANT_NAME, '--origin', 'https://shop.example', '--origin', 'https://checkout.shop.example:8443', '--json']))
    expect(Object.keys(out).sort()).toEqual(['client_id', 'client_secret', 'tenant_id'])
    expect(out.tenant_id).toMatch(/^ten_[a-z0-9]+$/)
    expect(out.client_id).toEqual(expect.any(String))
    expect(out.client_secret).toEqual(expect.any(String))
    expect(out.client_secret.length).toBeGreaterThanOrEqual(32)
    tenant = out
  })
})

describe('paylink account create', () => {
  it('prints the new card_processing_id as JSON', { timeout: 30_000 }, async () => {
    const out = printed(
      await cli(['account', 'create', '--tenant', tenant.tenant_id, '--processor', 'sandbox', '--currencies', 'USD,EUR', '--name', 'Main sandbox', '--priority', '5', '--json']),
    )
    expect(Object.keys(out)).toEqual(['card_processing_id'])
    expect(out.card_processing_id).toMatch(/^cpa_[a-z0-9]+$/)
    accountId = out.card_processing_id
  })

  it('takes a Stripe account with --config, sealed: the database never holds the key in clear', { timeout: 60_000 }, async () => {
    const secret = 'sk_test_cliSecretValue123'
    const out = printed(
      await cli([
        'account', 'create', '--tenant', tenant.tenant_id, '--processor', 'stripe', '--currencies', 'USD', '--name', 'Stripe',
        '--config', JSON.stringify({ secret_key: secret, webhook_secret: 'whsec_cliHookSecret' }), '--json',
      ]),
    )
    expect(out.card_processing_id).toMatch(/^cpa_/)
    const rotated = printed(await cli(['account', 'update', '--account', out.card_processing_id, '--config', JSON.stringify({ secret_key: 'sk_test_rotated456', webhook_secret: 'whsec_rotated' }), '--json']))
    expect(rotated).toEqual({ card_processing_id: out.card_processing_id, updated: ['config'] })
    const listed = await cli(['tenant', 'list', '--json'])
    for (const text of [listed.stdout, listed.stderr, JSON.stringify(out), JSON.stringify(rotated)]) {
      for (const s of [secret, 'whsec_cliHookSecret', 'sk_test_rotated456']) expect(text).not.toContain(s)
    }
  })

  it('refuses a configuration that does not fit the processor, naming the key, and saves nothing', { timeout: 60_000 }, async () => {
    const run = await cli([
      'account', 'create', '--tenant', tenant.tenant_id, '--processor', 'stripe', '--currencies', 'USD', '--name', 'Broken',
      '--config', JSON.stringify({ secret_key: 'sk_test_okValue1', webhok_secret: 'whsec_typo' }),
    ])
    expect(run.code).toBeGreaterThan(0)
    expect(run.stderr).toMatch(/webhook_secret is required/)
    expect(run.stderr).toMatch(/webhok_secret is not a setting/)
    expect(run.stderr).not.toContain('whsec_typo')
    expect(run.stderr).not.toContain('sk_test_okValue1')
    const notJson = await cli(['account', 'update', '--account', accountId, '--config', '{secret'])
    expect(notJson.code).toBeGreaterThan(0)
    expect(notJson.stderr).toMatch(/--config must be a JSON object/)
  })
})

describe('paylink client create', () => {
  it('--tenant T --scopes makes a client of that tenant with just those scopes', { timeout: 30_000 }, async () => {
    const out = printed(await cli(['client', 'create', '--tenant', tenant.tenant_id, '--scopes', 'payments:read', '--json']))
    expect(out).toMatchObject({ tenant_id: tenant.tenant_id, scopes: ['payments:read'] })
    expect(out.client_id).not.toBe(tenant.client_id)
    readOnlyClient = out
  })

  it('--admin makes an operator client with scope admin and no tenant', { timeout: 30_000 }, async () => {
    const out = printed(await cli(['client', 'create', '--admin', '--json']))
    expect(out).toMatchObject({ tenant_id: null, scopes: ['admin'] })
    expect(out.client_secret).toEqual(expect.any(String))
    adminClient = out
  })
})

describe('bad input: a non-zero exit and a clear message on stderr', () => {
  it('refuses an unknown flag and names it', async () => {
    const run = await cli(['tenant', 'create', '--name', 'Typo Shop', '--origin', 'https://typo.example', '--colour', 'red'])
    expect(run.code).toBeGreaterThan(0)
    expect(run.stderr).toMatch(/unknown option --colour/)
    expect(run.stdout).toBe('')
  })

  it('refuses tenant create without --name', async () => {
    const run = await cli(['tenant', 'create', '--origin', 'https://nameless.example'])
    expect(run.code).toBeGreaterThan(0)
    expect(run.stderr).toMatch(/--name is required/)
    expect(run.stdout).toBe('')
  })

  it('refuses an origin with a path, and with --json says so as JSON on stderr', { timeout: 30_000 }, async () => {
    const run = await cli(['tenant', 'create', '--name', 'Pathful Shop', '--origin', 'https://pathful.example/shop', '--json'])
    expect(run.code).toBeGreaterThan(0)
    expect(run.stdout).toBe('')
    const { error } = JSON.parse(run.stderr)
    expect(error.code).toBe('validation_error')
    expect(error.message).toMatch(/allowed_origins\.0 must be an origin/)
  })

  it('refuses an unknown processor and names the ones there are', { timeout: 30_000 }, async () => {
    const run = await cli(['account', 'create', '--tenant', tenant.tenant_id, '--processor', 'acme-pay', '--currencies', 'USD', '--name', 'Acme'])
    expect(run.code).toBeGreaterThan(0)
    expect(run.stderr).toMatch(/processor must be one of .*sandbox/)
    expect(run.stdout).toBe('')
  })

  it('refuses an unknown currency and names which one', { timeout: 30_000 }, async () => {
    const run = await cli(['account', 'create', '--tenant', tenant.tenant_id, '--processor', 'sandbox', '--currencies', 'USD,XYZ', '--name', 'Odd money'])
    expect(run.code).toBeGreaterThan(0)
    expect(run.stderr).toMatch(/currencies\.1 must be a current ISO 4217 code/)
    expect(run.stdout).toBe('')
  })
})

describe('what the CLI made works over HTTP', () => {
  it("gives a tenant's first client every tenant scope", { timeout: 60_000 }, async () => {
    const plain = await requestToken(tenant)
    expect(plain.status).toBe(200)
    expect(plain.body.scope.split(' ').sort()).toEqual([...TENANT_SCOPES].sort())
    // Each scope can be asked for and is honoured: one that needs users:write, one payments:read.
    const token = await tokenOf(tenant, TENANT_SCOPES.join(' '))
    expect((await api('POST', '/v1/platform/users', token, { name: 'Scope check' })).status).toBe(201)
    expect((await api('GET', '/v1/platform/payment-intents', token)).status).toBe(200)
  })

  it('gives a client made with --scopes only those scopes', async () => {
    const plain = await requestToken(readOnlyClient)
    expect(plain.body.scope).toBe('payments:read')
    const wider = await requestToken(readOnlyClient, 'payments:read users:write')
    expect(wider.status).toBe(400)
    expect(wider.body.error).toBe('invalid_scope')
    const token = plain.body.access_token
    expect((await api('GET', '/v1/platform/payment-intents', token)).status).toBe(200)
    const refused = await api('POST', '/v1/platform/users', token, { name: 'Not allowed' })
    expect(refused.status, JSON.stringify(refused.body)).toBe(403)
    expect(refused.body.error.code).toBe('forbidden')
  })

  it('gives the --admin client a token with scope admin that works on /v1/admin', async () => {
    const r = await requestToken(adminClient)
    expect(r.status).toBe(200)
    expect(r.body.scope).toBe('admin')
    const tenants = await api('GET', '/v1/admin/tenants', r.body.access_token)
    expect(tenants.status).toBe(200)
    const mine = tenants.body.data.find((t: any) => t.id === tenant.tenant_id)
    expect(mine).toMatchObject({ name: TENANT_NAME, allowed_origins: ['https://shop.example', 'https://checkout.shop.example:8443'], allow_top_level: false })
    // The refused commands created nothing.
    const names = tenants.body.data.map((t: any) => t.name)
    for (const refused of refusedTenantNames) expect(names).not.toContain(refused)
    const accounts = await api('GET', `/v1/admin/tenants/${tenant.tenant_id}/card-processing-accounts`, r.body.access_token)
    // The refused `--config` saved nothing: only the sandbox and the Stripe account are there.
    expect(accounts.body.data.map((a: any) => a.name).sort()).toEqual(['Main sandbox', 'Stripe'])
    expect(accounts.body.data.find((a: any) => a.card_processing_id === accountId)).toMatchObject({ name: 'Main sandbox', processor: 'sandbox', currencies: ['USD', 'EUR'], priority: 5 })
  })
})

describe.skipIf(usingPostgres())('the embedded database while a server holds it', () => {
  it('refuses a CLI command at once, naming the server process, and changes nothing', { timeout: 60_000 }, async () => {
    const s = await serverUp()
    const admin = await tokenOf(adminClient)
    const before = (await api('GET', '/v1/admin/tenants', admin)).body.data.length

    const run = await cli(['tenant', 'create', '--name', 'Intruder Shop', '--origin', 'https://intruder.example'], {}, 20_000)
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(new RegExp(`in use by process ${s.child.pid}\\b.*paylink serve`))
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    // It did not wait for the holder: the server is still up and still serving.
    expect(s.child.exitCode).toBeNull()
    expect((await fetch(`${s.baseUrl}/readyz`)).status).toBe(200)

    const after = (await api('GET', '/v1/admin/tenants', admin)).body.data
    expect(after).toHaveLength(before)
    expect(after.map((t: any) => t.name)).not.toContain('Intruder Shop')
  })
})

describe('paylink account approve', () => {
  it("approves a user's enrolment, and the tenant then sees the account approved and default", { timeout: 90_000 }, async () => {
    let token = await tokenOf(tenant)
    const user = await api('POST', '/v1/platform/users', token, { email: 'approve@example.com', name: 'To approve' })
    expect(user.status).toBe(201)
    const userId = user.body.data.id
    expect((await api('GET', `/v1/platform/card-processing/users/${userId}`, token)).body.data).toEqual([])

    await serverDownForCli()
    const out = printed(await cli(['account', 'approve', '--tenant', tenant.tenant_id, '--user', userId, '--account', accountId, '--json']))
    expect(out).toEqual({ tenant_id: tenant.tenant_id, user_id: userId, card_processing_id: accountId, status: 'approved' })

    token = await tokenOf(tenant) // the server may have restarted on another address
    const accounts = await api('GET', `/v1/platform/card-processing/users/${userId}`, token)
    expect(accounts.status).toBe(200)
    expect(accounts.body.data).toEqual([expect.objectContaining({ card_processing_id: accountId, status: 'approved', is_default: true, currencies: ['USD', 'EUR'] })])
  })
})

describe('paylink refund create', () => {
  it('refunds a paid intent for support staff, in part and then the rest, and refuses more', { timeout: 120_000 }, async () => {
    let token = await tokenOf(tenant)
    const user = await api('POST', '/v1/platform/users', token, { name: 'Refunded' })
    await api('POST', `/v1/platform/card-processing/users/${user.body.data.id}`, token, { card_processing_id: accountId })
    const link = await api('POST', '/v1/platform/card/payment-link', token, { user_id: user.body.data.id, amount: '12.00' })
    const payUrl = link.body.data.pay_url as string
    const page = await (await fetch(payUrl, { headers: { 'sec-fetch-dest': 'iframe' } })).text()
    const session = /data-session="([^"]+)"/.exec(page)![1]!
    const paid = await fetch(`${payUrl}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-paylink-session': session },
      body: JSON.stringify({ card: { number: '4242424242424242', exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123' } }),
    })
    expect(paid.status).toBe(200)
    const intentId = link.body.data.payment_intent_id as string

    await serverDownForCli()
    const part = printed(await cli(['refund', 'create', '--tenant', tenant.tenant_id, '--payment-intent', intentId, '--amount', '5.00', '--reason', 'requested_by_customer', '--json']))
    expect(part).toMatchObject({ id: expect.stringMatching(/^re_/), object: 'refund', payment_intent_id: intentId, amount: '5.00', status: 'succeeded', reason: 'requested_by_customer' })
    const rest = printed(await cli(['refund', 'create', '--tenant', tenant.tenant_id, '--payment-intent', intentId, '--json']))
    expect(rest).toMatchObject({ amount: '7.00', status: 'succeeded' })
    const more = await cli(['refund', 'create', '--tenant', tenant.tenant_id, '--payment-intent', intentId, '--amount', '1.00'])
    expect(more.code).toBeGreaterThan(0)
    expect(more.stderr).toMatch(/Nothing is left to refund/)

    token = await tokenOf(tenant)
    expect((await api('GET', `/v1/platform/payment-intents/${intentId}`, token)).body.data).toMatchObject({ amount_refunded: '12.00' })
  })
})

describe('paylink portal link', () => {
  it('makes a one-time portal link with every tenant scope, which the portal exchanges once', { timeout: 120_000 }, async () => {
    await serverDownForCli()
    const made = printed(await cli(['portal', 'link', '--tenant', tenant.tenant_id, '--expires-in', '600', '--json']))
    expect(made).toEqual({ url: expect.stringMatching(/\/portal\/plk_[A-Za-z0-9_-]{43}$/), expires_at: expect.any(String) })
    expect(Date.parse(made.expires_at) - Date.now()).toBeGreaterThan(590_000)
    expect(Date.parse(made.expires_at) - Date.now()).toBeLessThanOrEqual(600_000)
    const plain = await cli(['portal', 'link', '--tenant', tenant.tenant_id])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout.split('\n')[0]).toMatch(/^http.*\/portal\/plk_[A-Za-z0-9_-]{43}$/)

    const s = await serverUp()
    const exchange = (url: string) =>
      fetch(`${s.baseUrl}/portal/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: url.slice(url.lastIndexOf('/') + 1) }) })
    const first = await exchange(made.url)
    expect(first.status).toBe(201)
    const session = ((await first.json()) as any).data
    expect(session).toMatchObject({ tenant: { id: tenant.tenant_id, name: TENANT_NAME }, expires_at: made.expires_at })
    expect([...session.scopes].sort()).toEqual([...TENANT_SCOPES].sort())
    expect((await api('GET', '/v1/platform/payment-intents', session.secret)).status).toBe(200)
    expect((await exchange(made.url)).status).toBe(410)
  })

  it('refuses an unknown tenant and a bad --expires-in with a clear message and a non-zero exit', { timeout: 60_000 }, async () => {
    await serverDownForCli()
    const unknown = await cli(['portal', 'link', '--tenant', 'ten_doesnotexist', '--json'])
    expect(unknown.code).toBeGreaterThan(0)
    expect(JSON.parse(unknown.stderr)).toEqual({ error: { code: 'not_found', message: 'No such tenant.' } })
    const long = await cli(['portal', 'link', '--tenant', tenant.tenant_id, '--expires-in', '90000'])
    expect(long.code).toBeGreaterThan(0)
    expect(long.stderr).toContain('--expires-in must be a whole number of seconds from 60 to 86400')
  })
})

describe('paylink reencrypt', () => {
  it('reports every sealed column, all under the current key when there is no previous one', { timeout: 60_000 }, async () => {
    await serverDownForCli()
    const out = printed(await cli(['reencrypt', '--json']))
    expect(out.columns.map((c: any) => c.column)).toEqual(expect.arrayContaining(['signing_keys.private_jwk_encrypted', 'saved_cards.token_encrypted', 'card_processing_accounts.config_encrypted']))
    expect(out.columns.every((c: any) => c.resealed === 0 && c.unreadable === 0)).toBe(true)
    expect(out.columns.find((c: any) => c.column === 'signing_keys.private_jwk_encrypted').current).toBeGreaterThanOrEqual(1)
  })
})

describe.skipIf(usingPostgres())('npm start and SIGTERM', () => {
  it('stops the server when npm is told to stop: no process is left holding the embedded database', { timeout: 90_000 }, async () => {
    const dataDir = path.join(workDir, 'npm-start')
    const port = await freePort()
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', DEMO_PORT: String(await freePort()), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(npm)
    await until('npm start answers /healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 60_000)
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)))
    npm.kill('SIGTERM')
    await exited
    // Nothing answers any more, and the CLI can open the database at once (no holder left).
    await until('the server is gone', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined)) === undefined, 15_000)
    const run = await cli(['tenant', 'list', '--json'], { DATA_DIR: dataDir })
    expect(run.stderr).not.toMatch(/in use/)
    expect(run.code).toBe(0)
  })
})

describe('bad configuration stops start-up', () => {
  it('stops `paylink serve` with one clear line per problem and a non-zero exit, touching nothing', async () => {
    const dataDir = path.join(workDir, 'never-created')
    const run = await cli(['serve'], { PORT: 'abc', NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://pay.example', DATA_DIR: dataDir, DATABASE_URL: '' }, 20_000)
    expect(run.code).toBeGreaterThan(0)
    expect(run.stdout).toBe('')
    const lines = run.stderr.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines).toEqual(
      expect.arrayContaining([expect.stringMatching(/PORT must be a whole number.*"abc"/), expect.stringMatching(/DATA_ENCRYPTION_KEY is required when NODE_ENV=production/)]),
    )
    expect(fs.existsSync(dataDir)).toBe(false)
  })
})
