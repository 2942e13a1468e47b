/**
 * SPEC "HTTP surface" (card processing) and "Choosing the card-processing account":
 * GET and POST /v1/platform/card-processing/users/{user_id}. One server for the file;
 * every test works in its own tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiClient, expectFieldRefused, expectNotFoundAsMissing, getToken, intentOf, mint, newTenant, startServer, type TestServer } from '../helpers/index.js'
import { registerProcessor } from '../../src/processors/registry.js'
import { sandboxFactory } from '../../src/processors/sandbox/sandbox.js'

let server: TestServer
beforeAll(async () => {
  // A processor whose enrolments wait for the operator, unlike the sandbox.
  registerProcessor({ ...sandboxFactory, name: 'test-manual', autoApprove: false })
  // The sandbox with credentials to hide (the sandbox itself takes none).
  registerProcessor({ ...sandboxFactory, name: 'test-keyed', checkConfig: () => [] })
  server = await startServer()
})
afterAll(() => server.close())

/** A fresh tenant, an API client with every tenant scope, and one user of that tenant. */
async function tenantWithUser() {
  const { tenant, api } = await newTenant(server)
  const user = await api.post('/v1/platform/users', { name: 'Payer' })
  expect(user.status).toBe(201)
  const account = (opts: { name?: string; processor?: string; currencies?: string[]; priority?: number; config?: Record<string, unknown> } = {}) =>
    server.services.tenants.createAccount(tenant.tenantId, {
      name: opts.name ?? 'Sandbox',
      processor: opts.processor ?? 'sandbox',
      currencies: opts.currencies ?? ['USD', 'EUR'],
      priority: opts.priority,
      config: opts.config,
    })
  const enrol = (accountId: string, userId: string = user.body.data.id) => api.post(`/v1/platform/card-processing/users/${userId}`, { card_processing_id: accountId })
  const list = (query = '', userId: string = user.body.data.id) => api.get(`/v1/platform/card-processing/users/${userId}${query}`)
  /** Enrols the user in each account in turn, a second apart on the server's clock. */
  const enrolInTurn = async (...accountIds: string[]) => {
    for (const [i, accountId] of accountIds.entries()) {
      if (i > 0) server.clock.advance(1000)
      await enrol(accountId)
    }
  }
  /** The user's accounts are listed in `order`, and the first of them is the one default. */
  const expectListed = async (order: string[]) => {
    const listed = await list()
    expect(defaults(listed)).toEqual([order[0]])
    expect(ids(listed)).toEqual(order)
  }
  return { tenant, api, userId: user.body.data.id as string, account, enrol, enrolInTurn, list, expectListed }
}

type Listed = { card_processing_id: string; status: string; is_default: boolean }
const ids = (r: { body: { data: Listed[] } }) => r.body.data.map((a) => a.card_processing_id)
const defaults = (r: { body: { data: Listed[] } }) => r.body.data.filter((a) => a.is_default).map((a) => a.card_processing_id)

/** A sandbox account exactly as the tenant sees it once the user is approved in it and it is the default. */
const shownApprovedDefault = (acc: { id: string; createdAt: Date }, name: string, currencies: string[]) => ({
  card_processing_id: acc.id,
  object: 'card_processing_account',
  name,
  processor: 'sandbox',
  currencies,
  status: 'approved',
  is_default: true,
  created_at: acc.createdAt.toISOString(),
})

