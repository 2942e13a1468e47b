/**
 * What the tenant portal's screens read (issue 14 items 2 and 5), as API routes:
 * - GET /v1/platform/payment-stats: final payments per UTC hour (48) or day (30), by the
 *   hour of their created_at, every bucket present; seeded by real payments through the
 *   sandbox at known hours of the injected clock;
 * - GET /v1/platform/payment-intents/{id}/timeline: what happened to a payment, in order;
 * - GET /v1/platform/payment-intents?currency=…&amount_gte=…&amount_lte=…: the amount range.
 * The clock only moves forward here, so the file has its own server; each test its own tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CARDS,
  DAY,
  HOUR,
  MINUTE,
  SECOND,
  answerChallenge,
  claimPage,
  confirm,
  expectFieldRefused,
  expectNotFoundAsMissing,
  mint,
  newCard,
  pay,
  setupClockedPayer,
  setupPayer,
  startServer,
  type TestServer,
} from '../helpers/index.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

type Bucket = { start: string; succeeded: number; failed: number; amount_collected: string }

/** Moves the clock to `minutes` past the start of the next hour; answers that hour's start (ms). */
function toNextHour(minutes: number): number {
  const now = server.clock.now().getTime()
  const start = Math.floor(now / HOUR) * HOUR + HOUR
  server.clock.advance(start + minutes * MINUTE - now)
  return start
}

describe('GET /v1/platform/payment-stats counts final payments by the hour or day they were made', () => {
  it('puts succeeded and failed payments in their hours, sums what succeeded, and gives the success rate', async () => {
    const p = await setupClockedPayer(server, { currencies: ['USD', 'EUR'] })
    const h0 = toNextHour(5)
    await pay(p, CARDS.visa, { amount: '12.50' })
    await pay(p, CARDS.mastercard, { amount: '7.25' })
    await pay(p, CARDS.declined, { amount: '3.00' })
    await pay(p, CARDS.visa, { amount: '40.00', currency: 'EUR' })
    server.clock.advance(2 * HOUR)
    const h2 = h0 + 2 * HOUR
    await pay(p, CARDS.visa, { amount: '100' })
    await pay(p, CARDS.insufficientFunds, { amount: '1.00' })
    server.clock.advance(20 * MINUTE)
    // Still waiting for the payer: not counted.
    await mint(p, { amount: '55.00' })

    const r = await p.api.get('/v1/platform/payment-stats?currency=usd&granularity=hour')
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    const stats = r.body.data
    expect(stats).toMatchObject({ currency: 'USD', granularity: 'hour', succeeded: 3, failed: 2, amount_collected: '119.75', success_rate: 0.6 })
    expect(stats.buckets).toHaveLength(48)
    expect(stats.from).toBe(new Date(h2 - 47 * HOUR).toISOString())
    expect(stats.to).toBe(new Date(h2 + HOUR).toISOString())
    expect(stats.buckets.map((b: Bucket) => b.start)).toEqual(Array.from({ length: 48 }, (_, i) => new Date(h2 - (47 - i) * HOUR).toISOString()))
    const at = (t: number) => stats.buckets.find((b: Bucket) => b.start === new Date(t).toISOString())
    expect(at(h0)).toEqual({ start: new Date(h0).toISOString(), succeeded: 2, failed: 1, amount_collected: '19.75' })
    expect(at(h0 + HOUR)).toEqual({ start: new Date(h0 + HOUR).toISOString(), succeeded: 0, failed: 0, amount_collected: '0.00' })
    expect(at(h2)).toEqual({ start: new Date(h2).toISOString(), succeeded: 1, failed: 1, amount_collected: '100.00' })
    expect(stats.buckets.filter((b: Bucket) => b.succeeded + b.failed > 0)).toHaveLength(2)

    const eur = (await p.api.get('/v1/platform/payment-stats?currency=EUR')).body.data
    expect(eur).toMatchObject({ currency: 'EUR', granularity: 'hour', succeeded: 1, failed: 0, amount_collected: '40.00', success_rate: 1 })

    // By day: 30 UTC days ending today; the hours above fall in one day or two.
    const days = (await p.api.get('/v1/platform/payment-stats?currency=USD&granularity=day')).body.data
    const today = Math.floor(h2 / DAY) * DAY
    expect(days.buckets).toHaveLength(30)
    expect(days.buckets[29].start).toBe(new Date(today).toISOString())
    expect(days.buckets[0].start).toBe(new Date(today - 29 * DAY).toISOString())
    expect(days.to).toBe(new Date(today + DAY).toISOString())
    const dayOf = (t: number) => new Date(Math.floor(t / DAY) * DAY).toISOString()
    const expected = new Map<string, { succeeded: number; failed: number; minor: number }>()
    for (const [t, s, f, minor] of [
      [h0, 2, 1, 1975],
      [h2, 1, 1, 10000],
    ] as const) {
      const e = expected.get(dayOf(t)) ?? { succeeded: 0, failed: 0, minor: 0 }
      expected.set(dayOf(t), { succeeded: e.succeeded + s, failed: e.failed + f, minor: e.minor + minor })
    }
    for (const b of days.buckets as Bucket[]) {
      const e = expected.get(b.start) ?? { succeeded: 0, failed: 0, minor: 0 }
      expect(b, b.start).toEqual({ start: b.start, succeeded: e.succeeded, failed: e.failed, amount_collected: (e.minor / 100).toFixed(2) })
    }
    expect(days).toMatchObject({ succeeded: 3, failed: 2, amount_collected: '119.75', success_rate: 0.6 })
  })

  it('answers every bucket with zeros and a null rate for a tenant with no payments, in the currency’s digits', async () => {
    const p = await setupPayer(server)
    const r = await p.api.get('/v1/platform/payment-stats?currency=JPY&granularity=day')
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ currency: 'JPY', succeeded: 0, failed: 0, amount_collected: '0', success_rate: null })
    expect(r.body.data.buckets).toHaveLength(30)
    expect(r.body.data.buckets.every((b: Bucket) => b.succeeded === 0 && b.failed === 0 && b.amount_collected === '0')).toBe(true)
  })

  it('needs a currency and a known granularity (422), and the payments:read scope', async () => {
    const p = await setupPayer(server)
    expect((await p.api.get('/v1/platform/payment-stats')).status).toBe(422)
    expectFieldRefused(await p.api.get('/v1/platform/payment-stats?currency=XXX'), 'currency', 'must be a current ISO 4217 currency code, such as USD')
    expect((await p.api.get('/v1/platform/payment-stats?currency=USD&granularity=week')).status).toBe(422)
    expectFieldRefused(await p.api.get('/v1/platform/payment-stats?currency=USD&tenant_id=ten_x'), 'tenant_id')
  })
})

