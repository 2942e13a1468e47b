/**
 * /v1/admin: what the operator CLI does, over HTTP, for a client with scope `admin`
 * (SPEC "Actors"; issue 2 item 4). The operator client is made as `client create --admin`
 * makes it; every call goes through the real HTTP server with a real access token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiClient, createTenant, getToken, startServer, type Api, type TestServer } from '../helpers/index.js'

/** The tenant scopes SPEC lists ("HTTP surface"). */
const TENANT_SCOPES = ['payments:write', 'payments:read', 'users:write', 'users:read', 'webhooks:write', 'webhooks:read']

let server: TestServer
let admin: ReturnType<typeof apiClient>

beforeAll(async () => {
  server = await startServer()
  const operator = await server.services.tenants.createClient(null, [])
  admin = apiClient(server, await getToken(server, operator))
})
afterAll(() => server?.close())

/** A tenant made through /v1/admin, with a token of its first client (every tenant scope). */
async function adminTenant(name = 'Admin-made Shop') {
  const r = await admin.post('/v1/admin/tenants', { name, allowed_origins: ['https://shop.example'] })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  const { tenant_id: tenantId, client_id: clientId, client_secret: clientSecret } = r.body.data
  const api = apiClient(server, await getToken(server, { clientId, clientSecret }))
  return { tenantId, clientId, clientSecret, api }
}

