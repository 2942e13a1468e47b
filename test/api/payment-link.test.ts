/**
 * POST /v1/platform/card/payment-link — the seed endpoint — through real HTTP, on the
 * database of this run. One server for the file; every test makes its own tenant.
 * SPEC sections: "Money", "Choosing the card-processing account", "Links and payment
 * intents", "The envelope"; issue 2 item 6.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiClient, getToken, setupPayer, startServer, tokenOf, type Api, type ApiResponse, type TestServer } from '../helpers/index.js'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'

const LINK = '/v1/platform/card/payment-link'
const DAY_MS = 24 * 60 * 60 * 1000

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

/** A second server in this file, on the run's database (one encryption key serves the whole run). */
const startSecondServer = (env: Record<string, string>): Promise<TestServer> => startServer(env)

const sha256 = (s: string) => createHash('sha256').update(s).digest()

/** The error a client sees: status, stable code, and (when given) the field named in details. */
function expectError(res: ApiResponse, status: number, code: string, field?: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status)
  expect(res.body).toMatchObject({ success: false, data: null, error: { code } })
  expect(res.body.request_id).toMatch(/^req_/)
  if (field !== undefined) expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field)
}

const intentsOf = async (api: Api, userId: string) => {
  const list = await api.get(`/v1/platform/payment-intents?user_id=${userId}&limit=100`)
  expect(list.status).toBe(200)
  return list.body.data as { id: string; status: string; amount: string; amount_minor: number; currency: string; card_processing_id: string }[]
}

/** A second user of the same tenant, enrolled in the given accounts in that order. */
async function newUser(api: Api, enrolIn: string[] = []) {
  const user = await api.post('/v1/platform/users', { name: 'Another payer' })
  expect(user.status).toBe(201)
  for (const accountId of enrolIn) {
    const r = await api.post(`/v1/platform/card-processing/users/${user.body.data.id}`, { card_processing_id: accountId })
    expect(r.status).toBe(201)
  }
  return user.body.data.id as string
}

describe('a link is minted: 201 with exactly the seed fields', () => {
  it('answers 201 in the envelope with payment_intent_id, pay_url and expires_at and nothing else', async () => {
    const { api, userId } = await setupPayer(server)
    const res = await api.post(LINK, { user_id: userId, amount: 12.5 })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ success: true, error: null })
    expect(res.body.request_id).toMatch(/^req_/)
    expect(Object.keys(res.body.data).sort()).toEqual(['expires_at', 'pay_url', 'payment_intent_id'])
    expect(res.body.data.payment_intent_id).toMatch(/^pi_[0-9a-z]+$/)
    expect(res.headers.get('idempotent-replayed')).toBeNull()
  })

  it('pay_url is PUBLIC_BASE_URL + /pay/ + a 43-character base64url token, and nothing else', async () => {
    const { api, userId, accountId } = await setupPayer(server)
    const a = await api.post(LINK, { user_id: userId, amount: '12.50' })
    const b = await api.post(LINK, { user_id: userId, amount: '12.50' })
    for (const res of [a, b]) {
      const url: string = res.body.data.pay_url
      expect(url).toMatch(new RegExp(`^${server.config.publicBaseUrl}/pay/[A-Za-z0-9_-]{43}$`))
      const parsed = new URL(url)
      expect(parsed.search).toBe('')
      expect(parsed.hash).toBe('')
      expect(Buffer.from(tokenOf(url), 'base64url')).toHaveLength(32)
      for (const leak of [accountId, userId, res.body.data.payment_intent_id]) expect(url).not.toContain(leak)
    }
    expect(tokenOf(a.body.data.pay_url)).not.toBe(tokenOf(b.body.data.pay_url))
  })

  it('expires_at is now + 600 seconds by default', async () => {
    const { api, userId } = await setupPayer(server)
    const before = server.clock.now().getTime()
    const res = await api.post(LINK, { user_id: userId, amount: 1 })
    const after = server.clock.now().getTime()
    const expiresAt = Date.parse(res.body.data.expires_at)
    expect(res.body.data.expires_at).toBe(new Date(expiresAt).toISOString())
    expect(expiresAt).toBeGreaterThanOrEqual(before + 600_000)
    expect(expiresAt).toBeLessThanOrEqual(after + 600_000)
  })

  it('expires_at follows LINK_TTL_SECONDS (120 s on a server started with it)', async () => {
    const short = await startSecondServer({ LINK_TTL_SECONDS: '120' })
    try {
      const { api, userId } = await setupPayer(short)
      const before = short.clock.now().getTime()
      const res = await api.post(LINK, { user_id: userId, amount: 1 })
      const after = short.clock.now().getTime()
      expect(res.status).toBe(201)
      expect(res.body.data.pay_url.startsWith(`${short.config.publicBaseUrl}/pay/`)).toBe(true)
      const expiresAt = Date.parse(res.body.data.expires_at)
      expect(expiresAt).toBeGreaterThanOrEqual(before + 120_000)
      expect(expiresAt).toBeLessThanOrEqual(after + 120_000)
      const intent = await api.get(`/v1/platform/payment-intents/${res.body.data.payment_intent_id}`)
      expect(intent.body.data.expires_at).toBe(res.body.data.expires_at)
    } finally {
      await short.close()
    }
  })
})

