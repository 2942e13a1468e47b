/**
 * Where the mint's cost over the bare baseline is. Four servings of load, in alternating
 * stretches on one private database:
 *
 * - `baseline`: bench/baseline.ts (Fastify + pg, one INSERT);
 * - `in-app`: the same handler inside paylink's app (bench/split-server.ts);
 * - `in-app+auth`: the same, behind the mint's bearer-token check;
 * - `mint`: the real `POST /v1/platform/card/payment-link` of that same process.
 *
 * For each: requests/s and CPU per request of the server and of the PostgreSQL backends.
 *
 *   node --import tsx bench/split.ts        (SPLIT_ROUNDS 3, SPLIT_SECONDS 5, SPLIT_CASES)
 */
import { randomBytes } from 'node:crypto'
import { cannon, cpuMeter, createBenchDb, freePort, log, seed, startChild, startPaylink, startReceiver, stopAllChildren, type BenchDb } from './lib.js'

const ROUNDS = Number(process.env.SPLIT_ROUNDS ?? 3)
const SECONDS = Number(process.env.SPLIT_SECONDS ?? 5)
const CASES = (process.env.SPLIT_CASES ?? 'baseline,in-app,in-app+auth,mint').split(',')

let bdb: BenchDb | undefined
try {
  bdb = await createBenchDb()
  const key = randomBytes(32).toString('hex')
  const receiver = await startReceiver(() => undefined)
  // A short-lived paylink seeds the database (tenant, client, account, user, token).
  const seeder = await startPaylink({ databaseUrl: bdb.url, encryptionKey: key, role: 'api' })
  const s = await seed(bdb.db, Buffer.from(key, 'hex'), seeder.baseUrl, receiver.url)
  await seeder.stop()
  const env = { DATABASE_URL: bdb.url, BASELINE_TENANT: s.tenantId, BASELINE_ACCOUNT: s.accountId }
  const basePort = await freePort()
  const baseline = startChild('baseline', ['--import', 'tsx', 'bench/baseline.ts'], { ...env, PORT: String(basePort) })
  await baseline.waitFor(/baseline listening/)
  const appPort = await freePort()
  // The token names the seeder's address as issuer and audience: the split server takes it as its own.
  const app = startChild('split server', ['--import', 'tsx', 'bench/split-server.ts'], {
    ...env,
    PORT: String(appPort),
    HOST: '127.0.0.1',
    PUBLIC_BASE_URL: seeder.baseUrl,
    DATA_ENCRYPTION_KEY: key,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MULTIPLIER: '1000000',
    ROLE: 'api',
  })
  await app.waitFor(/split server listening/)

  const body = JSON.stringify({ user_id: s.userId, amount: '12.50' })
  const headers = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }
  const at = (port: number, pid: number, path: string) => ({ url: `http://127.0.0.1:${port}`, pid, request: { method: 'POST', path, headers, body } })
  const cases: Record<string, ReturnType<typeof at>> = {
    baseline: at(basePort, baseline.proc.pid!, '/v1/platform/card/payment-link'),
    'in-app': at(appPort, app.proc.pid!, '/bench/insert'),
    'in-app+auth': at(appPort, app.proc.pid!, '/bench/insert-authenticated'),
    mint: at(appPort, app.proc.pid!, '/v1/platform/card/payment-link'),
  }
  for (const c of CASES) await cannon({ title: `${c} warm-up`, url: cases[c]!.url, connections: 50, duration: 2, requests: [cases[c]!.request] })
  const sums: Record<string, { rps: number; server: number; postgres: number; n: number; bad: number }> = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of round % 2 ? [...CASES].reverse() : CASES) {
      const { url, pid, request } = cases[c]!
      const meter = await cpuMeter(pid, bdb.db, bdb.name)
      const r = await cannon({ title: c, url, connections: 50, duration: SECONDS, requests: [request] })
      const cpu = await meter.stop()
      const t = (sums[c] ??= { rps: 0, server: 0, postgres: 0, n: 0, bad: 0 })
      t.rps += r.rps
      t.server += cpu.server
      t.postgres += cpu.postgres
      t.n += r.total
      t.bad += r.non2xx + r.errors
      log(`  ${c.padEnd(12)} ${r.rps.toFixed(0)} req/s`)
    }
  }
  const base = sums.baseline
  for (const c of CASES) {
    const t = sums[c]!
    const us = (ms: number) => ((ms * 1000) / t.n).toFixed(0)
    const ratio = base ? ` (${((100 * t.rps) / base.rps).toFixed(0)}% of baseline)` : ''
    log(`${c.padEnd(12)} ${(t.rps / ROUNDS).toFixed(0)} req/s${ratio}, CPU per request: server ${us(t.server)} µs, PostgreSQL ${us(t.postgres)} µs${t.bad ? `, ${t.bad} failed` : ''}`)
  }
} finally {
  await stopAllChildren()
  await bdb?.drop()
  // Whatever is left open (the receiver) must not keep the run alive.
  process.exit()
}
