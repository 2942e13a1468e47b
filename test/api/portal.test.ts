/**
 * SPEC "Tenant portal" (issue 14 item 1), access: POST /v1/platform/portal-sessions makes a
 * one-time link; POST /portal/api/sessions exchanges its token once for a session secret;
 * `Authorization: Bearer pps_…` then works on the same /v1/platform routes as the API, with
 * the link's scopes and tenant only. Also the payment-intent list's amount filter and a
 * payment's timeline (issue 14 item 2), through HTTP.
 * One server for the file; every test works in its own tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CARDS,
  HOUR,
  SECOND,
  addPayer,
  answerChallenge,
  apiClient,
  claimPage,
  confirm,
  expectFieldRefused,
  expectNotFoundAsMissing,
  getToken,
  mint,
  newCard,
  pay,
  setupPayer,
  startPrivateServer,
  startServer,
  type TestServer,
} from '../helpers/index.js'

let server: TestServer
const logs: string[] = []
beforeAll(async () => {
  server = await startServer({}, { logs })
})
afterAll(() => server.close())

/** POST /portal/api/sessions as the portal's page sends it. */
const exchange = (token: unknown, headers: Record<string, string> = {}) => apiClient(server).post('/portal/api/sessions', { token }, { headers })
const tokenOfUrl = (url: string) => url.slice(url.lastIndexOf('/') + 1)

/** A portal link made by the payer's API client (all tenant scopes unless `token` says otherwise). */
async function portalLink(p: { api: ReturnType<typeof apiClient> }, body: Record<string, unknown> = {}, token?: string) {
  const r = await p.api.post('/v1/platform/portal-sessions', body, token ? { token } : {})
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return { url: r.body.data.url as string, token: tokenOfUrl(r.body.data.url), expiresAt: r.body.data.expires_at as string, answer: r }
}

/** A link exchanged: its session secret and an API client that uses it as its bearer. */
async function portalSession(p: { api: ReturnType<typeof apiClient> }, body: Record<string, unknown> = {}, token?: string) {
  const link = await portalLink(p, body, token)
  const r = await exchange(link.token)
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return { link, secret: r.body.data.secret as string, data: r.body.data, portal: apiClient(server, r.body.data.secret) }
}

describe('POST /v1/platform/portal-sessions makes a one-time link', () => {
  it('answers the URL under PUBLIC_BASE_URL/portal/ and its expiry, an hour by default, not cached', async () => {
    const p = await setupPayer(server)
    const before = server.clock.now().getTime()
    const { url, token, expiresAt, answer } = await portalLink(p)
    expect(answer.body).toEqual({ success: true, data: { url, expires_at: expiresAt }, error: null, request_id: expect.stringMatching(/^req_/) })
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(url).toBe(`${server.baseUrl}/portal/${token}`)
    expect(token).toMatch(/^plk_[A-Za-z0-9_-]{43}$/)
    expect(Date.parse(expiresAt) - before).toBeGreaterThanOrEqual(3600 * SECOND)
    expect(Date.parse(expiresAt) - before).toBeLessThan(3600 * SECOND + 5 * SECOND)
  })

  it('takes expires_in from 60 to 86400 seconds, and refuses anything else, unknown fields and strings', async () => {
    const p = await setupPayer(server)
    const short = await portalLink(p, { expires_in: 60 })
    expect(Date.parse(short.expiresAt) - server.clock.now().getTime()).toBeLessThanOrEqual(60 * SECOND)
    await portalLink(p, { expires_in: 86_400 })
    for (const expires_in of [59, 86_401, 1.5, '600', null]) {
      const r = await p.api.post('/v1/platform/portal-sessions', { expires_in })
      expect(r.status, JSON.stringify(expires_in)).toBe(422)
      expect(r.body.error.details[0].field).toBe('expires_in')
    }
    expectFieldRefused(await p.api.post('/v1/platform/portal-sessions', { scopes: ['admin'] }), 'scopes')
  })

  it('needs payments:read; without a token it is 401', async () => {
    const p = await setupPayer(server)
    const usersOnly = await getToken(server, p.tenant, { scope: 'users:read' })
    const r = await p.api.post('/v1/platform/portal-sessions', {}, { token: usersOnly })
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('forbidden')
    expect((await apiClient(server).post('/v1/platform/portal-sessions', {})).status).toBe(401)
  })
})