describe('POST /v1/admin/tenants', () => {
  it('creates a tenant and answers 201 with its first client id and secret', async () => {
    const r = await admin.post('/v1/admin/tenants', { name: 'Harbour Books', allowed_origins: ['https://books.example', 'http://localhost:8080'], allow_top_level: true })
    expect(r.status).toBe(201)
    expect(r.body.success).toBe(true)
    const { tenant, tenant_id, client_id, client_secret } = r.body.data
    expect(tenant_id).toMatch(/^ten_[a-z0-9]+$/)
    expect(tenant).toMatchObject({
      id: tenant_id,
      object: 'tenant',
      name: 'Harbour Books',
      allowed_origins: ['https://books.example', 'http://localhost:8080'],
      allow_top_level: true,
    })
    expect(client_id).toEqual(expect.any(String))
    expect(client_secret).toEqual(expect.any(String))
  })

  it("gives the tenant's first client every tenant scope", async () => {
    const { clientId, clientSecret, api } = await adminTenant()
    const res = await fetch(`${server.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
    })
    expect(res.status).toBe(200)
    const issued = (await res.json()) as { scope: string }
    expect(issued.scope.split(' ').sort()).toEqual([...TENANT_SCOPES].sort())
    expect((await api.post('/v1/platform/users', { name: 'First user' })).status).toBe(201)
    expect((await api.get('/v1/platform/payment-intents')).status).toBe(200)
  })

  it('refuses a wildcard origin (the page could never post its events there) with 422 naming it, and makes no tenant', async () => {
    for (const origin of ['https://*.acme.test', 'https://shop.*.test', '*']) {
      const r = await admin.post('/v1/admin/tenants', { name: 'Wild', allowed_origins: ['https://ok.example', origin] })
      expect(r.status, origin).toBe(422)
      expect(r.body.error.details).toEqual([{ field: 'allowed_origins.1', issue: expect.stringContaining('no wildcard') }])
    }
    expect((await admin.get('/v1/admin/tenants')).body.data.map((t: any) => t.name)).not.toContain('Wild')
  })

  it('refuses an allowed origin with a path with 422 naming the field', async () => {
    const r = await admin.post('/v1/admin/tenants', { name: 'Pathful', allowed_origins: ['https://ok.example', 'https://x.com/path'] })
    expect(r.status).toBe(422)
    expect(r.body.error.code).toBe('validation_error')
    expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'allowed_origins.1' })])
    const names = (await admin.get('/v1/admin/tenants')).body.data.map((t: any) => t.name)
    expect(names).not.toContain('Pathful')
  })

  it('refuses a tenant without a name or without origins with 422', async () => {
    expect((await admin.post('/v1/admin/tenants', { allowed_origins: ['https://a.example'] })).status).toBe(422)
    expect((await admin.post('/v1/admin/tenants', { name: 'No origins', allowed_origins: [] })).status).toBe(422)
  })
})

describe('GET /v1/admin/tenants and /v1/admin/tenants/{tenant_id}', () => {
  it('lists tenants and gets one', async () => {
    const first = await adminTenant('First Shop')
    const second = await adminTenant('Second Shop')
    const list = await admin.get('/v1/admin/tenants')
    expect(list.status).toBe(200)
    expect(list.body.data).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: first.tenantId, name: 'First Shop' }), expect.objectContaining({ id: second.tenantId, name: 'Second Shop' })]),
    )

    const one = await admin.get(`/v1/admin/tenants/${second.tenantId}`)
    expect(one.status).toBe(200)
    expect(one.body.data).toMatchObject({ id: second.tenantId, object: 'tenant', name: 'Second Shop', allowed_origins: ['https://shop.example'], allow_top_level: false })
  })

  it('answers 404 for a tenant that does not exist', async () => {
    const r = await admin.get('/v1/admin/tenants/ten_doesnotexist000000000000')
    expect(r.status).toBe(404)
    expect(r.body.error.code).toBe('not_found')
  })
})

describe('POST /v1/admin/clients', () => {
  it('creates a client of a tenant with the subset of scopes asked for', async () => {
    const { tenantId } = await adminTenant()
    const r = await admin.post('/v1/admin/clients', { tenant_id: tenantId, scopes: ['payments:read', 'users:read'] })
    expect(r.status).toBe(201)
    expect(r.body.data).toMatchObject({ tenant_id: tenantId, scopes: ['payments:read', 'users:read'] })
    const api = apiClient(server, await getToken(server, { clientId: r.body.data.client_id, clientSecret: r.body.data.client_secret }))
    expect((await api.get('/v1/platform/users')).status).toBe(200)
    expect((await api.post('/v1/platform/users', { name: 'Needs users:write' })).status).toBe(403)
  })

  it('refuses a scope a tenant client cannot have with 422', async () => {
    const { tenantId } = await adminTenant()
    for (const scopes of [['payments:read', 'payments:everything'], ['admin']]) {
      const r = await admin.post('/v1/admin/clients', { tenant_id: tenantId, scopes })
      expect(r.status, JSON.stringify(scopes)).toBe(422)
      expect(r.body.error.details).toEqual([expect.objectContaining({ field: 'scopes' })])
    }
  })

  it('without tenant_id creates an operator client whose token carries admin', async () => {
    const r = await admin.post('/v1/admin/clients', {})
    expect(r.status).toBe(201)
    expect(r.body.data).toMatchObject({ tenant_id: null, scopes: ['admin'] })
    const other = apiClient(server, await getToken(server, { clientId: r.body.data.client_id, clientSecret: r.body.data.client_secret }))
    expect((await other.get('/v1/admin/tenants')).status).toBe(200)
  })

  it('answers 404 for a client of a tenant that does not exist', async () => {
    const r = await admin.post('/v1/admin/clients', { tenant_id: 'ten_doesnotexist000000000000' })
    expect(r.status).toBe(404)
  })
})

describe('DELETE /v1/admin/clients/{client_id}', () => {
  it("revokes a client: its token gets 401 at once and it cannot get a new one", async () => {
    const { tenantId } = await adminTenant()
    const made = (await admin.post('/v1/admin/clients', { tenant_id: tenantId })).body.data
    const creds = { clientId: made.client_id, clientSecret: made.client_secret }
    const api = apiClient(server, await getToken(server, creds))
    expect((await api.get('/v1/platform/users')).status).toBe(200)

    const r = await admin.delete(`/v1/admin/clients/${made.client_id}`)
    expect(r.status).toBe(200)
    expect(r.body.data).toEqual({ client_id: made.client_id, revoked: true })

    const after = await api.get('/v1/platform/users')
    expect(after.status).toBe(401)
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/)
    await expect(getToken(server, creds)).rejects.toThrow()
  })

  it('answers 404 for a client that does not exist or is already revoked', async () => {
    const { tenantId } = await adminTenant()
    const made = (await admin.post('/v1/admin/clients', { tenant_id: tenantId })).body.data
    expect((await admin.delete(`/v1/admin/clients/${made.client_id}`)).status).toBe(200)
    expect((await admin.delete(`/v1/admin/clients/${made.client_id}`)).status).toBe(404)
    expect((await admin.delete('/v1/admin/clients/cli_doesnotexist000000000000')).status).toBe(404)
  })
})

describe('/v1/admin/tenants/{tenant_id}/card-processing-accounts', () => {
  it('creates accounts (201), lists them, and never shows their credentials', async () => {
    const { tenantId } = await adminTenant()
    const base = `/v1/admin/tenants/${tenantId}/card-processing-accounts`
    const low = await admin.post(base, { name: 'Backup', processor: 'sandbox', currencies: ['USD'] })
    expect(low.status).toBe(201)
    expect(low.body.data).toMatchObject({ object: 'card_processing_account', tenant_id: tenantId, name: 'Backup', processor: 'sandbox', currencies: ['USD'], priority: 100 })
    expect(low.body.data.card_processing_id).toMatch(/^cpa_[a-z0-9]+$/)
    const main = await admin.post(base, { name: 'Main', processor: 'stripe', currencies: ['USD', 'EUR'], priority: 5, config: { secret_key: 'sk_test_secret_value', webhook_secret: 'whsec_value' } })
    expect(main.status).toBe(201)
    expect(JSON.stringify(main.body)).not.toContain('sk_test_secret_value')

    const list = await admin.get(base)
    expect(list.status).toBe(200)
    expect(list.body.data.map((a: any) => [a.card_processing_id, a.currencies, a.priority]).sort()).toEqual(
      [
        [main.body.data.card_processing_id, ['USD', 'EUR'], 5],
        [low.body.data.card_processing_id, ['USD'], 100],
      ].sort(),
    )
    expect(JSON.stringify(list.body)).not.toContain('sk_test_secret_value')
  })

  it('checks a configuration against the processor’s schema, naming each key, and saves nothing when it does not fit', async () => {
    const { tenantId } = await adminTenant()
    const base = `/v1/admin/tenants/${tenantId}/card-processing-accounts`
    const bad = await admin.post(base, { name: 'Stripe', processor: 'stripe', currencies: ['EUR'], config: { secret_key: 'pk_live_publishable_value', webhook_secret: 7, api_base: 'ftp://x', extra: 1 } })
    expect(bad.status).toBe(422)
    expect(bad.body.error.code).toBe('validation_error')
    expect(bad.body.error.details).toEqual([
      { field: 'config.secret_key', issue: expect.stringMatching(/secret key/) },
      { field: 'config.webhook_secret', issue: 'must be a string' },
      { field: 'config.api_base', issue: expect.stringMatching(/http\(s\) URL/) },
      { field: 'config.extra', issue: expect.stringMatching(/not a setting/) },
    ])
    expect(JSON.stringify(bad.body)).not.toContain('pk_live_publishable_value')
    const sandboxWithConfig = await admin.post(base, { name: 'S', processor: 'sandbox', currencies: ['USD'], config: { api_key: 'x' } })
    expect(sandboxWithConfig.status).toBe(422)
    expect(sandboxWithConfig.body.error.details).toEqual([{ field: 'config.api_key', issue: expect.any(String) }])
    const stripeWithout = await admin.post(base, { name: 'S', processor: 'stripe', currencies: ['USD'] })
    expect(stripeWithout.status).toBe(422)
    expect(stripeWithout.body.error.details.map((d: any) => d.field).sort()).toEqual(['config.secret_key', 'config.webhook_secret'])
    expect((await admin.get(base)).body.data).toEqual([])
  })

  it('replaces a configuration with PATCH (checked, sealed, never shown); another tenant’s path is 404', async () => {
    const { tenantId } = await adminTenant()
    const other = await adminTenant()
    const base = `/v1/admin/tenants/${tenantId}/card-processing-accounts`
    const created = await admin.post(base, { name: 'Stripe', processor: 'stripe', currencies: ['USD'], config: { secret_key: 'sk_test_first111', webhook_secret: 'whsec_first' } })
    const id = created.body.data.card_processing_id
    const sealedBefore = await server.db.query<{ config_encrypted: string }>('SELECT config_encrypted FROM card_processing_accounts WHERE id = $1', [id])
    const patched = await admin.patch(`${base}/${id}`, { config: { secret_key: 'sk_test_second222', webhook_secret: 'whsec_second' } })
    expect(patched.status).toBe(200)
    expect(patched.body.data).toMatchObject({ card_processing_id: id, processor: 'stripe' })
    expect(JSON.stringify(patched.body)).not.toContain('sk_test_second222')
    const [row] = await server.db.query<{ config_encrypted: string }>('SELECT config_encrypted FROM card_processing_accounts WHERE id = $1', [id])
    expect(row!.config_encrypted).not.toBe(sealedBefore[0]!.config_encrypted)
    expect(row!.config_encrypted).not.toContain('sk_test_')
    expect(server.services.sealer.open(row!.config_encrypted, `account:${id}`).toString()).toContain('sk_test_second222')

    const refused = await admin.patch(`${base}/${id}`, { config: { secret_key: 'pk_test_publishable' } })
    expect(refused.status).toBe(422)
    const [unchanged] = await server.db.query<{ config_encrypted: string }>('SELECT config_encrypted FROM card_processing_accounts WHERE id = $1', [id])
    expect(unchanged!.config_encrypted).toBe(row!.config_encrypted)
    const elsewhere = await admin.patch(`/v1/admin/tenants/${other.tenantId}/card-processing-accounts/${id}`, { config: { secret_key: 'sk_test_x1', webhook_secret: 'whsec_x' } })
    expect(elsewhere.status).toBe(404)
  })

  it('refuses an unknown processor and an unknown currency with 422 naming the field', async () => {
    const { tenantId } = await adminTenant()
    const base = `/v1/admin/tenants/${tenantId}/card-processing-accounts`
    const processor = await admin.post(base, { name: 'Acme', processor: 'acme-pay', currencies: ['USD'] })
    expect(processor.status).toBe(422)
    expect(processor.body.error.details).toEqual([expect.objectContaining({ field: 'processor' })])
    const currency = await admin.post(base, { name: 'Odd', processor: 'sandbox', currencies: ['USD', 'XYZ'] })
    expect(currency.status).toBe(422)
    expect(currency.body.error.details).toEqual([expect.objectContaining({ field: 'currencies.1' })])
    expect((await admin.get(base)).body.data).toEqual([])
  })

  it('answers 404 for a tenant that does not exist', async () => {
    const base = '/v1/admin/tenants/ten_doesnotexist000000000000/card-processing-accounts'
    expect((await admin.post(base, { name: 'x', processor: 'sandbox', currencies: ['USD'] })).status).toBe(404)
    expect((await admin.get(base)).status).toBe(404)
  })
})

describe("approving a user's enrolment", () => {
  /** A sandbox account of the tenant, made through /v1/admin. */
  const sandboxAccount = async (tenantId: string, name: string, currencies: string[]) =>
    (await admin.post(`/v1/admin/tenants/${tenantId}/card-processing-accounts`, { name, processor: 'sandbox', currencies })).body.data as { card_processing_id: string }
  const approve = (tenantId: string, account: { card_processing_id: string }, userId: string) =>
    admin.post(`/v1/admin/tenants/${tenantId}/card-processing-accounts/${account.card_processing_id}/approvals`, { user_id: userId })
  const newUser = async (api: Api, name: string) => (await api.post('/v1/platform/users', { name })).body.data.id as string

  it('approves the user for the account; the tenant then sees it approved and default', async () => {
    const { tenantId, api } = await adminTenant()
    const account = await sandboxAccount(tenantId, 'Main', ['EUR'])
    const userId = await newUser(api, 'Approved')
    expect((await api.get(`/v1/platform/card-processing/users/${userId}?currency=EUR`)).body.data).toEqual([])

    const r = await approve(tenantId, account, userId)
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ tenant_id: tenantId, user_id: userId, card_processing_id: account.card_processing_id, status: 'approved' })

    const seen = await api.get(`/v1/platform/card-processing/users/${userId}?currency=EUR`)
    expect(seen.body.data).toEqual([expect.objectContaining({ card_processing_id: account.card_processing_id, status: 'approved', is_default: true })])
  })

  it.each([
    { what: 'a user of another tenant', accountOf: 'mine', userOf: 'theirs' },
    { what: 'an account of another tenant', accountOf: 'theirs', userOf: 'mine' },
  ] as const)('answers 404 for $what, and approves nothing', async ({ accountOf, userOf }) => {
    const tenants = { mine: await adminTenant(), theirs: await adminTenant() }
    const account = await sandboxAccount(tenants[accountOf].tenantId, 'Main', ['USD'])
    const userId = await newUser(tenants[userOf].api, 'Elsewhere')

    const r = await approve(tenants.mine.tenantId, account, userId)
    expect(r.status).toBe(404)
    expect(r.body.error.code).toBe('not_found')
    expect((await tenants[userOf].api.get(`/v1/platform/card-processing/users/${userId}`)).body.data).toEqual([])
  })
})

describe('only admin-scoped clients reach /v1/admin', () => {
  /** Every /v1/admin operation the OpenAPI document lists, with its path parameters filled in. */
  function adminOperations(tenantId: string) {
    const doc = server.app.swagger() as { paths: Record<string, Record<string, unknown>> }
    const ops: { method: string; path: string }[] = []
    for (const [p, item] of Object.entries(doc.paths)) {
      if (!p.startsWith('/v1/admin')) continue
      for (const method of Object.keys(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
        const filled = p.replace(/\{tenant_id\}/g, tenantId).replace(/\{[a-z_]+\}/g, 'x_placeholder')
        ops.push({ method: method.toUpperCase(), path: filled })
      }
    }
    return ops
  }

  it('answers 403 to a tenant token with every tenant scope, on every admin route', async () => {
    const tenant = await createTenant(server)
    const token = await getToken(server, tenant, { scope: TENANT_SCOPES.join(' ') })
    const api = apiClient(server, token)
    const ops = adminOperations(tenant.tenantId)
    expect(ops.length).toBeGreaterThanOrEqual(8)
    for (const op of ops) {
      const r = await api.call(op.method, op.path, op.method === 'GET' || op.method === 'DELETE' ? undefined : {})
      expect([op.method, op.path, r.status, r.body.error?.code]).toEqual([op.method, op.path, 403, 'forbidden'])
    }
    // Nothing was created on the way.
    expect((await admin.get(`/v1/admin/tenants/${tenant.tenantId}/card-processing-accounts`)).body.data).toEqual([])
  })

  it('answers 401 without a token', async () => {
    const anonymous = apiClient(server)
    const tenant = await createTenant(server)
    for (const op of adminOperations(tenant.tenantId)) {
      const r = await anonymous.call(op.method, op.path, op.method === 'GET' || op.method === 'DELETE' ? undefined : {})
      expect([op.method, op.path, r.status]).toEqual([op.method, op.path, 401])
    }
  })
})