describe('GET /v1/platform/payment-intents/{id}/timeline tells what happened, in order', () => {
  it('a 3-D Secure payment, refunded in part: minted, opened, confirmed, 3-D Secure, succeeded, its event, the refund and its event', async () => {
    const p = await setupClockedPayer(server)
    const link = await mint(p, { amount: '20.00' })
    const t0 = server.clock.now().getTime()
    server.clock.advance(SECOND)
    const { session } = await claimPage(link.payUrl)
    server.clock.advance(SECOND)
    const asked = await confirm(link.payUrl, session, { card: newCard(CARDS.challenge) })
    expect(asked.body.data.status).toBe('requires_authentication')
    server.clock.advance(SECOND)
    expect((await answerChallenge(link.payUrl, session, 'approve')).body.data.status).toBe('succeeded')
    server.clock.advance(SECOND)
    const refund = await p.api.post(`/v1/platform/payment-intents/${link.intentId}/refunds`, { amount: '5.00' })
    expect(refund.body.data.status).toBe('succeeded')
    const events = (await p.api.get(`/v1/platform/events?payment_intent_id=${link.intentId}`)).body.data as Array<{ id: string; type: string }>
    const intent = (await p.api.get(`/v1/platform/payment-intents/${link.intentId}`)).body.data
    expect(Date.parse(intent.created_at)).toBeGreaterThanOrEqual(t0 - SECOND)

    const r = await p.api.get(`/v1/platform/payment-intents/${link.intentId}/timeline`)
    expect(r.status).toBe(200)
    const items = r.body.data.items as Array<Record<string, unknown>>
    const eventOf = (type: string) => ({ at: expect.any(String), kind: 'event', event_id: events.find((e) => e.type === type)!.id, type })
    expect(items).toEqual([
      { at: intent.created_at, kind: 'minted' },
      { at: expect.any(String), kind: 'page_opened' },
      { at: expect.any(String), kind: 'confirmed' },
      { at: expect.any(String), kind: 'action_required' },
      { at: expect.any(String), kind: 'succeeded' },
      eventOf('payment_intent.succeeded'),
      { at: expect.any(String), kind: 'refund_created', refund_id: refund.body.data.id, amount: '5.00' },
      { at: expect.any(String), kind: 'refund_succeeded', refund_id: refund.body.data.id, amount: '5.00' },
      eventOf('refund.succeeded'),
    ])
    const times = items.map((i) => Date.parse(i.at as string))
    expect(times).toEqual([...times].sort((a, b) => a - b))
    // A second apart each: the page opened a second after minting, the confirmation a second later, and so on.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(SECOND)
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(SECOND)
    expect(times[4]! - times[3]!).toBeGreaterThanOrEqual(SECOND)
    expect(times[6]! - times[4]!).toBeGreaterThanOrEqual(SECOND)
  })

  it('a declined payment shows its failure_code; a refund that fails shows refund_failed', async () => {
    const p = await setupPayer(server)
    const declined = await pay(p, CARDS.declined)
    const kinds = (await p.api.get(`/v1/platform/payment-intents/${declined.intentId}/timeline`)).body.data.items
    expect(kinds.map((i: { kind: string }) => i.kind)).toEqual(['minted', 'page_opened', 'confirmed', 'failed', 'event'])
    expect(kinds[3]).toEqual({ at: expect.any(String), kind: 'failed', failure_code: 'card_declined' })
    expect(kinds[4]).toMatchObject({ type: 'payment_intent.failed' })

    const paid = await pay(p, CARDS.refundFails)
    const refund = await p.api.post(`/v1/platform/payment-intents/${paid.intentId}/refunds`, {})
    expect(refund.body.data.status).toBe('failed')
    const items = (await p.api.get(`/v1/platform/payment-intents/${paid.intentId}/timeline`)).body.data.items
    expect(items.find((i: { kind: string }) => i.kind === 'refund_failed')).toEqual({
      at: expect.any(String),
      kind: 'refund_failed',
      refund_id: refund.body.data.id,
      amount: '12.50',
      failure_code: refund.body.data.failure_code,
    })
    expect(items.filter((i: { type?: string }) => i.type === 'refund.failed')).toHaveLength(1)
  })

  it('a link never paid expires: minted, then expired (link_expired) at its expiry', async () => {
    const p = await setupClockedPayer(server)
    const link = await mint(p)
    server.clock.advance(11 * MINUTE)
    const items = (await p.api.get(`/v1/platform/payment-intents/${link.intentId}/timeline`)).body.data.items
    expect(items.map((i: { kind: string }) => i.kind)).toEqual(['minted', 'expired', 'event'])
    expect(items[1]).toMatchObject({ failure_code: 'link_expired' })
    expect(Date.parse(items[1].at)).toBeGreaterThanOrEqual(Date.parse(link.expiresAt))
  })

  it('is not_found for another tenant’s payment, as for one that never existed', async () => {
    const a = await setupPayer(server)
    const paid = await pay(a)
    const b = await setupPayer(server)
    expectNotFoundAsMissing(
      await b.api.get(`/v1/platform/payment-intents/${paid.intentId}/timeline`),
      await b.api.get('/v1/platform/payment-intents/pi_00000000000000000000000000/timeline'),
    )
  })
})

