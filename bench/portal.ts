/**
 * `npm run bench -- portal`: the tenant portal's first screen, time to data (issue 14
 * item 5; target under 150 ms on this machine). One tenant holds 100,000 payment intents
 * over the last 30 days (written in bulk by SQL, then ANALYZEd); paylink runs for real
 * (`node bin/paylink.mjs serve`, ROLE=api) on PostgreSQL. The portal's session (a link made
 * through the API and exchanged, `Bearer pps_…`) asks what the first screen shows, both at
 * once as the portal's page does: the figures (GET /v1/platform/payment-stats, hourly —
 * the first screen's default — and daily, over all 100,000) and the first page of the list
 * (GET /v1/platform/payment-intents). The time is from sending both to having both answers.
 * Results go to BENCHMARKS.md between the `bench:portal` markers (BENCH_WRITE=0 to skip).
 */
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { createBenchDb, log, machine, seed, startPaylink, startReceiver, stopAllChildren, writeBenchmarkSection, type BenchDb } from './lib.js'

const INTENTS = Number(process.env.BENCH_PORTAL_INTENTS ?? 100_000)
const SAMPLES = Number(process.env.BENCH_PORTAL_SAMPLES ?? 50)
const TARGET_MS = 150

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!

async function main() {
  const m = await machine()
  log(`machine: ${m.nproc} CPUs (${m.cpu}), PostgreSQL ${m.postgres}, load ${m.loadavg.join(' ')}`)
  let bdb: BenchDb | undefined
  try {
    bdb = await createBenchDb()
    const key = randomBytes(32)
    const receiver = await startReceiver(() => undefined)
    const api = await startPaylink({ databaseUrl: bdb.url, encryptionKey: key.toString('hex'), role: 'api' })
    const s = await seed(bdb.db, key, api.baseUrl, receiver.url)

    // 100,000 intents of the last 30 days: 1 in 10 in EUR, 1 in 7 failed, 1 in 13 still pending, the rest succeeded.
    const t0 = performance.now()
    await bdb.db.query(
      `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, failure_code, expires_at, created_at, updated_at, finished_at, link_token_hash)
       SELECT $1, 'pi_bench' || g, $2, $3, 100 + (g % 50000), CASE WHEN g % 10 = 0 THEN 'EUR' ELSE 'USD' END,
              CASE WHEN g % 7 = 0 THEN 'failed' WHEN g % 13 = 0 THEN 'pending' ELSE 'succeeded' END,
              CASE WHEN g % 7 = 0 THEN 'card_declined' END,
              CASE WHEN g % 13 = 0 AND g % 7 <> 0 THEN now() + interval '1 day' ELSE at + interval '10 minutes' END,
              at, at, CASE WHEN g % 13 <> 0 OR g % 7 = 0 THEN at END, decode(md5('bench' || g), 'hex')
         FROM generate_series(1, $4::int) AS g, LATERAL (SELECT now() - (g * (30 * 86400000.0 / $4::int)) * interval '1 millisecond' AS at) AS t`,
      [s.tenantId, s.userId, s.accountId, INTENTS],
    )
    await bdb.db.exec('ANALYZE payment_intents')
    log(`${INTENTS} intents written and analysed in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    // The portal's way in: a link from the tenant's server, exchanged once for a session.
    const call = async (path: string, init: RequestInit = {}) => {
      const r = await fetch(api.baseUrl + path, init)
      const body = (await r.json()) as { data: any }
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(body)}`)
      return body.data
    }
    const link = await call('/v1/platform/portal-sessions', { method: 'POST', headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }, body: '{}' })
    const session = await call('/portal/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: (link.url as string).split('/').pop() }) })
    const auth = { headers: { authorization: `Bearer ${session.secret}` } }

    const firstScreen = async (granularity: 'hour' | 'day') => {
      const start = performance.now()
      const [stats, list] = await Promise.all([call(`/v1/platform/payment-stats?currency=USD&granularity=${granularity}`, auth), call('/v1/platform/payment-intents?limit=20', auth)])
      const ms = performance.now() - start
      if (list.length !== 20 || stats.succeeded + stats.failed === 0) throw new Error('the first screen came back empty')
      return { ms, counted: stats.succeeded + stats.failed }
    }
    const results: Record<string, { p50: number; p95: number; max: number; counted: number }> = {}
    for (const granularity of ['hour', 'day'] as const) {
      for (let i = 0; i < 5; i++) await firstScreen(granularity) // warm-up: connections, prepared statements
      const times: number[] = []
      let counted = 0
      for (let i = 0; i < SAMPLES; i++) {
        const r = await firstScreen(granularity)
        times.push(r.ms)
        counted = r.counted
      }
      results[granularity] = { p50: percentile(times, 50), p95: percentile(times, 95), max: Math.max(...times), counted }
      log(`first screen (${granularity}): p50 ${results[granularity]!.p50.toFixed(1)} ms, p95 ${results[granularity]!.p95.toFixed(1)} ms`)
    }

    // How PostgreSQL reaches the rows for each range (the aggregate's own condition).
    const scanOf = async (range: string) => {
      const plan = await bdb!.db.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT count(*) FROM payment_intents WHERE tenant_id = $1 AND created_at >= now() - interval '${range}' AND currency = 'USD' AND status IN ('succeeded', 'failed')`,
        [s.tenantId],
      )
      return /((?:Bitmap Heap |Index Only |Index |Seq )Scan[^(]*?)\s*\(/.exec(plan.map((p) => p['QUERY PLAN']).join('\n'))?.[1]?.trim() ?? 'unknown'
    }
    const scans = { hour: await scanOf('48 hours'), day: await scanOf('30 days') }
    const row = (what: string, r: { p50: number; p95: number; max: number; counted: number }) =>
      `| ${what} | ${r.counted.toLocaleString('en')} | **${r.p50.toFixed(1)} ms** | ${r.p95.toFixed(1)} ms | ${r.max.toFixed(1)} ms | < ${TARGET_MS} ms: ${r.p50 < TARGET_MS ? 'met' : 'missed'} |`
    const text = [
      `Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} cores, load at start ${m.loadavg.join(' ')}, PostgreSQL ${m.postgres}; ${INTENTS.toLocaleString('en')} intents in one tenant over 30 days; ${SAMPLES} first screens each, one after another, through a portal session.`,
      '',
      '| first screen: figures + first page of the list, asked together | final USD intents aggregated | p50 | p95 | max | target |',
      '|---|---|---|---|---|---|',
      row('per hour, last 48 hours (the default)', results.hour!),
      row('per day, last 30 days (every intent of the tenant)', results.day!),
      '',
      `Plans here: 48 hours by \`${scans.hour}\`, 30 days by \`${scans.day}\`. With one tenant holding the whole table, the 30-day range is every row, and reading the table is the cheaper plan; among several tenants the index \`payment_intents_created\` (tenant_id, created_at DESC, id DESC) serves both (test/api/payment-stats-plan.test.ts). No index was added.`,
    ].join('\n')
    log(`\n${text}`)
    if (process.env.BENCH_WRITE !== '0' && writeBenchmarkSection('portal', text)) log('results written to BENCHMARKS.md')
    await receiver.close()
  } finally {
    await stopAllChildren()
    await bdb?.drop().catch((err) => log(`could not drop ${bdb?.name}: ${(err as Error).message}`))
  }
  process.exit(0)
}

await main()