describe('the payment intent is recorded at once as pending', () => {
  it('is readable at GET /v1/platform/payment-intents/{id} with the amount, currency, user and account', async () => {
    const { api, userId, accountId } = await setupPayer(server)
    const minted = await api.post(LINK, { user_id: userId, amount: '19.99', currency: 'EUR' })
    expect(minted.status).toBe(201)
    const res = await api.get(`/v1/platform/payment-intents/${minted.body.data.payment_intent_id}`)
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({
      id: minted.body.data.payment_intent_id,
      object: 'payment_intent',
      status: 'pending',
      user_id: userId,
      card_processing_id: accountId,
      amount: '19.99',
      amount_minor: 1999,
      currency: 'EUR',
      failure_code: null,
      card: null,
      expires_at: minted.body.data.expires_at,
    })
  })

  it('shows up in the listing of the user’s payment intents', async () => {
    const { api, userId } = await setupPayer(server)
    const minted = await api.post(LINK, { user_id: userId, amount: 3 })
    expect((await intentsOf(api, userId)).map((i) => [i.id, i.status])).toEqual([[minted.body.data.payment_intent_id, 'pending']])
  })
})

describe('amount: a JSON number or a decimal string of major units, parsed exactly', () => {
  let api: Api
  let userId: string
  beforeAll(async () => {
    ;({ api, userId } = await setupPayer(server, { currencies: ['USD', 'EUR', 'JPY', 'KWD'] }))
  })

  const mintAndRead = async (body: Record<string, unknown>) => {
    const minted = await api.post(LINK, { user_id: userId, ...body })
    expect(minted.status, JSON.stringify(minted.body)).toBe(201)
    return (await api.get(`/v1/platform/payment-intents/${minted.body.data.payment_intent_id}`)).body.data
  }

  it('accepts a number and a decimal string alike: 12.5 and "12.50" are both 1250 cents', async () => {
    expect(await mintAndRead({ amount: 12.5 })).toMatchObject({ amount: '12.50', amount_minor: 1250, currency: 'USD' })
    expect(await mintAndRead({ amount: '12.50' })).toMatchObject({ amount: '12.50', amount_minor: 1250, currency: 'USD' })
    expect(await mintAndRead({ amount: '7' })).toMatchObject({ amount: '7.00', amount_minor: 700 })
  })

  it('uses the currency’s own minor unit: JPY has none, KWD has three', async () => {
    expect(await mintAndRead({ amount: 1500, currency: 'JPY' })).toMatchObject({ amount: '1500', amount_minor: 1500, currency: 'JPY' })
    expect(await mintAndRead({ amount: '1.005', currency: 'KWD' })).toMatchObject({ amount: '1.005', amount_minor: 1005, currency: 'KWD' })
    expect(await mintAndRead({ amount: 1.005, currency: 'KWD' })).toMatchObject({ amount: '1.005', amount_minor: 1005 })
  })

  it('never rounds through a float: 0.29, 19.99 and 4.35 USD are exactly 29, 1999 and 435 cents', async () => {
    expect(await mintAndRead({ amount: 0.29 })).toMatchObject({ amount: '0.29', amount_minor: 29 })
    expect(await mintAndRead({ amount: 19.99 })).toMatchObject({ amount: '19.99', amount_minor: 1999 })
    expect(await mintAndRead({ amount: 4.35 })).toMatchObject({ amount: '4.35', amount_minor: 435 })
  })

  it.each([
    ['USD 12.345', { amount: 12.345 }],
    ['USD "12.345"', { amount: '12.345' }],
    ['JPY 1.5', { amount: 1.5, currency: 'JPY' }],
    ['KWD "1.0005"', { amount: '1.0005', currency: 'KWD' }],
    ['USD 0.1 + 0.2', { amount: 0.1 + 0.2 }],
  ])('refuses more fraction digits than the currency has (%s) with 422 naming amount', async (_, body) => {
    expectError(await api.post(LINK, { user_id: userId, ...body }), 422, 'validation_error', 'amount')
  })

  it('judges a number literal on what the client wrote: 12.300000000000000001 is refused, not rounded to 12.30', async () => {
    const res = await api.post(LINK, undefined, { raw: `{"user_id":"${userId}","amount":12.300000000000000001}` })
    expectError(res, 422, 'validation_error', 'amount')
  })

  it.each([
    ['0', 0],
    ['"0.00"', '0.00'],
    ['-5', -5],
    ['"-1.00"', '-1.00'],
  ])('refuses an amount that is not greater than 0 (%s) with 422 naming amount', async (_, amount) => {
    const res = await api.post(LINK, { user_id: userId, amount })
    expectError(res, 422, 'validation_error', 'amount')
    expect(res.body.error.details).toContainEqual({ field: 'amount', issue: 'must be greater than 0' })
  })

  it.each([
    ['"abc"', 'abc'],
    ['true (never coerced to 1)', true],
    ['null', null],
    ['"1e3"', '1e3'],
    ['an object', { value: 12 }],
    ['an array', [12]],
  ])('refuses an amount that is not a decimal (%s) with 422 naming amount', async (_, amount) => {
    expectError(await api.post(LINK, { user_id: userId, amount }), 422, 'validation_error', 'amount')
  })

  it('requires an amount', async () => {
    expectError(await api.post(LINK, { user_id: userId }), 422, 'validation_error', 'amount')
  })

  it('accepts up to 999,999,999.99 USD and refuses anything larger', async () => {
    expect(await mintAndRead({ amount: '999999999.99' })).toMatchObject({ amount: '999999999.99', amount_minor: 99_999_999_999 })
    expectError(await api.post(LINK, { user_id: userId, amount: 1_000_000_000 }), 422, 'validation_error', 'amount')
    expectError(await api.post(LINK, { user_id: userId, amount: '1000000000.00' }), 422, 'validation_error', 'amount')
    expectError(await api.post(LINK, undefined, { raw: `{"user_id":"${userId}","amount":1e400}` }), 422, 'validation_error', 'amount')
  })

  it('creates no payment intent when it refuses an amount', async () => {
    const fresh = await newUser(api)
    await api.post(LINK, { user_id: fresh, amount: 0 })
    await api.post(LINK, { user_id: fresh, amount: 12.345 })
    expect(await intentsOf(api, fresh)).toEqual([])
  })
})

