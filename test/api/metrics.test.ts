/**
 * Operations through HTTP: GET /metrics in the Prometheus text format, its counters and
 * histograms moving with what the service does (a mint, a confirmation of each outcome, a
 * webhook retried then delivered, a webhook refused with 410), GET /healthz and GET /readyz.
 * Issue 5 item 5; SPEC "HTTP surface" (operations).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, openTestDb, pay, setupPayer, startPrivateServer, startReceiver, startServer, type Receiver, type TestServer } from '../helpers/index.js'

let server: TestServer
const receivers: Receiver[] = []
beforeAll(async () => {
  // A database of its own: the worker's tick must deliver only this file's webhooks.
  server = await startPrivateServer({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true' })
})
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()))
  await server?.close()
})

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** GET /metrics, parsed: every sample, and each family's TYPE. */
async function scrape() {
  const res = await fetch(`${server.baseUrl}/metrics`)
  const text = await res.text()
  const samples: Sample[] = []
  const types = new Map<string, string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) types.set(type[1]!, type[2]!)
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]))
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  /** The sum of `name`'s samples carrying every label given (0 when there is none yet). */
  const value = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0)
  return { res, text, samples, types, value }
}

describe('GET /metrics answers in the Prometheus text format', () => {
  it('declares the counters and histograms for minting, confirmations, webhooks and HTTP latency', async () => {
    const { res, types } = await scrape()
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(Object.fromEntries(types)).toMatchObject({
      paylink_payment_links_minted_total: 'counter',
      paylink_confirmations_total: 'counter',
      paylink_webhook_attempts_total: 'counter',
      paylink_webhook_delivery_lag_seconds: 'histogram',
      paylink_http_request_duration_seconds: 'histogram',
    })
  })
})

describe('minting a link counts paylink_payment_links_minted_total and times the request', () => {
  it('counts a new link as created and its idempotent replay as replayed', async () => {
    const payer = await setupPayer(server)
    const route = { method: 'POST', route: '/v1/platform/card/payment-link', status_code: '201' }
    const before = await scrape()
    const body = { user_id: payer.userId, amount: '4.20' }
    const first = await payer.api.post('/v1/platform/card/payment-link', body, { headers: { 'idempotency-key': 'metrics-1' } })
    const again = await payer.api.post('/v1/platform/card/payment-link', body, { headers: { 'idempotency-key': 'metrics-1' } })
    expect(again.body.data).toEqual(first.body.data)
    const after = await scrape()

    expect(after.value('paylink_payment_links_minted_total', { result: 'created' }) - before.value('paylink_payment_links_minted_total', { result: 'created' })).toBe(1)
    expect(after.value('paylink_payment_links_minted_total', { result: 'replayed' }) - before.value('paylink_payment_links_minted_total', { result: 'replayed' })).toBe(1)
    expect(after.value('paylink_http_request_duration_seconds_count', route) - before.value('paylink_http_request_duration_seconds_count', route)).toBe(2)
    expect(after.value('paylink_http_request_duration_seconds_sum', route)).toBeGreaterThan(before.value('paylink_http_request_duration_seconds_sum', route))
    // A histogram: cumulative buckets ending in +Inf, which equals the count.
    expect(after.value('paylink_http_request_duration_seconds_bucket', { ...route, le: '+Inf' })).toBe(after.value('paylink_http_request_duration_seconds_count', route))
  })
})

describe('confirmations are counted by outcome', () => {
  it('adds one to outcome="succeeded" for a paid link and one to outcome="failed" for a declined card', async () => {
    const payer = await setupPayer(server)
    const before = await scrape()
    expect((await pay(payer, CARDS.visa, { amount: '9.99' })).answer.status).toBe('succeeded')
    const middle = await scrape()
    expect((await pay(payer, CARDS.declined, { amount: '9.99' })).answer.status).toBe('failed')
    const after = await scrape()

    const confirmations = (s: typeof before, outcome: string) => s.value('paylink_confirmations_total', { outcome })
    expect([confirmations(middle, 'succeeded') - confirmations(before, 'succeeded'), confirmations(middle, 'failed') - confirmations(before, 'failed')]).toEqual([1, 0])
    expect([confirmations(after, 'succeeded') - confirmations(middle, 'succeeded'), confirmations(after, 'failed') - confirmations(middle, 'failed')]).toEqual([0, 1])
  })

  it('labels the HTTP latency of /pay calls with the route pattern, never the link token', async () => {
    const payer = await setupPayer(server)
    const { payUrl } = await pay(payer, CARDS.visa, { amount: '9.99' })
    const { text, value } = await scrape()
    expect(text).not.toContain(new URL(payUrl).pathname.split('/')[2]!)
    expect(value('paylink_http_request_duration_seconds_count', { method: 'POST', route: '/pay/:token/confirm', status_code: '200' })).toBeGreaterThanOrEqual(1)
  })
})