describe('enrolling a user in a sandbox account approves it at once', () => {
  it('answers 201 with the account, status approved', async () => {
    const t = await tenantWithUser()
    const acc = await t.account({ name: 'Main sandbox', currencies: ['USD', 'EUR'] })
    const r = await t.enrol(acc.id)
    expect(r.status).toBe(201)
    expect(r.body).toEqual({
      success: true,
      data: shownApprovedDefault(acc, 'Main sandbox', ['USD', 'EUR']),
      error: null,
      request_id: expect.stringMatching(/^req_/),
    })
    expect(acc.id).toMatch(/^cpa_[0-9a-z]+$/)
  })

  it('answers 200 with the same account when the user is enrolled again, and changes nothing', async () => {
    const t = await tenantWithUser()
    const acc = await t.account()
    const first = await t.enrol(acc.id)
    const before = await t.list()
    server.clock.advance(5000)
    const again = await t.enrol(acc.id)
    expect(again.status).toBe(200)
    expect(again.body.data).toEqual(first.body.data)
    expect((await t.list()).body.data).toEqual(before.body.data)
  })

  it('makes the account usable for payment links at once', async () => {
    const t = await tenantWithUser()
    const acc = await t.account()
    expect((await t.api.post('/v1/platform/card/payment-link', { user_id: t.userId, amount: '1.00' })).status).toBe(422)
    await t.enrol(acc.id)
    const minted = await t.api.post('/v1/platform/card/payment-link', { user_id: t.userId, amount: '1.00' })
    expect(minted.status).toBe(201)
  })
})

describe('an account of a processor that does not approve at once stays pending until the operator approves', () => {
  it('answers 201 with status pending, and is not the default while pending', async () => {
    const t = await tenantWithUser()
    const sandbox = await t.account({ name: 'Sandbox', priority: 100 })
    const manual = await t.account({ name: 'Manual', processor: 'test-manual', priority: 1 })
    await t.enrol(sandbox.id)
    const r = await t.enrol(manual.id)
    expect(r.status).toBe(201)
    expect(r.body.data).toMatchObject({ card_processing_id: manual.id, processor: 'test-manual', status: 'pending', is_default: false })
    const list = await t.list()
    expect(list.body.data.map((a: Listed) => [a.card_processing_id, a.status, a.is_default])).toEqual([
      [sandbox.id, 'approved', true],
      [manual.id, 'pending', false],
    ])
  })

  it('enrolling again while pending answers 200, still pending', async () => {
    const t = await tenantWithUser()
    const manual = await t.account({ processor: 'test-manual' })
    await t.enrol(manual.id)
    const again = await t.enrol(manual.id)
    expect(again.status).toBe(200)
    expect(again.body.data.status).toBe('pending')
  })

  it('a pending account cannot carry a payment link', async () => {
    const t = await tenantWithUser()
    const manual = await t.account({ processor: 'test-manual' })
    await t.enrol(manual.id)
    const r = await t.api.post('/v1/platform/card/payment-link', { user_id: t.userId, amount: '5.00' })
    expect(r.status).toBe(422)
    expect(r.body.error.code).toBe('card_processing_unavailable')
  })

  it('once the operator approves, it shows approved and becomes the default when it comes first', async () => {
    const t = await tenantWithUser()
    const sandbox = await t.account({ priority: 100 })
    const manual = await t.account({ processor: 'test-manual', priority: 1 })
    await t.enrol(sandbox.id)
    await t.enrol(manual.id)
    await server.services.tenants.approveEnrolment(t.tenant.tenantId, t.userId, manual.id)
    const list = await t.list()
    expect(list.body.data.map((a: Listed) => [a.card_processing_id, a.status, a.is_default])).toEqual([
      [manual.id, 'approved', true],
      [sandbox.id, 'approved', false],
    ])
    const { intentId } = await mint(t, { amount: '5.00' })
    expect((await intentOf(t, intentId)).card_processing_id).toBe(manual.id)
  })
})