describe('currency: ISO 4217, any case, default USD', () => {
  it('defaults to USD', async () => {
    const { api, userId } = await setupPayer(server)
    const minted = await api.post(LINK, { user_id: userId, amount: 5 })
    expect((await api.get(`/v1/platform/payment-intents/${minted.body.data.payment_intent_id}`)).body.data.currency).toBe('USD')
  })

  it('accepts lower case and stores the code upper case', async () => {
    const { api, userId } = await setupPayer(server)
    const minted = await api.post(LINK, { user_id: userId, amount: 5, currency: 'eur' })
    expect(minted.status).toBe(201)
    expect((await api.get(`/v1/platform/payment-intents/${minted.body.data.payment_intent_id}`)).body.data).toMatchObject({ currency: 'EUR', amount: '5.00' })
  })

  it.each([
    ['an unknown code', 'ABC'],
    ['a withdrawn code', 'DEM'],
    ['a code without a minor unit', 'XAU'],
    ['two letters', 'US'],
    ['four letters', 'USDX'],
    ['a number', 840],
  ])('refuses %s with 422 naming currency', async (_, currency) => {
    const { api, userId } = await setupPayer(server)
    expectError(await api.post(LINK, { user_id: userId, amount: 5, currency }), 422, 'validation_error', 'currency')
    expect(await intentsOf(api, userId)).toEqual([])
  })
})