describe('POST /portal/api/sessions exchanges a link once', () => {
  it('gives a pps_ session with the tenant, the scopes of the calling token and the link’s expiry', async () => {
    const p = await setupPayer(server, { name: 'Portal Shop' })
    const readOnly = await getToken(server, p.tenant, { scope: 'payments:read users:read' })
    const link = await portalLink(p, { expires_in: 600 }, readOnly)
    const r = await exchange(link.token)
    expect(r.status).toBe(201)
    expect(r.headers.get('cache-control')).toBe('no-store')
    expect(r.body).toEqual({
      success: true,
      data: { secret: expect.stringMatching(/^pps_[A-Za-z0-9_-]{43}$/), expires_at: link.expiresAt, tenant: { id: p.tenant.tenantId, name: 'Portal Shop' }, scopes: ['payments:read', 'users:read'] },
      error: null,
      request_id: expect.stringMatching(/^req_/),
    })
  })

  it('answers a second exchange 410 portal_link_used, and the first session keeps working', async () => {
    const p = await setupPayer(server)
    const s = await portalSession(p)
    const again = await exchange(s.link.token)
    expect(again.status).toBe(410)
    expect(again.body).toMatchObject({ success: false, data: null, error: { code: 'portal_link_used' } })
    expect(again.headers.get('cache-control')).toBe('no-store')
    expect((await s.portal.get('/v1/platform/payment-intents')).status).toBe(200)
  })

  it('answers an expired link 410 portal_link_expired, and grants nothing', async () => {
    const p = await setupPayer(server)
    const link = await portalLink(p, { expires_in: 60 })
    server.clock.advance(61 * SECOND)
    const r = await exchange(link.token)
    expect(r.status).toBe(410)
    expect(r.body.error.code).toBe('portal_link_expired')
    expect(r.body.data).toBeNull()
  })

  it('answers an unknown or malformed token 404 portal_link_not_found, and a body that is not {token} 422', async () => {
    for (const token of ['plk_' + 'A'.repeat(43), 'plk_short', 'pi_123', '']) {
      const r = await exchange(token)
      expect(r.status, token).toBe(404)
      expect(r.body.error.code).toBe('portal_link_not_found')
    }
    expectFieldRefused(await apiClient(server).post('/portal/api/sessions', { token: 'plk_x', scopes: ['admin'] }), 'scopes')
    expect((await exchange(42)).status).toBe(422)
    const form = await apiClient(server).post('/portal/api/sessions', undefined, { raw: 'token=plk_x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(form.status).toBe(415)
  })

  it('lets exactly one of 20 concurrent exchanges win', async () => {
    const p = await setupPayer(server)
    const link = await portalLink(p)
    const answers = await Promise.all(Array.from({ length: 20 }, () => exchange(link.token)))
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1)
    expect(answers.filter((a) => a.status === 410).map((a) => a.body.error.code)).toEqual(Array(19).fill('portal_link_used'))
  })

  it('counts unknown tokens against the caller’s address, like the payment page’s loads', async () => {
    const limited = await startServer({ RATE_LIMIT_MULTIPLIER: '1' })
    try {
      const p = await setupPayer(limited)
      const good = (await p.api.post('/v1/platform/portal-sessions', {})).body.data.url as string
      const statuses: number[] = []
      for (let i = 0; i < 21; i++) statuses.push((await apiClient(limited).post('/portal/api/sessions', { token: `plk_${String(i).padStart(43, 'x')}` })).status)
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(404))
      expect(statuses[20]).toBe(429)
      // Once over the limit, even a good token waits: guessing does not continue by mixing in real ones.
      const r = await apiClient(limited).post('/portal/api/sessions', { token: tokenOfUrl(good) })
      expect(r.status).toBe(429)
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/)
    } finally {
      await limited.close()
    }
  })
})