describe('the list shows what a tenant may see of an account, never credentials', () => {
  it('shows card_processing_id, object, name, processor, currencies, status, is_default and created_at only', async () => {
    const t = await tenantWithUser()
    const acc = await t.account({ name: 'Cards EU', processor: 'test-keyed', currencies: ['EUR', 'GBP'], config: { api_key: 'sk_secret_x', webhook_secret: 'whsec_hidden_y' } })
    const enrolled = await t.enrol(acc.id)
    const list = await t.list('?currency=EUR')
    expect(list.status).toBe(200)
    expect(list.body).toEqual({
      success: true,
      data: [{ ...shownApprovedDefault(acc, 'Cards EU', ['EUR', 'GBP']), processor: 'test-keyed' }],
      error: null,
      request_id: expect.stringMatching(/^req_/),
    })
    for (const answer of [enrolled, list]) {
      const text = JSON.stringify(answer.body)
      for (const secret of ['sk_secret_x', 'whsec_hidden_y', 'api_key', 'config', 'priority']) expect(text).not.toContain(secret)
    }
  })

  it('is empty for a user enrolled nowhere', async () => {
    const t = await tenantWithUser()
    await t.account()
    const list = await t.list()
    expect(list.status).toBe(200)
    expect(list.body.data).toEqual([])
  })

  it('shows only this user’s enrolments, not every account of the tenant', async () => {
    const t = await tenantWithUser()
    const other = (await t.api.post('/v1/platform/users', { name: 'Other' })).body.data.id
    const a = await t.account({ name: 'A' })
    const b = await t.account({ name: 'B' })
    await t.enrol(a.id)
    await t.enrol(b.id, other)
    expect(ids(await t.list())).toEqual([a.id])
    expect(ids(await t.list('', other))).toEqual([b.id])
  })
})

describe('is_default: lowest priority, then earliest approval, then smallest id, among approved accounts with the currency', () => {
  it('the lowest priority wins, whatever the approval order', async () => {
    const t = await tenantWithUser()
    const late = await t.account({ name: 'Late but preferred', priority: 10 })
    const early = await t.account({ name: 'Early', priority: 50 })
    await t.enrolInTurn(early.id, late.id)
    await t.expectListed([late.id, early.id])
  })

  it('at equal priority the earliest approval wins, even over an older account with a smaller id', async () => {
    const t = await tenantWithUser()
    const older = await t.account({ name: 'Older' })
    // A newer account with a larger id: only its earlier approval can make it the default.
    let newer = await t.account({ name: 'Newer' })
    while (newer.id < older.id) {
      server.clock.advance(1000)
      newer = await t.account({ name: 'Newer' })
    }
    server.clock.advance(1000)
    await t.enrolInTurn(newer.id, older.id)
    await t.expectListed([newer.id, older.id])
  })

  it('at equal priority and approval time the smallest id wins, whatever the creation order', async () => {
    const t = await tenantWithUser()
    const accounts: { id: string }[] = []
    for (const name of ['P', 'Q', 'R', 'S', 'T']) {
      accounts.push(await t.account({ name }))
      server.clock.advance(1000)
    }
    await server.clock.atOneInstant(async () => {
      for (const a of accounts) await t.enrol(a.id)
    })
    await t.expectListed(accounts.map((a) => a.id).sort())
  })

  it('follows the currency asked: only accounts that support it can be the default', async () => {
    const t = await tenantWithUser()
    const usd = await t.account({ name: 'USD only', currencies: ['USD'], priority: 10 })
    const eur = await t.account({ name: 'EUR only', currencies: ['EUR'], priority: 20 })
    const both = await t.account({ name: 'Both', currencies: ['USD', 'EUR'], priority: 30 })
    for (const a of [usd, eur, both]) await t.enrol(a.id)
    expect(defaults(await t.list())).toEqual([usd.id])
    expect(defaults(await t.list('?currency=USD'))).toEqual([usd.id])
    expect(defaults(await t.list('?currency=EUR'))).toEqual([eur.id])
    expect(defaults(await t.list('?currency=eur'))).toEqual([eur.id])
    const gbp = await t.list('?currency=GBP')
    expect(gbp.status).toBe(200)
    expect(defaults(gbp)).toEqual([])
    expect(ids(gbp)).toEqual([usd.id, eur.id, both.id])
  })

  it('refuses a currency that is not ISO 4217 with 422 naming currency', async () => {
    const t = await tenantWithUser()
    for (const q of ['?currency=XYZ', '?currency=US', '?currency=dollars']) {
      const r = await t.list(q)
      expect(r.status).toBe(422)
      expect(r.body.error.details).toEqual([{ field: 'currency', issue: expect.any(String) }])
    }
    const unknown = await t.list('?region=eu')
    expectFieldRefused(unknown, 'region')
  })

  it('is the account a payment link without card_processing_id is charged through', async () => {
    const t = await tenantWithUser()
    const accounts = [await t.account({ name: 'One', priority: 5, currencies: ['EUR'] }), await t.account({ name: 'Two', priority: 5 }), await t.account({ name: 'Three', priority: 5 })]
    await server.clock.atOneInstant(async () => {
      for (const a of accounts) await t.enrol(a.id)
    })
    for (const currency of ['USD', 'EUR']) {
      const chosen = defaults(await t.list(`?currency=${currency}`))
      expect(chosen).toHaveLength(1)
      for (let i = 0; i < 2; i++) {
        const { intentId } = await mint(t, { amount: '3.00', currency })
        expect((await intentOf(t, intentId)).card_processing_id).toBe(chosen[0])
      }
    }
  })
})

