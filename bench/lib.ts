/**
 * What the benchmark and the profiler share: a private PostgreSQL database, paylink and
 * the baseline as real child processes, a seeded tenant, autocannon as a promise, a
 * webhook receiver, percentiles and a description of the machine.
 *
 * Nothing here is used by the service or its tests.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fsSync from 'node:fs'
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import autocannon from 'autocannon'
import { postgresDb, type Db } from '../src/storage/db.js'
import { freePort } from '../test/helpers/net.js'
import { migrate } from '../src/storage/migrate.js'
import { SUCCEEDING_TEST_CARDS } from '../src/processors/sandbox/cards.js'
import { verifyWebhook } from '../src/domain/webhooks/signing.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const ADMIN_URL = process.env.PAYLINK_BENCH_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
export const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)

// ---------------------------------------------------------------- database

export interface BenchDb {
  url: string
  name: string
  db: Db
  drop(): Promise<void>
}

async function adminRun(statement: string) {
  const c = new pg.Client({ connectionString: ADMIN_URL })
  await c.connect()
  try {
    return await c.query(statement)
  } finally {
    await c.end()
  }
}

/** A new, migrated PostgreSQL database of its own; `drop()` removes it. */
export async function createBenchDb(): Promise<BenchDb> {
  const name = `paylink_bench_${Date.now()}_${randomBytes(3).toString('hex')}`
  await adminRun(`CREATE DATABASE ${name}`)
  const u = new URL(ADMIN_URL)
  u.pathname = `/${name}`
  const url = u.toString()
  const db = postgresDb(url, { max: 4 })
  await migrate(db)
  let dropped = false
  return {
    url,
    name,
    db,
    async drop() {
      if (dropped) return
      dropped = true
      await db.close().catch(() => {})
      await adminRun(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  }
}

export async function postgresVersion(): Promise<string> {
  const r = await adminRun('SHOW server_version')
  return String(r.rows[0]?.server_version ?? 'unknown')
}

// ---------------------------------------------------------------- processes

export { freePort }

export interface Child {
  name: string
  proc: ChildProcess
  output: () => string
  /** Resolves when a line of its output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

const children = new Set<Child>()

/** Starts a child process; its output is kept (last 64 KiB) for error messages. */
export function startChild(name: string, args: string[], env: Record<string, string>, cwd = ROOT): Child {
  const proc = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const waiters: { pattern: RegExp; resolve: () => void }[] = []
  const onData = (chunk: Buffer) => {
    out = (out + chunk.toString('utf8')).slice(-65536)
    for (const w of [...waiters]) {
      if (w.pattern.test(out)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  proc.stdout!.on('data', onData)
  proc.stderr!.on('data', onData)
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  const child: Child = {
    name,
    proc,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      if (pattern.test(out)) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${out}`)), timeoutMs)
        const w = { pattern, resolve: () => (clearTimeout(timer), resolve()) }
        waiters.push(w)
        proc.once('exit', (code) => {
          clearTimeout(timer)
          reject(new Error(`${name} exited (${code}) before printing ${pattern}:\n${out}`))
        })
      })
    },
    async stop() {
      children.delete(child)
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(t)
    },
  }
  children.add(child)
  return child
}

/** Stops every child this process started (on an error or Ctrl-C). */
export async function stopAllChildren() {
  await Promise.allSettled([...children].map((c) => c.stop()))
}

export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited (${child.proc.exitCode}):\n${child.output()}`)
    try {
      const r = await fetch(url)
      if (r.ok) return
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms:\n${child.output()}`)
    await sleep(100)
  }
}

export interface PaylinkOptions {
  databaseUrl: string
  encryptionKey: string
  role: 'api' | 'worker' | 'all'
  port?: number
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[]
  logLevel?: string
  env?: Record<string, string>
  /** Another copy of the project to run (bench/ab.ts); this one by default. */
  cwd?: string
}

/** `node bin/paylink.mjs serve` as a child process; resolves once it serves (api) or has started (worker). */
/**
 * The V8 flags `npm start` runs paylink with (package.json `start`): the bench runs paylink
 * as an operator's `npm start` does. Checked against package.json, so the two cannot drift.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=32']
{
  const start = (JSON.parse(fsSync.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start
  if (!SERVE_NODE_FLAGS.every((f) => start.split(' ').includes(f))) throw new Error(`npm start (${start}) does not run node with ${SERVE_NODE_FLAGS.join(' ')}: update bench/lib.ts`)
}

export async function startPaylink(o: PaylinkOptions): Promise<Child & { baseUrl: string }> {
  const port = o.port ?? (await freePort())
  const baseUrl = `http://127.0.0.1:${port}`
  const child = startChild(`paylink ${o.role}`, [...SERVE_NODE_FLAGS, ...(o.nodeArgs ?? []), 'bin/paylink.mjs', 'serve'], {
    ROLE: o.role,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: baseUrl,
    DATABASE_URL: o.databaseUrl,
    DATA_ENCRYPTION_KEY: o.encryptionKey,
    // A worker says it has started only at info level; the API runs at warn.
    LOG_LEVEL: o.logLevel ?? (o.role === 'worker' ? 'info' : 'warn'),
    // The documented limits would refuse a load test within a second; this lifts them.
    RATE_LIMIT_MULTIPLIER: '1000000',
    // Links minted at the start must still be payable at the end of the run.
    LINK_TTL_SECONDS: '7200',
    ACCESS_TOKEN_TTL_SECONDS: '7200',
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    ...o.env,
  }, o.cwd)
  if (o.role === 'worker') await child.waitFor(/paylink worker started/)
  else await waitForHttp(`${baseUrl}/healthz`, child)
  return Object.assign(child, { baseUrl })
}

/**
 * Runs a bench script's body. An error is logged and makes the exit code 1; whatever
 * happened, every child is stopped, `cleanup()` runs (drop the database, remove files), and
 * the process exits: nothing left open (a receiver after an error, autocannon's timers) may
 * keep the run alive.
 */
export async function runScript(body: () => Promise<void>, cleanup: () => Promise<void>) {
  try {
    await body()
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? err}`)
    process.exitCode = 1
  } finally {
    await stopAllChildren()
    await cleanup()
    process.exit()
  }
}

// ---------------------------------------------------------------- seeding

export interface Seeded {
  tenantId: string
  clientId: string
  clientSecret: string
  accountId: string
  userId: string
  token: string
  endpointId: string
  webhookSecret: string
}

/** A processor account other than the sandbox: its processor and configuration (e.g. a fake's `api_base`). */
export interface SeedAccount {
  processor: string
  config: Record<string, unknown>
}

/**
 * A tenant with its client and a sandbox account (as `paylink tenant create` and
 * `paylink account create` make them, through the same services), then through the API:
 * a token, a user enrolled in the account, and a webhook endpoint at `webhookUrl`.
 * With `account`, the tenant's one account is that processor's instead, and the operator
 * approves the user's enrolment in it (as `paylink account approve` does), which a
 * real processor's account requires.
 */
export async function seed(db: Db, encryptionKey: Buffer, baseUrl: string, webhookUrl: string, opts: { account?: SeedAccount } = {}): Promise<Seeded> {
  const { buildServices } = await import('../src/composition.js')
  const { loadConfig } = await import('../src/config.js')
  const { systemClock } = await import('../src/domain/shared/clock.js')
  const config = loadConfig({ PUBLIC_BASE_URL: baseUrl, DATABASE_URL: 'postgresql://unused', LOG_LEVEL: 'silent' })
  const services = await buildServices({ config, db, clock: systemClock, encryptionKey })
  try {
    const t = await services.tenants.createTenant({ name: 'Bench Shop', origins: ['https://shop.example'] })
    const account = opts.account
      ? await services.tenants.createAccount(t.tenant.id, { name: opts.account.processor, processor: opts.account.processor, currencies: ['USD', 'EUR'], config: opts.account.config })
      : await services.tenants.createAccount(t.tenant.id, { name: 'Sandbox', processor: 'sandbox', currencies: ['USD', 'EUR'] })
    const tokenRes = await fetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: t.clientId, client_secret: t.clientSecret }).toString(),
    })
    if (!tokenRes.ok) throw new Error(`token: ${tokenRes.status} ${await tokenRes.text()}`)
    const token = ((await tokenRes.json()) as { access_token: string }).access_token
    const api = async (p: string, body: unknown) => {
      const r = await fetch(baseUrl + p, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const json = (await r.json()) as { data: any }
      if (r.status >= 300) throw new Error(`${p}: ${r.status} ${JSON.stringify(json)}`)
      return json.data
    }
    const user = await api('/v1/platform/users', { email: 'payer@example.com', name: 'Bench Payer' })
    await api(`/v1/platform/card-processing/users/${user.id}`, { card_processing_id: account.id })
    if (opts.account) await services.tenants.approveEnrolment(t.tenant.id, user.id, account.id)
    const endpoint = await api('/v1/platform/webhook-endpoints', { url: webhookUrl })
    return { tenantId: t.tenant.id, clientId: t.clientId, clientSecret: t.clientSecret, accountId: account.id, userId: user.id, token, endpointId: endpoint.id, webhookSecret: endpoint.secret }
  } finally {
    await services.close()
  }
}

// ---------------------------------------------------------------- load

export interface LoadResult {
  title: string
  connections: number
  durationS: number
  total: number
  rps: number
  p50: number
  p90: number
  p99: number
  max: number
  non2xx: number
  errors: number
  timeouts: number
}

export type CannonOptions = Record<string, unknown> & { url: string; connections: number; duration?: number; amount?: number; title: string }

/** A running autocannon. */
export type CannonInstance = ReturnType<typeof autocannon>

/** Runs autocannon; `onStart` gets the instance (to stop it early, or to time each response). */
export function cannon(opts: CannonOptions, onStart?: (inst: CannonInstance) => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const inst = autocannon({ ...opts, pipelining: 1 }, (err: Error | null, r: any) => {
      if (err) return reject(err)
      const total = r.latency.totalCount as number
      resolve({
        title: opts.title,
        connections: opts.connections,
        durationS: r.duration,
        total,
        rps: total / r.duration,
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        max: r.latency.max,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
      })
    })
    onStart?.(inst)
  })
}

/** The sandbox's documented succeeding test card (SPEC "Sandbox test cards"), as the page sends it. */
export const SANDBOX_CARD = { number: SUCCEEDING_TEST_CARDS[0]!, exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123' }

/** The page-session secret a page holds (`data-session="…"`), or undefined. */
export const sessionOf = (html: string) => /data-session="([^"]+)"/.exec(html)?.[1]

/** The autocannon request that mints a 12.50 link for `userId` with the tenant's `token`. */
export const mintRequest = (token: string, userId: string) => ({
  method: 'POST',
  path: '/v1/platform/card/payment-link',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ user_id: userId, amount: '12.50' }),
})

/** Sends `request` `amount` times over 20 connections: links made or loaded ahead of a measured run. */
const prepare = (title: string, url: string, amount: number, request: object) => cannon({ title, url, connections: 20, amount, requests: [request] })

/** Mints `amount` links through `url` with `request` (a mintRequest) and returns their tokens. */
export async function preMint(url: string, request: ReturnType<typeof mintRequest>, amount: number): Promise<string[]> {
  const tokens: string[] = []
  await prepare('pre-mint', url, amount, {
    ...request,
    onResponse: (status: number, body: string) => status === 201 && tokens.push((JSON.parse(body) as { data: { pay_url: string } }).data.pay_url.split('/pay/')[1]!),
  })
  return tokens
}

/** A page loaded in a frame: its link token and the page-session secret a confirm needs. */
export interface LoadedPage {
  token: string
  session: string
}

/** The headers of a framed page load, as a browser sends them. */
export const FRAMED = { 'sec-fetch-dest': 'iframe', 'accept-language': 'en-US,en;q=0.9' }

/**
 * The autocannon request that loads, in a frame, the next link of `tokens` (taken from the
 * end): GET /pay/ran-out once none is left, after calling `onEmpty`. The token goes in the
 * request's context.
 */
export const pageRequest = (tokens: string[], onEmpty?: () => void) => ({
  method: 'GET',
  path: '/pay/x',
  headers: FRAMED,
  setupRequest: (req: Record<string, unknown>, ctx: Record<string, unknown>) => {
    const token = tokens.pop()
    if (!token) {
      onEmpty?.()
      return { ...req, path: '/pay/ran-out' }
    }
    ctx.token = token
    return { ...req, path: `/pay/${token}` }
  },
})

/**
 * The autocannon request that confirms, with the sandbox card, the next page of `pages`
 * (taken from the end): POST /pay/ran-out/confirm once none is left, after calling `onEmpty`.
 */
export const confirmRequest = (pages: LoadedPage[], onEmpty?: () => void) => ({
  method: 'POST',
  path: '/pay/x/confirm',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ card: SANDBOX_CARD }),
  setupRequest: (req: Record<string, unknown>) => {
    const next = pages.pop()
    if (!next) {
      onEmpty?.()
      return { ...req, path: '/pay/ran-out/confirm' }
    }
    return { ...req, path: `/pay/${next.token}/confirm`, headers: { 'content-type': 'application/json', 'x-paylink-session': next.session } }
  },
})

/**
 * Loads `amount` of the link `tokens` (taken from the end) as framed pages and returns each
 * page's token and session secret, ready to confirm.
 */
export async function loadPages(url: string, tokens: string[], amount: number): Promise<LoadedPage[]> {
  const pages: LoadedPage[] = []
  await prepare('pre-load', url, amount, {
    ...pageRequest(tokens),
    onResponse: (status: number, body: string, ctx: Record<string, unknown>) => {
      const session = status === 200 ? sessionOf(body) : undefined
      if (session) pages.push({ token: ctx.token as string, session })
    },
  })
  return pages
}

// ---------------------------------------------------------------- stats

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export function summarize(values: number[]) {
  const s = [...values].sort((a, b) => a - b)
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN }
}

// ---------------------------------------------------------------- webhooks

export interface Arrival {
  id: string
  at: number
  /** The event's own timestamp (written in the transaction that commits it), ms. */
  eventAt: number
  verified: boolean
}

export interface BenchReceiver {
  url: string
  arrivals: Arrival[]
  /** Resolves when `n` deliveries of `ids` (all, when omitted) have arrived. */
  waitForCount(n: number, timeoutMs: number, filter?: (a: Arrival) => boolean): Promise<boolean>
  close(): Promise<void>
}

/**
 * A plain webhook receiver: answers 204, checks each Standard Webhooks signature as the demo
 * shop does (HMAC-SHA256, cheap enough not to be the bottleneck) and records when it arrived.
 */
export async function startReceiver(secret: () => string | undefined): Promise<BenchReceiver> {
  const arrivals: Arrival[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const at = Date.now()
      const body = Buffer.concat(chunks).toString('utf8')
      const id = String(req.headers['webhook-id'])
      const s = secret()
      const verified = s !== undefined && verifyWebhook(s, body, req.headers)
      let eventAt = NaN
      try {
        eventAt = Date.parse((JSON.parse(body) as { timestamp: string }).timestamp)
      } catch {
        // not JSON: counted, not timed
      }
      arrivals.push({ id, at, eventAt, verified })
      res.writeHead(204).end()
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    arrivals,
    async waitForCount(n, timeoutMs, filter = () => true) {
      const until = Date.now() + timeoutMs
      while (arrivals.filter(filter).length < n) {
        if (Date.now() > until) return false
        await sleep(20)
      }
      return true
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * `n` due deliveries to `endpointId`, of events written straight into the outbox tables
 * (as the outbox writer writes them, in one transaction), with a copy of a real event's
 * body. For measuring how fast workers drain a backlog.
 */
export async function insertBacklog(db: Db, tenantId: string, endpointId: string, n: number, body: string): Promise<void> {
  const tag = randomBytes(4).toString('hex')
  await db.query(
    `WITH ev AS (
       INSERT INTO events (tenant_id, id, type, payment_intent_id, body, created_at)
       SELECT $1, 'evt_bench' || $3 || lpad(g::text, 7, '0'), 'payment_intent.succeeded', NULL, $2, now() FROM generate_series(1, $4) g
       RETURNING tenant_id, id, created_at
     )
     INSERT INTO deliveries (tenant_id, id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT tenant_id, 'dlv_bench' || substr(id, 10), id, $5, 'pending', 0, created_at, created_at, created_at FROM ev`,
    [tenantId, body, tag, n, endpointId],
  )
}

// ---------------------------------------------------------------- machine

export async function machine() {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: await postgresVersion(),
    os: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  }
}

// ---------------------------------------------------------------- CPU accounting

let ticksPerSecond: number | undefined
const clockTicks = () => {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** CPU time (user + system, ms) a process has used so far; 0 when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = fsSync.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks()
  } catch {
    return 0
  }
}

/** The PostgreSQL backends serving `database` (other than the asking connection). */
export async function backendPids(db: Db, database: string): Promise<number[]> {
  const rows = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])
  return rows.map((r) => r.pid)
}

export interface CpuSplit {
  /** ms of CPU over the measured stretch. */
  server: number
  postgres: number
  loadGenerator: number
}

/** Starts counting the CPU of a server process, the database's backends and this process; `stop()` gives the split. */
export async function cpuMeter(serverPid: number, db: Db, database: string) {
  const pids = await backendPids(db, database)
  const server0 = processCpuMs(serverPid)
  const pg0 = new Map(pids.map((p) => [p, processCpuMs(p)]))
  const self0 = process.cpuUsage()
  return {
    async stop(): Promise<CpuSplit> {
      const self = process.cpuUsage(self0)
      let postgres = 0
      for (const [p, before] of pg0) postgres += Math.max(0, processCpuMs(p) - before)
      // Backends the pool opened during the run count from zero.
      for (const p of await backendPids(db, database)) if (!pg0.has(p)) postgres += processCpuMs(p)
      return { server: processCpuMs(serverPid) - server0, postgres, loadGenerator: (self.user + self.system) / 1000 }
    },
  }
}

/** Replaces what stands between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` in BENCHMARKS.md; false when the markers are missing. */
export function writeBenchmarkSection(name: string, text: string): boolean {
  const file = path.join(ROOT, 'BENCHMARKS.md')
  const start = `<!-- bench:${name}:start -->`
  const end = `<!-- bench:${name}:end -->`
  if (!fsSync.existsSync(file)) return false
  const doc = fsSync.readFileSync(file, 'utf8')
  const a = doc.indexOf(start)
  const b = doc.indexOf(end)
  if (a < 0 || b < a) return false
  fsSync.writeFileSync(file, doc.slice(0, a + start.length) + '\n' + text + '\n' + doc.slice(b))
  return true
}