describe('GET /v1/platform/payment-intents filters by amount in one currency', () => {
  it('keeps intents whose amount is within the range, both ends included, compared exactly', async () => {
    const p = await setupPayer(server, { currencies: ['USD', 'EUR', 'KWD'] })
    const ids: Record<string, string> = {}
    for (const [amount, currency] of [
      ['9.99', 'USD'],
      ['10.00', 'USD'],
      ['10.01', 'USD'],
      ['25.50', 'USD'],
      ['10.00', 'EUR'],
      ['10.005', 'KWD'],
    ] as const) {
      ids[`${amount} ${currency}`] = (await mint(p, { amount, currency })).intentId
    }
    const list = async (q: string) => {
      const r = await p.api.get(`/v1/platform/payment-intents?${q}`)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      return (r.body.data as Array<{ id: string }>).map((i) => i.id).sort()
    }
    const idsOf = (...keys: string[]) => keys.map((k) => ids[k]!).sort()
    expect(await list('currency=USD&amount_gte=10&amount_lte=25.5')).toEqual(idsOf('10.00 USD', '10.01 USD', '25.50 USD'))
    expect(await list('currency=usd&amount_gte=10.01')).toEqual(idsOf('10.01 USD', '25.50 USD'))
    expect(await list('currency=USD&amount_lte=10.00')).toEqual(idsOf('9.99 USD', '10.00 USD'))
    expect(await list('currency=USD&amount_gte=0')).toEqual(idsOf('9.99 USD', '10.00 USD', '10.01 USD', '25.50 USD'))
    expect(await list('currency=EUR')).toEqual(idsOf('10.00 EUR'))
    expect(await list('currency=KWD&amount_gte=10.005&amount_lte=10.005')).toEqual(idsOf('10.005 KWD'))
    expect(await list('currency=USD&amount_gte=30')).toEqual([])
  })

  it('needs currency with an amount, and an amount in that currency’s digits (422)', async () => {
    const p = await setupPayer(server)
    expectFieldRefused(await p.api.get('/v1/platform/payment-intents?amount_gte=10'), 'currency', 'is required with amount_gte (amounts are compared in one currency)')
    expectFieldRefused(await p.api.get('/v1/platform/payment-intents?currency=USD&amount_lte=1.001'), 'amount_lte', 'has more fraction digits than the currency allows')
    expectFieldRefused(await p.api.get('/v1/platform/payment-intents?currency=USD&amount_gte=ten'), 'amount_gte', 'must be a decimal number of major units, such as 12.50')
    const long = await p.api.get('/v1/platform/payment-intents?currency=usdx')
    expect(long.status).toBe(422)
    expect(long.body.error.details[0].field).toBe('currency')
  })
})