describe('another tenant’s account or user is not_found, never forbidden', () => {
  it('enrolling in another tenant’s account answers 404 and enrols nothing', async () => {
    const mine = await tenantWithUser()
    const theirs = await tenantWithUser()
    const foreignAccount = await theirs.account()
    const r = await mine.enrol(foreignAccount.id)
    expect(r.status).toBe(404)
    expect(r.body).toMatchObject({ success: false, data: null, error: { code: 'not_found' } })
    expect((await mine.list()).body.data).toEqual([])
  })

  it('enrolling another tenant’s user answers 404 and enrols nothing', async () => {
    const mine = await tenantWithUser()
    const theirs = await tenantWithUser()
    const acc = await mine.account()
    const r = await mine.enrol(acc.id, theirs.userId)
    expect(r.status).toBe(404)
    expect(r.body.error.code).toBe('not_found')
    expect((await theirs.list()).body.data).toEqual([])
  })

  it('listing another tenant’s user answers 404, exactly as for a user that never existed', async () => {
    const mine = await tenantWithUser()
    const theirs = await tenantWithUser()
    await theirs.enrol((await theirs.account()).id)
    const foreign = await mine.list('', theirs.userId)
    const missing = await mine.list('', 'usr_doesnotexist0000000000')
    expectNotFoundAsMissing(foreign, missing)
  })

  it('an account id that does not exist is 404 too', async () => {
    const t = await tenantWithUser()
    const r = await t.enrol('cpa_doesnotexist0000000000')
    expect(r.status).toBe(404)
    expect(r.body.error.code).toBe('not_found')
  })
})

describe('the enrolment body is validated strictly', () => {
  it.each([
    ['no card_processing_id', {}, 'card_processing_id'],
    ['an id of another kind', { card_processing_id: 'usr_abc' }, 'card_processing_id'],
    ['a number', { card_processing_id: 12 }, 'card_processing_id'],
    ['an unknown field', { card_processing_id: 'cpa_abc', approve: true }, 'approve'],
  ])('refuses %s with 422 naming the field', async (_what, body, field) => {
    const t = await tenantWithUser()
    const r = await t.api.post(`/v1/platform/card-processing/users/${t.userId}`, body)
    expect(r.status).toBe(422)
    expect(r.body.error.code).toBe('validation_error')
    expect(r.body.error.details.map((d: { field: string }) => d.field)).toContain(field)
  })
})

describe('scopes', () => {
  it('reading needs payments:read and enrolling payments:write', async () => {
    const t = await tenantWithUser()
    const acc = await t.account()
    const reader = apiClient(server, await getToken(server, t.tenant, { scope: 'payments:read' }))
    const writer = apiClient(server, await getToken(server, t.tenant, { scope: 'payments:write' }))
    const refused = await reader.post(`/v1/platform/card-processing/users/${t.userId}`, { card_processing_id: acc.id })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('forbidden')
    expect((await writer.get(`/v1/platform/card-processing/users/${t.userId}`)).status).toBe(403)
    expect((await writer.post(`/v1/platform/card-processing/users/${t.userId}`, { card_processing_id: acc.id })).status).toBe(201)
    expect(ids(await reader.get(`/v1/platform/card-processing/users/${t.userId}`))).toEqual([acc.id])
  })
})