describe('the body is validated strictly', () => {
  it('refuses an unknown field with 422 naming it', async () => {
    const { api, userId } = await setupPayer(server)
    const res = await api.post(LINK, { user_id: userId, amount: 5, description: 'Order 42' })
    expectError(res, 422, 'validation_error', 'description')
    expect(await intentsOf(api, userId)).toEqual([])
  })

  it('refuses a wrong type instead of coercing it: user_id as a number is 422 naming user_id', async () => {
    const { api } = await setupPayer(server)
    const res = await api.post(LINK, { user_id: 12345, amount: 5 })
    expectError(res, 422, 'validation_error', 'user_id')
    expect(res.body.error.details).toContainEqual({ field: 'user_id', issue: 'must be of type string' })
  })

  it('requires user_id, and it must be a user id', async () => {
    const { api } = await setupPayer(server)
    expectError(await api.post(LINK, { amount: 5 }), 422, 'validation_error', 'user_id')
    expectError(await api.post(LINK, { user_id: 'bob', amount: 5 }), 422, 'validation_error', 'user_id')
  })

  it('refuses a body that is not JSON with 422', async () => {
    const { api } = await setupPayer(server)
    expectError(await api.post(LINK, undefined, { raw: '{"user_id": ' }), 422, 'validation_error')
  })
})

describe('the user must be one of the calling tenant’s users', () => {
  it('answers 404 not_found for a user of another tenant, exactly as for a user that does not exist', async () => {
    const mine = await setupPayer(server)
    const theirs = await setupPayer(server)
    const other = await mine.api.post(LINK, { user_id: theirs.userId, amount: 5 })
    expectError(other, 404, 'not_found')
    const missing = await mine.api.post(LINK, { user_id: 'usr_0000000000000000000000zz', amount: 5 })
    expectError(missing, 404, 'not_found')
    expect(other.body.error).toEqual(missing.body.error)
    expect(await intentsOf(theirs.api, theirs.userId)).toEqual([])
  })
})