describe('webhook attempts are counted by result, and a delivery observes its lag from the event', () => {
  it('counts a 500 as retry, a 410 as failed and the delivered retry as succeeded, with a lag of about the retry delay', async () => {
    const flaky = await startReceiver()
    const gone = await startReceiver()
    receivers.push(flaky, gone)
    flaky.plan(500)
    gone.respond(410)
    const payer = await setupPayer(server)
    for (const r of [flaky, gone]) {
      const endpoint = await payer.api.post('/v1/platform/webhook-endpoints', { url: r.url })
      expect(endpoint.status).toBe(201)
      r.secrets.push(endpoint.body.data.secret)
    }
    const attempts = (s: Awaited<ReturnType<typeof scrape>>, result: string) => s.value('paylink_webhook_attempts_total', { result })

    const before = await scrape()
    await pay(payer, CARDS.visa, { amount: '9.99' })
    await server.services.background.tick()
    const first = await scrape()
    expect(['retry', 'failed', 'succeeded'].map((r) => attempts(first, r) - attempts(before, r))).toEqual([1, 1, 0])
    expect(first.value('paylink_webhook_delivery_lag_seconds_count')).toBe(before.value('paylink_webhook_delivery_lag_seconds_count'))

    // The retry is due after 5 s (±20%): ten seconds later the worker delivers it.
    server.clock.advance(10_000)
    await server.services.background.tick()
    const second = await scrape()
    expect(flaky.received.map((d) => d.verified)).toEqual([true, true])
    expect(gone.received.map((d) => d.verified)).toEqual([true])
    expect(['retry', 'failed', 'succeeded'].map((r) => attempts(second, r) - attempts(first, r))).toEqual([0, 0, 1])
    const lag = (s: Awaited<ReturnType<typeof scrape>>, labels: Record<string, string> = {}) => ({
      count: s.value('paylink_webhook_delivery_lag_seconds_count', labels),
      sum: s.value('paylink_webhook_delivery_lag_seconds_sum', labels),
      within5s: s.value('paylink_webhook_delivery_lag_seconds_bucket', { le: '5' }),
      within30s: s.value('paylink_webhook_delivery_lag_seconds_bucket', { le: '30' }),
    })
    const [was, now] = [lag(first), lag(second)]
    expect(now.count - was.count).toBe(1)
    // Observed in seconds: at least the 10 s the clock moved, well under 30 s.
    expect(now.sum - was.sum).toBeGreaterThanOrEqual(10)
    expect(now.sum - was.sum).toBeLessThan(30)
    expect([now.within5s - was.within5s, now.within30s - was.within30s]).toEqual([0, 1])
  })
})

describe('GET /healthz: the process answers', () => {
  it('answers 200 with {status: "ok"} in the envelope, under the X-Request-Id', async () => {
    const res = await fetch(`${server.baseUrl}/healthz`)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).toEqual({ success: true, data: { status: 'ok' }, error: null, request_id: res.headers.get('x-request-id') })
    expect(body.request_id).toMatch(/^req_/)
  })
})

describe('GET /readyz: the database answers and every migration is applied', () => {
  it('answers 200 with database ok and migrations applied', async () => {
    const res = await fetch(`${server.baseUrl}/readyz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ success: true, data: { status: 'ready', database: 'ok', migrations: 'applied' }, error: null, request_id: res.headers.get('x-request-id') })
  })

  it('answers 503 service_unavailable naming a migration that is not applied', async () => {
    const [latest] = await server.db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1')
    await server.db.query('DELETE FROM schema_migrations WHERE version = $1', [latest!.version])
    try {
      const res = await fetch(`${server.baseUrl}/readyz`)
      expect(res.status).toBe(503)
      const body = await res.json()
      expect(body).toMatchObject({ success: false, data: null, error: { code: 'service_unavailable' } })
      expect(body.error.message).toContain(String(latest!.version))
    } finally {
      await server.db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [latest!.version, latest!.name])
    }
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200)
  })

  it('answers 503 service_unavailable when the database does not answer', async () => {
    const db = await openTestDb()
    const other = await startServer({}, { db })
    try {
      await db.close()
      const res = await fetch(`${other.baseUrl}/readyz`)
      expect(res.status).toBe(503)
      expect(await res.json()).toMatchObject({ success: false, data: null, error: { code: 'service_unavailable' } })
      // Liveness does not depend on the database.
      expect((await fetch(`${other.baseUrl}/healthz`)).status).toBe(200)
    } finally {
      await other.close()
    }
  })
})
