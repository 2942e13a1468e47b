/**
 * SPEC "HTTP surface" (payment intents), "Links and payment intents", "Objects":
 * GET /v1/platform/payment-intents and GET /v1/platform/payment-intents/{id}.
 * One server for the file; every test works in its own tenant (setupPayer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addPayer, apiClient, expectFieldRefused, expectNotFoundAsMissing, getToken, mint, setupPayer, startServer, type Payer, type TestServer } from '../helpers/index.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

type Intent = { id: string; created_at: string; user_id: string; status: string }

/** Mints `n` intents a second apart on the server's clock, so their order is plain; oldest first. */
async function mintApart(p: Payer, n: number, userId = p.userId) {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    out.push((await mint({ ...p, userId }, { amount: `${i + 1}.00` })).intentId)
    server.clock.advance(1000)
  }
  return out
}

const listIds = (r: { body: { data: Intent[] } }) => r.body.data.map((i) => i.id)

/** A second user of the payer's tenant, enrolled in the payer's account. */
const secondUser = async (p: Payer) => (await addPayer(p, { name: 'Second' })).userId

describe('a payment intent has the fields of SPEC "Objects"', () => {
  it('shows a freshly minted intent as pending, with every field', async () => {
    const p = await setupPayer(server)
    const before = server.clock.now().getTime()
    const minted = await p.api.post('/v1/platform/card/payment-link', { user_id: p.userId, amount: 12.5 })
    const after = server.clock.now().getTime()
    const r = await p.api.get(`/v1/platform/payment-intents/${minted.body.data.payment_intent_id}`)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      success: true,
      data: {
        id: minted.body.data.payment_intent_id,
        object: 'payment_intent',
        user_id: p.userId,
        card_processing_id: p.accountId,
        amount: '12.50',
        amount_minor: 1250,
        currency: 'USD',
        status: 'pending',
        failure_code: null,
        failure_message: null,
        amount_refunded: '0.00',
        amount_refunded_minor: 0,
        processor_code: null,
        processor_message: null,
        card: null,
        saved_card_id: null,
        expires_at: minted.body.data.expires_at,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
      error: null,
      request_id: expect.stringMatching(/^req_/),
    })
    const intent = r.body.data
    expect(intent.id).toMatch(/^pi_[0-9a-z]{16,}$/)
    expect(intent.updated_at).toBe(intent.created_at)
    expect(Date.parse(intent.created_at)).toBeGreaterThanOrEqual(before)
    expect(Date.parse(intent.created_at)).toBeLessThanOrEqual(after)
    expect(new Date(Date.parse(intent.created_at)).toISOString()).toBe(intent.created_at)
    expect(Date.parse(intent.expires_at) - Date.parse(intent.created_at)).toBe(600_000)
  })

  it('keeps the amount in the currency’s own digits', async () => {
    const p = await setupPayer(server, { currencies: ['USD', 'EUR', 'JPY', 'KWD'] })
    const cases = [
      [{ amount: '0.5', currency: 'eur' }, { amount: '0.50', amount_minor: 50, currency: 'EUR' }],
      [{ amount: 1500, currency: 'JPY' }, { amount: '1500', amount_minor: 1500, currency: 'JPY' }],
      [{ amount: '1.234', currency: 'KWD' }, { amount: '1.234', amount_minor: 1234, currency: 'KWD' }],
    ] as const
    for (const [body, expected] of cases) {
      const id = (await mint(p, body)).intentId
      expect((await p.api.get(`/v1/platform/payment-intents/${id}`)).body.data).toMatchObject(expected)
    }
  })

  it('shows the same object in the listing as by id', async () => {
    const p = await setupPayer(server)
    const id = (await mint(p)).intentId
    const list = await p.api.get('/v1/platform/payment-intents')
    const one = await p.api.get(`/v1/platform/payment-intents/${id}`)
    expect(list.body.data).toEqual([one.body.data])
  })
})