describe('a portal session is a bearer credential for the /v1/platform routes', () => {
  it('lists the tenant’s payments and reads them like the API', async () => {
    const p = await setupPayer(server)
    const paid = await pay(p)
    const { portal } = await portalSession(p)
    const list = await portal.get('/v1/platform/payment-intents')
    expect(list.status).toBe(200)
    expect(list.body.data.map((i: { id: string }) => i.id)).toEqual([paid.intentId])
    expect((await portal.get(`/v1/platform/payment-intents/${paid.intentId}`)).body.data).toMatchObject({ id: paid.intentId, status: 'succeeded' })
  })

  it('keeps the scopes of the token that made the link: a payments:read session cannot refund (403)', async () => {
    const p = await setupPayer(server)
    const paid = await pay(p)
    const readOnly = await getToken(server, p.tenant, { scope: 'payments:read' })
    const { portal } = await portalSession(p, {}, readOnly)
    const refund = await portal.post(`/v1/platform/payment-intents/${paid.intentId}/refunds`, { amount: '1.00' })
    expect(refund.status).toBe(403)
    expect(refund.body.error.code).toBe('forbidden')
    expect((await p.api.get(`/v1/platform/payment-intents/${paid.intentId}/refunds`)).body.data).toEqual([])
    // A session of a client with payments:write refunds through the same route.
    const writer = await portalSession(p)
    const ok = await writer.portal.post(`/v1/platform/payment-intents/${paid.intentId}/refunds`, { amount: '1.00' })
    expect(ok.status).toBe(201)
    expect((await p.api.get(`/v1/platform/payment-intents/${paid.intentId}`)).body.data.amount_refunded).toBe('1.00')
  })

  it('sees only its tenant: tenant B’s session gets 404 for tenant A’s payment, and an empty list', async () => {
    const a = await setupPayer(server)
    const paidA = await pay(a)
    const b = await setupPayer(server)
    const { portal } = await portalSession(b)
    expectNotFoundAsMissing(await portal.get(`/v1/platform/payment-intents/${paidA.intentId}`), await portal.get('/v1/platform/payment-intents/pi_00000000000000000000000000'))
    expect((await portal.get(`/v1/platform/payment-intents?user_id=${a.userId}`)).body.data).toEqual([])
    expect((await portal.get(`/v1/platform/payment-intents/${paidA.intentId}/timeline`)).status).toBe(404)
  })

  it('ends at the link’s expires_at', async () => {
    const p = await setupPayer(server)
    const { portal } = await portalSession(p, { expires_in: 120 })
    expect((await portal.get('/v1/platform/payment-intents')).status).toBe(200)
    server.clock.advance(121 * SECOND)
    const r = await portal.get('/v1/platform/payment-intents')
    expect(r.status).toBe(401)
    expect(r.body.error.code).toBe('unauthorized')
    expect(r.headers.get('www-authenticate')).toContain('invalid_token')
  })

  it('ends when the OAuth client that made it is revoked (401), and its unused links grant nothing', async () => {
    const p = await setupPayer(server)
    const client = await server.services.tenants.createClient(p.tenant.tenantId, ['payments:read'])
    const token = await getToken(server, client)
    const { portal } = await portalSession(p, {}, token)
    const unused = await portalLink(p, {}, token)
    expect((await portal.get('/v1/platform/payment-intents')).status).toBe(200)
    await server.services.tenants.revokeClient(client.clientId)
    expect((await portal.get('/v1/platform/payment-intents')).status).toBe(401)
    const r = await exchange(unused.token)
    expect(r.status).toBe(410)
    expect(r.body.error.code).toBe('portal_link_expired')
  })

  it('cannot make portal links (403): a session cannot extend itself', async () => {
    const p = await setupPayer(server)
    const { portal } = await portalSession(p)
    const r = await portal.post('/v1/platform/portal-sessions', { expires_in: 86_400 })
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('forbidden')
    // As every 403 of a bearer route, it says why in the challenge (RFC 6750 §3).
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="paylink", error="insufficient_scope"')
  })

  it('counts secrets that open nothing against the caller’s address: after 60, even a good one from there waits (429), and others are not affected', async () => {
    const limited = await startServer({ RATE_LIMIT_MULTIPLIER: '1', TRUST_PROXY: '127.0.0.1/32, ::1' })
    try {
      const p = await setupPayer(limited)
      const link = await portalLink(p)
      const secret = (await apiClient(limited).post('/portal/api/sessions', { token: link.token })).body.data.secret as string
      const from = (ip: string, bearer: string) => apiClient(limited, bearer).get('/v1/platform/payment-intents', { headers: { 'x-forwarded-for': ip } })
      const statuses: number[] = []
      for (let i = 0; i < 61; i++) statuses.push((await from('203.0.113.9', `pps_${String(i).padStart(43, 'x')}`)).status)
      expect(statuses.slice(0, 60)).toEqual(Array(60).fill(401))
      expect(statuses[60]).toBe(429)
      const waiting = await from('203.0.113.9', secret)
      expect(waiting.status).toBe(429)
      expect(waiting.headers.get('retry-after')).toMatch(/^\d+$/)
      expect((await from('198.51.100.7', secret)).status).toBe(200)
      // Access tokens (JWTs) are checked by signature, not looked up: this limit is not theirs.
      expect((await p.api.get('/v1/platform/payment-intents', { headers: { 'x-forwarded-for': '203.0.113.9' } })).status).toBe(200)
    } finally {
      await limited.close()
    }
  })

  it('refuses a made-up or altered secret (401)', async () => {
    const p = await setupPayer(server)
    const { secret } = await portalSession(p)
    for (const bad of [`pps_${'A'.repeat(43)}`, secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A'), 'pps_']) {
      const r = await apiClient(server, bad).get('/v1/platform/payment-intents')
      expect(r.status, bad).toBe(401)
    }
  })
})

describe('the portal’s HTML route can look a link or a session up without using it', () => {
  it('peekLink: valid, then used once exchanged; expired; unknown — with the tenant and its frame origins', async () => {
    const p = await setupPayer(server, { origins: ['https://admin.shop.example', 'https://shop.example'] })
    const link = await portalLink(p)
    const valid = { state: 'valid', tenantId: p.tenant.tenantId, allowedOrigins: ['https://admin.shop.example', 'https://shop.example'] }
    expect(await server.services.portal.peekLink(link.token)).toEqual(valid)
    expect(await server.services.portal.peekLink(link.token)).toEqual(valid)
    const r = await exchange(link.token)
    expect(r.status).toBe(201)
    expect(await server.services.portal.peekLink(link.token)).toEqual({ ...valid, state: 'used' })
    expect(await server.services.portal.sessionTenant(r.body.data.secret)).toEqual(valid)
    const short = await portalLink(p, { expires_in: 60 })
    server.clock.advance(61 * SECOND)
    expect(await server.services.portal.peekLink(short.token)).toEqual({ ...valid, state: 'expired' })
    expect(await server.services.portal.peekLink(`plk_${'z'.repeat(43)}`)).toEqual({ state: 'unknown' })
    expect(await server.services.portal.sessionTenant('pps_nope')).toEqual({ state: 'unknown' })
  })
})

describe('ended portal links and sessions are swept a week after they end', () => {
  it('keeps them answering "used" and "expired" for a week, then deletes them: the link is then not found, and grants nothing', async () => {
    // The sweep crosses tenants and reads the clock: on a database of its own, so it touches no other file's sessions.
    const own = await startPrivateServer()
    try {
      const p = await setupPayer(own)
      const exchangeOn = (token: string) => apiClient(own).post('/portal/api/sessions', { token })
      const used = await portalLink(p, { expires_in: 60 })
      const session = await exchangeOn(used.token)
      expect(session.status).toBe(201)
      const unused = await portalLink(p, { expires_in: 60 })
      const rows = async () => (await own.db.query<{ n: number }>('SELECT count(*)::int AS n FROM portal_sessions WHERE tenant_id = $1', [p.tenant.tenantId]))[0]!.n
      expect(await rows()).toBe(2)

      own.clock.advance(2 * 24 * HOUR)
      await own.services.background.tick()
      expect(await rows()).toBe(2)
      expect((await exchangeOn(used.token)).body.error.code).toBe('portal_link_used')
      expect((await exchangeOn(unused.token)).body.error.code).toBe('portal_link_expired')

      own.clock.advance(6 * 24 * HOUR)
      await own.services.background.tick()
      expect(await rows()).toBe(0)
      for (const token of [used.token, unused.token]) {
        const r = await exchangeOn(token)
        expect(r.status).toBe(404)
        expect(r.body.error.code).toBe('portal_link_not_found')
      }
      expect((await apiClient(own, session.body.data.secret).get('/v1/platform/payment-intents')).status).toBe(401)
    } finally {
      await own.close()
    }
  })
})
