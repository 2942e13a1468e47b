/**
 * Issue 14 item 5 ("How it is checked"): the portal's aggregate and its first list read only
 * the tenant's rows in the range. 50,000 intents across three tenants are written in bulk by
 * SQL, the table is ANALYZEd, and the statements the routes really ran (recorded on the way
 * to the database) are EXPLAINed with their own parameters: the plan must reach
 * payment_intents through an index leading with tenant_id, never by a Seq Scan.
 * A database of its own (the rows and the ANALYZE must not touch other files'); PostgreSQL
 * with PAYLINK_TEST_DB=pg, PGlite otherwise (the same planner).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db, Statement } from '../../src/storage/db.js'
import { DAY, openPrivateDb, setupPayer, startServer, type Payer, type TestServer } from '../helpers/index.js'

const TOTAL = 50_000
let privateDb: Awaited<ReturnType<typeof openPrivateDb>>
let server: TestServer
const seen: Array<{ stmt: Statement | string; params: unknown[] }> = []
let tenants: Payer[]

/** The database, with every top-level query remembered (statement and parameters). */
function recording(db: Db): Db {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (stmt: Statement | string, params: unknown[] = []) => {
          seen.push({ stmt, params })
          return target.query(stmt, params)
        }
      }
      const v = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}

beforeAll(async () => {
  privateDb = await openPrivateDb()
  server = await startServer({}, { db: recording(privateDb.db) })
  tenants = [await setupPayer(server), await setupPayer(server), await setupPayer(server)]
  const now = server.clock.now()
  // A year of payments for each tenant: 1 in 10 in EUR, 1 in 7 failed, 1 in 13 pending, the rest succeeded.
  for (const [i, t] of tenants.entries()) {
    const n = Math.floor(TOTAL / 3) + (i === 0 ? TOTAL % 3 : 0)
    await privateDb.db.query(
      `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, failure_code, expires_at, created_at, updated_at, finished_at, link_token_hash)
       SELECT $1, 'pi_bulk' || $4::text || 'x' || g, $2, $3, 100 + (g % 5000),
              CASE WHEN g % 10 = 0 THEN 'EUR' ELSE 'USD' END,
              CASE WHEN g % 7 = 0 THEN 'failed' WHEN g % 13 = 0 THEN 'pending' ELSE 'succeeded' END,
              CASE WHEN g % 7 = 0 THEN 'card_declined' END,
              at + interval '10 minutes', at, at, CASE WHEN g % 13 <> 0 OR g % 7 = 0 THEN at END,
              decode(md5($4::text || 'x' || g), 'hex')
         FROM generate_series(1, $5::int) AS g, LATERAL (SELECT $6::timestamptz - (g * ($7::float8 / $5::int)) * interval '1 millisecond' AS at) AS t`,
      [t.tenant.tenantId, t.userId, t.accountId, String(i), n, now, 365 * DAY],
    )
  }
  await privateDb.db.exec('ANALYZE payment_intents')
}, 300_000)
afterAll(async () => {
  await server?.close()
  await privateDb?.drop()
})

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] }
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)]

/** EXPLAINs the last statement named `name` the app ran, with its parameters: the scans of payment_intents and their indexes' definitions. */
async function planOf(name: string) {
  const ran = [...seen].reverse().find((s) => typeof s.stmt !== 'string' && s.stmt.name === name)
  expect(ran, `the app ran ${name}`).toBeDefined()
  const text = typeof ran!.stmt === 'string' ? ran!.stmt : ran!.stmt.text
  const [row] = await privateDb.db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, ran!.params)
  const raw = row!['QUERY PLAN']
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode }>
  const scans = nodes(plan[0]!.Plan).filter((n) => n['Relation Name'] === 'payment_intents' || (n['Index Name'] ?? '').startsWith('payment_intents'))
  const indexes = await privateDb.db.query<{ indexname: string; indexdef: string }>("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'payment_intents'")
  return { scans, defs: new Map(indexes.map((i) => [i.indexname, i.indexdef])), plan }
}

function expectTenantIndexOnly(found: Awaited<ReturnType<typeof planOf>>) {
  const { scans, defs, plan } = found
  const shown = JSON.stringify(plan)
  expect(scans.length, shown).toBeGreaterThan(0)
  expect(scans.filter((s) => s['Node Type'] === 'Seq Scan'), shown).toEqual([])
  const used = scans.flatMap((s) => (s['Index Name'] ? [s['Index Name']] : []))
  expect(used.length, shown).toBeGreaterThan(0)
  for (const name of used) expect(defs.get(name), name).toMatch(/USING btree \(tenant_id[,)]/)
  return used
}

describe('the at-a-glance figures and the first page read only the tenant’s rows', () => {
  it('holds 50,000 intents across three tenants', async () => {
    const [{ n }] = (await privateDb.db.query<{ n: number }>('SELECT count(*)::int AS n FROM payment_intents')) as [{ n: number }]
    expect(n).toBeGreaterThanOrEqual(TOTAL)
  })

  for (const granularity of ['hour', 'day'] as const) {
    it(`plans GET /v1/platform/payment-stats (${granularity}) through an index leading with tenant_id, without a Seq Scan`, async () => {
      const t = tenants[1]!
      const r = await t.api.get(`/v1/platform/payment-stats?currency=USD&granularity=${granularity}`)
      expect(r.status).toBe(200)
      // The figures are the tenant's own, as counted straight from the table.
      const from = r.body.data.from
      const [direct] = await privateDb.db.query<{ s: number; f: number }>(
        `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS s, count(*) FILTER (WHERE status = 'failed')::int AS f
           FROM payment_intents WHERE tenant_id = $1 AND currency = 'USD' AND created_at >= $2 AND created_at < $3`,
        [t.tenant.tenantId, from, r.body.data.to],
      )
      expect({ s: r.body.data.succeeded, f: r.body.data.failed }).toEqual(direct)
      expect(direct!.s).toBeGreaterThan(0)
      const used = expectTenantIndexOnly(await planOf('portal_payment_stats'))
      console.log(`[payment-stats-plan] stats (${granularity}) scans payment_intents by ${[...new Set(used)].join(', ')}`)
    })
  }

  it('plans the first page of GET /v1/platform/payment-intents, and with an amount range, through an index leading with tenant_id', async () => {
    const t = tenants[2]!
    for (const q of ['', '?currency=USD&amount_gte=10.00&amount_lte=20.00']) {
      const r = await t.api.get(`/v1/platform/payment-intents${q}`)
      expect(r.status).toBe(200)
      expect(r.body.data).toHaveLength(20)
      const used = expectTenantIndexOnly(await planOf('payment_intent_list'))
      console.log(`[payment-stats-plan] list${q} scans payment_intents by ${[...new Set(used)].join(', ')}`)
    }
  })
})