describe('listing payment intents: newest first, cursor pagination', () => {
  it('lists newest first, in the envelope with pagination', async () => {
    const p = await setupPayer(server)
    const ids = await mintApart(p, 3)
    const r = await p.api.get('/v1/platform/payment-intents')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ success: true, data: expect.any(Array), error: null, pagination: { next_cursor: null, has_more: false }, request_id: expect.stringMatching(/^req_/) })
    expect(listIds(r)).toEqual([...ids].reverse())
  })

  it('walks every intent exactly once with limit 7, even when several share a creation time', async () => {
    const p = await setupPayer(server)
    const minted: string[] = []
    // Five groups of five intents, each group minted in one instant, a second between groups.
    for (let g = 0; g < 5; g++) {
      await server.clock.atOneInstant(async () => {
        for (let i = 0; i < 5; i++) minted.push((await mint(p, { amount: `${g * 5 + i + 1}.00` })).intentId)
      })
      server.clock.advance(1000)
    }
    const pages: Intent[][] = []
    const hasMore: boolean[] = []
    let cursor: string | null = null
    do {
      const r = await p.api.get(`/v1/platform/payment-intents?limit=7${cursor ? `&cursor=${cursor}` : ''}`)
      expect(r.status).toBe(200)
      pages.push(r.body.data)
      hasMore.push(r.body.pagination.has_more)
      cursor = r.body.pagination.next_cursor
      expect(cursor === null).toBe(!r.body.pagination.has_more)
    } while (cursor && pages.length < 10)
    expect(pages.map((pg) => pg.length)).toEqual([7, 7, 7, 4])
    expect(hasMore).toEqual([true, true, true, false])
    const seen = pages.flat()
    expect(seen.map((i) => i.id).sort()).toEqual([...minted].sort())
    // Newest first throughout: created_at never increases from one item to the next.
    for (let i = 1; i < seen.length; i++) expect(Date.parse(seen[i]!.created_at)).toBeLessThanOrEqual(Date.parse(seen[i - 1]!.created_at))
  })

  it('gives 20 intents a page by default', async () => {
    const p = await setupPayer(server)
    for (let i = 0; i < 21; i++) await mint(p)
    const r = await p.api.get('/v1/platform/payment-intents')
    expect(r.body.data).toHaveLength(20)
    expect(r.body.pagination.has_more).toBe(true)
    const rest = await p.api.get(`/v1/platform/payment-intents?cursor=${r.body.pagination.next_cursor}`)
    expect(rest.body.data).toHaveLength(1)
    expect(rest.body.pagination).toEqual({ next_cursor: null, has_more: false })
  })

  it.each(['0', '101', 'abc'])('refuses limit=%s with 422 naming limit', async (limit) => {
    const p = await setupPayer(server)
    const r = await p.api.get(`/v1/platform/payment-intents?limit=${limit}`)
    expect(r.status).toBe(422)
    expect(r.body.error.details).toEqual([{ field: 'limit', issue: expect.any(String) }])
  })

  it('refuses a cursor it did not give out with 422 naming cursor', async () => {
    const p = await setupPayer(server)
    for (const forged of ['xyz', Buffer.from('["0000-01-01T00:00:00.000Z","pi_x"]').toString('base64url'), Buffer.from('{"after":"pi_x"}').toString('base64url')]) {
      const r = await p.api.get(`/v1/platform/payment-intents?cursor=${forged}`)
      expect(r.status).toBe(422)
      expect(r.body.error.details).toEqual([{ field: 'cursor', issue: expect.any(String) }])
    }
  })
})