describe('choosing the card-processing account', () => {
  const createAccount = (tenantId: string, name: string, currencies: string[], priority?: number) =>
    server.services.tenants.createAccount(tenantId, { name, processor: 'sandbox', currencies, ...(priority === undefined ? {} : { priority }) })

  const accountUsed = async (api: Api, body: Record<string, unknown>) => {
    const minted = await api.post(LINK, { amount: 5, ...body })
    expect(minted.status, JSON.stringify(minted.body)).toBe(201)
    return (await api.get(`/v1/platform/payment-intents/${minted.body.data.payment_intent_id}`)).body.data.card_processing_id as string
  }

  const defaultShown = async (api: Api, userId: string, currency = 'USD') => {
    const res = await api.get(`/v1/platform/card-processing/users/${userId}?currency=${currency}`)
    return res.body.data.filter((a: { is_default: boolean }) => a.is_default).map((a: { card_processing_id: string }) => a.card_processing_id)
  }

  it('refuses a user with no approved account with 422 card_processing_unavailable', async () => {
    const { api } = await setupPayer(server)
    const lonely = await newUser(api)
    expectError(await api.post(LINK, { user_id: lonely, amount: 5 }), 422, 'card_processing_unavailable')
    expect(await intentsOf(api, lonely)).toEqual([])
  })

  it('without a pin, an account lacking the currency is card_processing_unavailable', async () => {
    const { api, userId } = await setupPayer(server, { currencies: ['USD'] })
    expectError(await api.post(LINK, { user_id: userId, amount: 5, currency: 'GBP' }), 422, 'card_processing_unavailable')
  })

  it('pinned to an approved account lacking the currency, it is currency_not_supported naming currency', async () => {
    const { api, userId, accountId } = await setupPayer(server, { currencies: ['USD'] })
    const res = await api.post(LINK, { user_id: userId, amount: 5, currency: 'GBP', card_processing_id: accountId })
    expectError(res, 422, 'currency_not_supported', 'currency')
    expect(await intentsOf(api, userId)).toEqual([])
  })

  it('pinned to an account the user is not approved for, it is 422 card_processing_unavailable', async () => {
    const { api, userId, tenant } = await setupPayer(server)
    const notEnrolled = await createAccount(tenant.tenantId, 'Not enrolled', ['USD'])
    expectError(await api.post(LINK, { user_id: userId, amount: 5, card_processing_id: notEnrolled.id }), 422, 'card_processing_unavailable', 'card_processing_id')
    const other = await setupPayer(server)
    expectError(await api.post(LINK, { user_id: userId, amount: 5, card_processing_id: other.accountId }), 422, 'card_processing_unavailable', 'card_processing_id')
    expect(await intentsOf(api, userId)).toEqual([])
  })

  it('an enrolment still pending approval is never used, pinned or by default', async () => {
    const { api, userId, tenant, accountId } = await setupPayer(server)
    // Sandbox enrolments approve at once, so one still awaiting the operator is written directly.
    const awaiting = await createAccount(tenant.tenantId, 'Awaiting approval', ['USD', 'GBP'], 1)
    await server.db.query(
      "INSERT INTO card_processing_enrolments (tenant_id, user_id, account_id, status, approved_at, created_at) VALUES ($1, $2, $3, 'pending', NULL, $4)",
      [tenant.tenantId, userId, awaiting.id, server.clock.now()],
    )
    expect(await accountUsed(api, { user_id: userId })).toBe(accountId)
    expectError(await api.post(LINK, { user_id: userId, amount: 5, card_processing_id: awaiting.id }), 422, 'card_processing_unavailable', 'card_processing_id')
    expectError(await api.post(LINK, { user_id: userId, amount: 5, currency: 'GBP' }), 422, 'card_processing_unavailable')
  })

  it('pinned to an approved account, it uses that account even when another is the default', async () => {
    const { api, userId, tenant, accountId } = await setupPayer(server)
    const second = await createAccount(tenant.tenantId, 'Second', ['USD'], 500)
    await api.post(`/v1/platform/card-processing/users/${userId}`, { card_processing_id: second.id })
    expect(await accountUsed(api, { user_id: userId })).toBe(accountId)
    expect(await accountUsed(api, { user_id: userId, card_processing_id: second.id })).toBe(second.id)
  })

  it('by default the lowest priority wins, whatever the order of approval or the ids', async () => {
    const { api, tenant } = await setupPayer(server)
    const second = await createAccount(tenant.tenantId, 'Priority 20', ['USD'], 20)
    const third = await createAccount(tenant.tenantId, 'Priority 50', ['USD'], 50)
    // The winner has priority 10 but the largest id, and it is approved last.
    let winner = await createAccount(tenant.tenantId, 'Priority 10', ['USD'], 10)
    while (winner.id < second.id || winner.id < third.id) winner = await createAccount(tenant.tenantId, 'Priority 10', ['USD'], 10)
    const userId = await newUser(api, [third.id, second.id, winner.id])
    expect(await accountUsed(api, { user_id: userId })).toBe(winner.id)
    expect(await defaultShown(api, userId)).toEqual([winner.id])
  })

  it('by default, among equal priorities the earliest approval wins, whatever the ids', async () => {
    const { api, tenant } = await setupPayer(server)
    const ids = [(await createAccount(tenant.tenantId, 'A', ['USD'], 7)).id, (await createAccount(tenant.tenantId, 'B', ['USD'], 7)).id].sort()
    const userId = await newUser(api)
    // The largest id is approved first, a second before the other.
    await api.post(`/v1/platform/card-processing/users/${userId}`, { card_processing_id: ids[1] })
    server.clock.advance(1000)
    await api.post(`/v1/platform/card-processing/users/${userId}`, { card_processing_id: ids[0] })
    expect(await accountUsed(api, { user_id: userId })).toBe(ids[1])
    expect(await defaultShown(api, userId)).toEqual([ids[1]])
  })

  it('by default, among equal priorities approved at the same instant the smallest id wins', async () => {
    const { api, tenant } = await setupPayer(server)
    const created = []
    for (const name of ['A', 'B', 'C']) created.push((await createAccount(tenant.tenantId, name, ['USD'], 7)).id)
    const ids = created.sort()
    const userId = await newUser(api)
    await server.clock.atOneInstant(async () => {
      for (const id of [ids[2], ids[0], ids[1]]) await api.post(`/v1/platform/card-processing/users/${userId}`, { card_processing_id: id })
    })
    expect(await accountUsed(api, { user_id: userId })).toBe(ids[0])
    expect(await defaultShown(api, userId)).toEqual([ids[0]])
  })

  it('by default only accounts that support the currency are considered', async () => {
    const { api, tenant } = await setupPayer(server)
    const usdOnly = await createAccount(tenant.tenantId, 'USD only', ['USD'], 1)
    const withEur = await createAccount(tenant.tenantId, 'USD and EUR', ['USD', 'EUR'], 2)
    const userId = await newUser(api, [usdOnly.id, withEur.id])
    expect(await accountUsed(api, { user_id: userId, currency: 'USD' })).toBe(usdOnly.id)
    expect(await accountUsed(api, { user_id: userId, currency: 'EUR' })).toBe(withEur.id)
    expect(await defaultShown(api, userId, 'EUR')).toEqual([withEur.id])
  })

  it('the same state always gives the same account', async () => {
    const { api, tenant } = await setupPayer(server)
    const ids: string[] = []
    for (const name of ['A', 'B', 'C', 'D']) ids.push((await createAccount(tenant.tenantId, name, ['USD'], 3)).id)
    const userId = await newUser(api, ids)
    const used = new Set<string>()
    for (let i = 0; i < 6; i++) used.add(await accountUsed(api, { user_id: userId }))
    expect(used.size).toBe(1)
    expect(await defaultShown(api, userId)).toEqual([...used])
  })
})