describe('listing payment intents: filters', () => {
  it('filters by user_id', async () => {
    const p = await setupPayer(server)
    const other = await secondUser(p)
    const mine = await mintApart(p, 2)
    const theirs = await mintApart(p, 1, other)
    expect(listIds(await p.api.get(`/v1/platform/payment-intents?user_id=${p.userId}`))).toEqual([...mine].reverse())
    expect(listIds(await p.api.get(`/v1/platform/payment-intents?user_id=${other}`))).toEqual(theirs)
    expect(listIds(await p.api.get('/v1/platform/payment-intents?user_id=usr_nobody000000000000000'))).toEqual([])
  })

  it('keeps a filter across pages when it is sent with the cursor', async () => {
    const p = await setupPayer(server)
    const other = await secondUser(p)
    const a1 = (await mint(p)).intentId
    server.clock.advance(1000)
    await mint({ ...p, userId: other })
    server.clock.advance(1000)
    const a2 = (await mint(p)).intentId
    const first = await p.api.get(`/v1/platform/payment-intents?user_id=${p.userId}&limit=1`)
    expect(listIds(first)).toEqual([a2])
    expect(first.body.pagination.has_more).toBe(true)
    const second = await p.api.get(`/v1/platform/payment-intents?user_id=${p.userId}&limit=1&cursor=${first.body.pagination.next_cursor}`)
    expect(listIds(second)).toEqual([a1])
    expect(second.body.pagination).toEqual({ next_cursor: null, has_more: false })
  })

  it('filters by status', async () => {
    const p = await setupPayer(server)
    const ids = await mintApart(p, 2)
    const pending = await p.api.get('/v1/platform/payment-intents?status=pending')
    expect(listIds(pending)).toEqual([...ids].reverse())
    for (const status of ['processing', 'succeeded', 'failed']) {
      const r = await p.api.get(`/v1/platform/payment-intents?status=${status}`)
      expect(r.status).toBe(200)
      expect(r.body.data).toEqual([])
    }
  })

  it('refuses an unknown status with 422 naming status', async () => {
    const p = await setupPayer(server)
    for (const status of ['bogus', 'PENDING', '']) {
      const r = await p.api.get(`/v1/platform/payment-intents?status=${status}`)
      expect(r.status).toBe(422)
      expect(r.body.error.details).toEqual([{ field: 'status', issue: expect.any(String) }])
    }
  })

  it('filters by creation time: created_gte is inclusive, created_lt exclusive', async () => {
    const p = await setupPayer(server)
    const [a, b, c] = await mintApart(p, 3)
    const created = async (id: string) => (await p.api.get(`/v1/platform/payment-intents/${id}`)).body.data.created_at as string
    const [ta, tb, tc] = [await created(a!), await created(b!), await created(c!)]
    const q = (query: string) => p.api.get(`/v1/platform/payment-intents?${query}`).then(listIds)
    expect(await q(`created_gte=${tb}`)).toEqual([c, b])
    expect(await q(`created_lt=${tb}`)).toEqual([a])
    expect(await q(`created_gte=${ta}&created_lt=${tc}`)).toEqual([b, a])
    expect(await q(`created_gte=${tc}&created_lt=${ta}`)).toEqual([])
    // The same instant written with another UTC offset means the same thing.
    const tbPlus2 = new Date(Date.parse(tb) + 2 * 3600_000).toISOString().replace('Z', '+02:00')
    expect(await q(`created_gte=${encodeURIComponent(tbPlus2)}`)).toEqual([c, b])
  })

  it.each([
    ['yesterday'],
    ['2024-01-01'],
    ['2024-01-01T00:00:00'],
    ['2024-13-01T00:00:00Z'],
    ['2024-02-30T00:00:00Z'],
    ['0000-01-01T00:00:00Z'],
    ['2024-01-01T00:00:00+23:00'],
  ])('refuses created_gte=%s with 422 naming the field', async (value) => {
    const p = await setupPayer(server)
    for (const field of ['created_gte', 'created_lt']) {
      const r = await p.api.get(`/v1/platform/payment-intents?${field}=${encodeURIComponent(value)}`)
      expect(r.status).toBe(422)
      expect(r.body.error.code).toBe('validation_error')
      expect(r.body.error.details).toEqual([{ field, issue: expect.any(String) }])
    }
  })

  it('refuses an unknown query parameter with 422 naming it', async () => {
    const p = await setupPayer(server)
    // `currency` is a filter now (with amount_gte / amount_lte); `amount` alone is not one.
    const r = await p.api.get('/v1/platform/payment-intents?amount=12.50')
    expectFieldRefused(r, 'amount')
  })
})

describe('another tenant’s payment intent is not_found, never forbidden', () => {
  it('answers 404 for another tenant’s intent, exactly as for one that never existed, and never lists it', async () => {
    const a = await setupPayer(server)
    const b = await setupPayer(server)
    const theirs = (await mint(a)).intentId
    const mine = (await mint(b)).intentId
    const foreign = await b.api.get(`/v1/platform/payment-intents/${theirs}`)
    const missing = await b.api.get('/v1/platform/payment-intents/pi_doesnotexist0000000000')
    expectNotFoundAsMissing(foreign, missing)
    expect(listIds(await b.api.get('/v1/platform/payment-intents'))).toEqual([mine])
    expect(listIds(await b.api.get(`/v1/platform/payment-intents?user_id=${a.userId}`))).toEqual([])
  })
})

describe('scopes', () => {
  it('reading payment intents needs payments:read', async () => {
    const p = await setupPayer(server)
    const id = (await mint(p)).intentId
    const usersOnly = apiClient(server, await getToken(server, p.tenant, { scope: 'users:read payments:write' }))
    const refused = await usersOnly.get(`/v1/platform/payment-intents/${id}`)
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('forbidden')
    expect((await usersOnly.get('/v1/platform/payment-intents')).status).toBe(403)
    const reader = apiClient(server, await getToken(server, p.tenant, { scope: 'payments:read' }))
    expect((await reader.get(`/v1/platform/payment-intents/${id}`)).status).toBe(200)
  })
})