describe('mints arriving together are written together, each with its own answer', () => {
  /** The mint statements' histogram: how many statements, and how many links were put to them. */
  const mintStatements = async () => {
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text()
    const sample = (name: string) => Number(new RegExp(`^${name}\\{result="written"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
    return { statements: sample('paylink_mint_statement_rows_count'), rows: sample('paylink_mint_statement_rows_sum') }
  }

  it('72 simultaneous mints of two tenants, good and bad mixed, get what each gets alone (on PostgreSQL in fewer statements than links)', async () => {
    const a = await setupPayer(server, { currencies: ['USD'] })
    const b = await setupPayer(server, { currencies: ['USD', 'EUR'] })
    const second = await server.services.tenants.createAccount(a.tenant.tenantId, { name: 'Second', processor: 'sandbox', currencies: ['USD', 'EUR'], priority: 500 })
    expect((await a.api.post(`/v1/platform/card-processing/users/${a.userId}`, { card_processing_id: second.id })).status).toBe(201)

    type Want = { status: 201; account: string; currency: string; user: string } | { status: 404 | 422; code: string }
    const cases: { api: Api; body: Record<string, unknown>; want: Want }[] = []
    for (let i = 0; i < 20; i++) cases.push({ api: a.api, body: { user_id: a.userId, amount: `1.${String(i).padStart(2, '0')}` }, want: { status: 201, account: a.accountId, currency: 'USD', user: a.userId } })
    for (let i = 0; i < 20; i++) cases.push({ api: b.api, body: { user_id: b.userId, amount: 2 + i, currency: 'eur' }, want: { status: 201, account: b.accountId, currency: 'EUR', user: b.userId } })
    for (let i = 0; i < 8; i++) cases.push({ api: a.api, body: { user_id: a.userId, amount: 3, card_processing_id: second.id }, want: { status: 201, account: second.id, currency: 'USD', user: a.userId } })
    for (let i = 0; i < 8; i++) cases.push({ api: a.api, body: { user_id: a.userId, amount: 4, currency: 'EUR' }, want: { status: 201, account: second.id, currency: 'EUR', user: a.userId } })
    for (let i = 0; i < 4; i++) cases.push({ api: a.api, body: { user_id: a.userId, amount: 5, currency: 'GBP' }, want: { status: 422, code: 'card_processing_unavailable' } })
    for (let i = 0; i < 4; i++) cases.push({ api: b.api, body: { user_id: b.userId, amount: 6, currency: 'JPY', card_processing_id: b.accountId }, want: { status: 422, code: 'currency_not_supported' } })
    for (let i = 0; i < 4; i++) cases.push({ api: a.api, body: { user_id: b.userId, amount: 7 }, want: { status: 404, code: 'not_found' } })
    for (let i = 0; i < 4; i++) cases.push({ api: b.api, body: { user_id: b.userId, amount: 8, card_processing_id: a.accountId }, want: { status: 422, code: 'card_processing_unavailable' } })

    const before = await mintStatements()
    const answers = await Promise.all(cases.map((c) => c.api.post(LINK, c.body)))
    const after = await mintStatements()

    const minted: string[] = []
    for (const [i, res] of answers.entries()) {
      const { want, body, api } = cases[i]!
      if (want.status !== 201) {
        expectError(res, want.status, want.code)
        continue
      }
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      const intent = (await api.get(`/v1/platform/payment-intents/${res.body.data.payment_intent_id}`)).body.data
      expect(intent).toMatchObject({ status: 'pending', user_id: want.user, card_processing_id: want.account, currency: want.currency })
      expect(Number(intent.amount)).toBe(Number(body.amount))
      expect(intent.expires_at).toBe(res.body.data.expires_at)
      const [row] = await server.db.query<{ link_token_hash: Buffer }>('SELECT link_token_hash FROM payment_intents WHERE id = $1', [intent.id])
      expect(Buffer.from(row!.link_token_hash).equals(sha256(tokenOf(res.body.data.pay_url)))).toBe(true)
      minted.push(intent.id)
    }
    expect(new Set(minted).size).toBe(56)
    // Nothing else was written: each user has exactly the links answered 201.
    expect((await intentsOf(a.api, a.userId)).length).toBe(36)
    expect((await intentsOf(b.api, b.userId)).length).toBe(20)
    // Every one of the 72 reached a mint statement (the 404s and 422s are found out after it wrote nothing).
    expect(after.rows - before.rows).toBe(72)
    // On PostgreSQL they queue for the pool and go in fewer statements. The embedded database
    // answers each statement before the next request is read, so there nothing waits to be grouped.
    if (server.db.kind === 'postgres') expect(after.statements - before.statements).toBeLessThan(72)
  })
})

describe('the link token is never stored, only its SHA-256', () => {
  it("no column of any table holds the token, while its intent's link_token_hash is its SHA-256", async () => {
    const { api, userId, tenant } = await setupPayer(server)
    const minted = await api.post(LINK, { user_id: userId, amount: 5 }, { headers: { 'idempotency-key': 'token-search' } })
    expect(minted.status).toBe(201)
    const token = tokenOf(minted.body.data.pay_url)
    const raw = Buffer.from(token, 'base64url')
    const hash = sha256(token)

    const [link] = await server.db.query<{ link_token_hash: Uint8Array }>('SELECT link_token_hash FROM payment_intents WHERE tenant_id = $1 AND id = $2', [
      tenant.tenantId,
      minted.body.data.payment_intent_id,
    ])
    expect(Buffer.from(link!.link_token_hash).equals(hash)).toBe(true)

    const tables = (
      await server.db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
      )
    ).map((t) => t.table_name)
    expect(tables).toEqual(expect.arrayContaining(['payment_intents', 'idempotency_keys']))
    const dump = (
      await Promise.all(tables.map((t) => server.db.query<{ row: string }>(`SELECT t::text AS row FROM "${t}" t`)))
    )
      .flat()
      .map((r) => r.row)
      .join('\n')
    // The search sees every column, bytea included: the hash and the ids are there.
    expect(dump).toContain(hash.toString('hex'))
    expect(dump).toContain(minted.body.data.payment_intent_id)
    for (const form of [token, raw.toString('base64'), raw.toString('hex'), minted.body.data.pay_url]) expect(dump).not.toContain(form)
  })
})

describe('Idempotency-Key', () => {
  const mintWithKey = (api: Api, key: string, body: Record<string, unknown>) => api.post(LINK, body, { headers: { 'idempotency-key': key } })

  it('the same key and body give the same status and data, marked idempotent-replayed, and one intent', async () => {
    const { api, userId } = await setupPayer(server)
    const first = await mintWithKey(api, 'order-1', { user_id: userId, amount: '12.50' })
    const again = await mintWithKey(api, 'order-1', { user_id: userId, amount: '12.50' })
    expect(first.status).toBe(201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    expect(again.status).toBe(201)
    expect(again.body.data).toEqual(first.body.data)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect((await intentsOf(api, userId)).map((i) => i.id)).toEqual([first.body.data.payment_intent_id])
  })

  it('compares what the request means, not how it is written: 12.5, "12.50" and usd/USD are the same request', async () => {
    const { api, userId } = await setupPayer(server)
    const first = await mintWithKey(api, 'order-m', { user_id: userId, amount: '12.50', currency: 'USD' })
    for (const body of [{ user_id: userId, amount: 12.5, currency: 'usd' }, { user_id: userId, amount: '12.5' }, { currency: 'Usd', amount: '12.500', user_id: userId }]) {
      const again = await mintWithKey(api, 'order-m', body)
      expect(again.status, JSON.stringify(body)).toBe(201)
      expect(again.body.data).toEqual(first.body.data)
    }
    expect(await intentsOf(api, userId)).toHaveLength(1)
  })

  it('without a key, the same body twice makes two intents', async () => {
    const { api, userId } = await setupPayer(server)
    const a = await api.post(LINK, { user_id: userId, amount: '12.50' })
    const b = await api.post(LINK, { user_id: userId, amount: '12.50' })
    expect(a.body.data.payment_intent_id).not.toBe(b.body.data.payment_intent_id)
    expect(await intentsOf(api, userId)).toHaveLength(2)
  })

  it('the same key with another body is 409 idempotency_conflict and makes nothing', async () => {
    const { api, userId } = await setupPayer(server)
    const first = await mintWithKey(api, 'order-2', { user_id: userId, amount: '12.50' })
    expect(first.status).toBe(201)
    expectError(await mintWithKey(api, 'order-2', { user_id: userId, amount: '12.51' }), 409, 'idempotency_conflict')
    expectError(await mintWithKey(api, 'order-2', { user_id: userId, amount: '12.50', currency: 'EUR' }), 409, 'idempotency_conflict')
    expect((await intentsOf(api, userId)).map((i) => i.id)).toEqual([first.body.data.payment_intent_id])
  })

  it('keys belong to one tenant: another tenant may use the same key for its own link', async () => {
    const a = await setupPayer(server)
    const b = await setupPayer(server)
    const ra = await mintWithKey(a.api, 'shared-key', { user_id: a.userId, amount: 5 })
    const rb = await mintWithKey(b.api, 'shared-key', { user_id: b.userId, amount: 5 })
    expect([ra.status, rb.status]).toEqual([201, 201])
    expect(rb.headers.get('idempotent-replayed')).toBeNull()
    expect(rb.body.data.payment_intent_id).not.toBe(ra.body.data.payment_intent_id)
    expect(await intentsOf(b.api, b.userId)).toHaveLength(1)
  })

  it('20 concurrent requests with one key create exactly one intent and all get its id', async () => {
    const { api, userId } = await setupPayer(server)
    const answers = await Promise.all(Array.from({ length: 20 }, () => mintWithKey(api, 'burst', { user_id: userId, amount: '42.00' })))
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201))
    const ids = new Set(answers.map((a) => a.body.data.payment_intent_id))
    expect(ids.size).toBe(1)
    expect(new Set(answers.map((a) => a.body.data.pay_url)).size).toBe(1)
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1)
    expect((await intentsOf(api, userId)).map((i) => i.id)).toEqual([...ids])
  })

  it('a request that fails does not use up its key', async () => {
    const { api, userId } = await setupPayer(server)
    const lonely = await newUser(api)
    expectError(await mintWithKey(api, 'retry-me', { user_id: 'usr_0000000000000000000000zz', amount: 5 }), 404, 'not_found')
    expectError(await mintWithKey(api, 'retry-me', { user_id: lonely, amount: 5 }), 422, 'card_processing_unavailable')
    expectError(await mintWithKey(api, 'retry-me', { user_id: userId, amount: 0 }), 422, 'validation_error', 'amount')
    const ok = await mintWithKey(api, 'retry-me', { user_id: userId, amount: 5 })
    expect(ok.status).toBe(201)
    expect(ok.headers.get('idempotent-replayed')).toBeNull()
    expect(await intentsOf(api, userId)).toHaveLength(1)
  })

  it.each([
    ['empty', ''],
    ['300 characters long', 'k'.repeat(300)],
    ['holding a space', 'order 1'],
  ])('a malformed key (%s) is 422 naming Idempotency-Key and makes nothing', async (_, key) => {
    const { api, userId } = await setupPayer(server)
    expectError(await mintWithKey(api, key, { user_id: userId, amount: 5 }), 422, 'validation_error', 'Idempotency-Key')
    expect(await intentsOf(api, userId)).toEqual([])
  })

  it('a key of 255 printable characters is accepted', async () => {
    const { api, userId } = await setupPayer(server)
    const key = '!~'.repeat(127) + 'k'
    const first = await mintWithKey(api, key, { user_id: userId, amount: 5 })
    const again = await mintWithKey(api, key, { user_id: userId, amount: 5 })
    expect([first.status, again.status]).toEqual([201, 201])
    expect(again.body.data).toEqual(first.body.data)
  })

  // Moves this file's clock a day forward: keep it last.
  it('keeps a key for 24 hours, after which it is free again', async () => {
    const { api, userId, tenant } = await setupPayer(server)
    const body = { user_id: userId, amount: 5 }
    const first = await mintWithKey(api, 'daily', body)
    expect(first.status).toBe(201)

    server.clock.advance(DAY_MS - 60_000)
    const later = apiClient(server, await getToken(server, tenant, { scope: TENANT_SCOPES.join(' ') }))
    const within = await mintWithKey(later, 'daily', body)
    expect(within.headers.get('idempotent-replayed')).toBe('true')
    expect(within.body.data).toEqual(first.body.data)
    expectError(await mintWithKey(later, 'daily', { ...body, amount: 6 }), 409, 'idempotency_conflict')

    server.clock.advance(120_000)
    const after = apiClient(server, await getToken(server, tenant, { scope: TENANT_SCOPES.join(' ') }))
    const fresh = await mintWithKey(after, 'daily', { ...body, amount: 6 })
    expect(fresh.status).toBe(201)
    expect(fresh.headers.get('idempotent-replayed')).toBeNull()
    expect(fresh.body.data.payment_intent_id).not.toBe(first.body.data.payment_intent_id)
    const replay = await mintWithKey(after, 'daily', { ...body, amount: 6 })
    expect(replay.body.data).toEqual(fresh.body.data)
    expect(await intentsOf(after, userId)).toHaveLength(2)
  })
})
