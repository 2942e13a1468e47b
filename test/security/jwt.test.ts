/**
 * JWT attacks on the bearer tokens (issue 6 item 3; SPEC "HTTP surface": RFC 9068 JWTs
 * signed with an asymmetric key; `alg: none`, wrong aud/iss, expired tokens are refused).
 *
 * Every forgery is sent to a sample of protected routes, one per scope (reads and writes,
 * tenant and operator): each answer is 401 with `WWW-Authenticate: Bearer …
 * error="invalid_token"` and the envelope, and no write happens. Forgeries that change a
 * claim are signed with the server's own private key, so only that claim is wrong; the same
 * claims re-signed unchanged are accepted (the control). Self-contained: only the harness.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SignJWT, base64url, decodeJwt, decodeProtectedHeader, exportJWK, exportSPKI, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { apiClient, createTenant, getToken, mint, setupPayer, startServer, type TestServer } from '../helpers/index.js'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'

let server: TestServer
let payer: Awaited<ReturnType<typeof setupPayer>>
let adminToken: string
let intentId: string

const figures = { forgeries: 0, requests: 0, refused: 0, controls: 0 }

interface Route {
  name: string
  admin?: boolean
  method: string
  path: () => string
  body?: () => unknown
}

/** One protected route per scope, reads and writes, tenant and operator. */
const ROUTES: Route[] = [
  { name: 'users:read', method: 'GET', path: () => '/v1/platform/users' },
  { name: 'users:write', method: 'POST', path: () => '/v1/platform/users', body: () => ({ name: 'Forged' }) },
  { name: 'payments:read', method: 'GET', path: () => `/v1/platform/payment-intents/${intentId}` },
  { name: 'payments:write', method: 'POST', path: () => '/v1/platform/card/payment-link', body: () => ({ user_id: payer.userId, amount: '3.00' }) },
  { name: 'webhooks:read', method: 'GET', path: () => '/v1/platform/events' },
  { name: 'webhooks:write', method: 'POST', path: () => '/v1/platform/webhook-endpoints', body: () => ({ url: 'https://forged.example/hook' }) },
  { name: 'admin', admin: true, method: 'GET', path: () => '/v1/admin/tenants' },
  { name: 'admin (write)', admin: true, method: 'POST', path: () => '/v1/admin/clients', body: () => ({}) },
]

const call = (route: Route, token: string | undefined) =>
  apiClient(server).call(route.method, route.path(), route.body?.(), token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })

const encodePart = (value: unknown) => base64url.encode(JSON.stringify(value))
const serverKey = () => server.services.keys.current()
/** Signs header and claims with the server's current private key. */
const signWithServerKey = (header: Record<string, unknown>, claims: JWTPayload) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'ES256', ...header } as { alg: string }).sign(serverKey().privateKey!)
const publicJwk = async () => ((await (await fetch(`${server.baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] }).keys.find((k) => k.kid === serverKey().kid)!
const flipBit = (part: string, at: number) => {
  const bytes = Buffer.from(part, 'base64url')
  bytes[at % bytes.length]! ^= 0x01
  return bytes.toString('base64url')
}

type Forgery = [string, (token: string) => Promise<string>]

/** The attacker's own keys, made once. */
const attackerKeys = new Map<string, Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }>>()
const attackerKey = (alg: 'ES256' | 'RS256') => {
  if (!attackerKeys.has(alg)) attackerKeys.set(alg, generateKeyPair(alg, { extractable: true }))
  return attackerKeys.get(alg)!
}

/** Every forgery, made from a real token of the route's kind. */
const FORGERIES: Forgery[] = [
  ['alg none, no signature', async (t) => `${encodePart({ ...decodeProtectedHeader(t), alg: 'none' })}.${t.split('.')[1]}.`],
  ['alg none, the original signature kept', async (t) => `${encodePart({ ...decodeProtectedHeader(t), alg: 'none' })}.${t.split('.')[1]}.${t.split('.')[2]}`],
  ['alg "None"', async (t) => `${encodePart({ ...decodeProtectedHeader(t), alg: 'None' })}.${t.split('.')[1]}.`],
  ['alg "NONE", no kid', async (t) => `${encodePart({ alg: 'NONE', typ: 'at+jwt' })}.${t.split('.')[1]}.`],
  [
    'HS256 signed with the public JWK (JSON)',
    async (t) => new SignJWT(decodeJwt(t)).setProtectedHeader({ ...decodeProtectedHeader(t), alg: 'HS256' }).sign(new TextEncoder().encode(JSON.stringify(await publicJwk()))),
  ],
  [
    'HS256 signed with the public key (PEM)',
    async (t) =>
      new SignJWT(decodeJwt(t))
        .setProtectedHeader({ ...decodeProtectedHeader(t), alg: 'HS256' })
        .sign(new TextEncoder().encode(await exportSPKI((await importJWK(await publicJwk(), 'ES256')) as CryptoKey))),
  ],
  [
    'HS512 signed with the public key (PEM, no newline)',
    async (t) =>
      new SignJWT(decodeJwt(t))
        .setProtectedHeader({ ...decodeProtectedHeader(t), alg: 'HS512' })
        .sign(new TextEncoder().encode((await exportSPKI((await importJWK(await publicJwk(), 'ES256')) as CryptoKey)).trim())),
  ],
  [
    'ES256 signed by another key under our kid',
    async (t) => new SignJWT(decodeJwt(t)).setProtectedHeader(decodeProtectedHeader(t) as { alg: string }).sign((await attackerKey('ES256')).privateKey),
  ],
  [
    'ES256 signed by another key that the header carries (jwk)',
    async (t) => {
      const { privateKey, publicKey } = await attackerKey('ES256')
      return new SignJWT(decodeJwt(t)).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', jwk: await exportJWK(publicKey) }).sign(privateKey)
    },
  ],
  [
    'RS256 signed by another key',
    async (t) => new SignJWT(decodeJwt(t)).setProtectedHeader({ ...decodeProtectedHeader(t), alg: 'RS256' }).sign((await attackerKey('RS256')).privateKey),
  ],
  ['an unknown kid', async (t) => signWithServerKey({ ...decodeProtectedHeader(t), kid: 'key_doesnotexist' }, decodeJwt(t))],
  ['a kid that is a path', async (t) => signWithServerKey({ ...decodeProtectedHeader(t), kid: '../../../../dev/null' }, decodeJwt(t))],
  ['another audience', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), aud: 'https://other-api.example/v1' })],
  ['the issuer as audience', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), aud: server.baseUrl })],
  ['no audience', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), aud: undefined })],
  ['another issuer', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), iss: 'https://evil.example' })],
  ['the issuer with a trailing slash', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), iss: `${server.baseUrl}/` })],
  ['no issuer', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), iss: undefined })],
  ['typ JWT', async (t) => signWithServerKey({ ...decodeProtectedHeader(t), typ: 'JWT' }, decodeJwt(t))],
  ['typ dpop+jwt', async (t) => signWithServerKey({ ...decodeProtectedHeader(t), typ: 'dpop+jwt' }, decodeJwt(t))],
  ['no typ', async (t) => signWithServerKey({ ...decodeProtectedHeader(t), typ: undefined }, decodeJwt(t))],
  [
    'expired an hour ago',
    async (t) => {
      const now = Math.floor(Date.now() / 1000)
      return signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), iat: now - 7200, exp: now - 3600 })
    },
  ],
  ['no exp', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), exp: undefined })],
  ['not valid before an hour from now', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), nbf: Math.floor(Date.now() / 1000) + 3600 })],
  ['a signature with one bit flipped', async (t) => t.split('.').map((p, i) => (i === 2 ? flipBit(p, 10) : p)).join('.')],
  ['a signature with its last bit flipped', async (t) => t.split('.').map((p, i) => (i === 2 ? flipBit(p, 63) : p)).join('.')],
  ['a truncated signature', async (t) => t.slice(0, -4)],
  ['no signature', async (t) => t.split('.').slice(0, 2).join('.') + '.'],
  ['the signature of another token', async (t) => `${t.split('.').slice(0, 2).join('.')}.${(await signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), jti: 'other' })).split('.')[2]}`],
  ['the payload changed after signing (exp a day later)', async (t) => `${t.split('.')[0]}.${encodePart({ ...decodeJwt(t), exp: decodeJwt(t).exp! + 86400 })}.${t.split('.')[2]}`],
  ['the header changed after signing (typ)', async (t) => `${encodePart({ ...decodeProtectedHeader(t), typ: 'AT+JWT ' })}.${t.split('.').slice(1).join('.')}`],
  ['sub not the client', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), sub: 'cli_someoneelse' })],
  ['a client id that does not exist', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), sub: 'cli_nobody', client_id: 'cli_nobody' })],
  ['no scope claim', async (t) => signWithServerKey(decodeProtectedHeader(t), { ...decodeJwt(t), scope: undefined })],
  ['four parts', async (t) => `${t}.${t.split('.')[2]}`],
]

beforeAll(async () => {
  server = await startServer()
  payer = await setupPayer(server)
  intentId = (await mint(payer, { amount: '1.00' })).intentId
  adminToken = await getToken(server, await server.services.tenants.createClient(null, []))
})
afterAll(async () => {
  console.log(
    `[security/jwt] ${figures.forgeries} kinds of forged or dead token × ${ROUTES.length} routes: ${figures.requests} requests, ${figures.refused} refused with 401 invalid_token, ${figures.requests - figures.refused} let through; ${figures.controls} control requests with real tokens`,
  )
  await server.close()
})

/** What every route's data looks like now, to show that refused writes wrote nothing. */
async function state() {
  const [users, intents, endpoints, clients] = await Promise.all([
    server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM end_users WHERE tenant_id = $1', [payer.tenant.tenantId]),
    server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM payment_intents WHERE tenant_id = $1', [payer.tenant.tenantId]),
    server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_id = $1', [payer.tenant.tenantId]),
    server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM oauth_clients'),
  ])
  return { users: users[0]!.n, intents: intents[0]!.n, endpoints: endpoints[0]!.n, clients: clients[0]!.n }
}

/** Sends `token` to every route (of its kind); returns the answers that were not a proper 401. */
async function refusedEverywhere(what: string, tokenFor: (route: Route) => Promise<string | undefined>): Promise<string[]> {
  const failures: string[] = []
  for (const route of ROUTES) {
    const res = await call(route, await tokenFor(route))
    figures.requests++
    const ok =
      res.status === 401 &&
      /^Bearer\b.*\berror="invalid_token"/.test(res.headers.get('www-authenticate') ?? '') &&
      res.body?.success === false &&
      res.body?.data === null &&
      res.body?.error?.code === 'unauthorized' &&
      /^req_/.test(res.body?.request_id ?? '')
    if (ok) figures.refused++
    else failures.push(`${what} on ${route.method} ${route.path()} (${route.name}) → ${res.status} ${res.headers.get('www-authenticate')} ${JSON.stringify(res.body).slice(0, 160)}`)
  }
  return failures
}

describe('the controls', () => {
  it('accept the real tokens on every sampled route', async () => {
    for (const route of ROUTES) {
      const res = await call(route, route.admin ? adminToken : payer.token)
      figures.controls++
      expect(res.status, `${route.method} ${route.path()} ${JSON.stringify(res.body)}`).toBeLessThan(300)
    }
  })

  it('accept a token re-signed with the server key and unchanged claims (so each refusal below is about its change)', async () => {
    for (const route of ROUTES) {
      const base = route.admin ? adminToken : payer.token
      const res = await call(route, await signWithServerKey(decodeProtectedHeader(base), decodeJwt(base)))
      figures.controls++
      expect(res.status).toBeLessThan(300)
    }
  })
})

describe('forged tokens are refused with 401 on every sampled route', () => {
  it.each(FORGERIES)('%s', async (what, forge) => {
    figures.forgeries++
    const before = await state()
    const failures = await refusedEverywhere(what, (route) => forge(route.admin ? adminToken : payer.token))
    expect(failures).toEqual([])
    expect(await state()).toEqual(before)
  })

  it('no token, an empty one, and another scheme', async () => {
    figures.forgeries += 3
    const failures = [
      ...(await refusedEverywhere('no token', async () => undefined)),
      ...(await refusedEverywhere('an empty bearer token', async () => '')),
    ]
    for (const route of ROUTES) {
      const res = await apiClient(server).call(route.method, route.path(), route.body?.(), { headers: { authorization: `Basic ${Buffer.from(`${payer.tenant.clientId}:${payer.tenant.clientSecret}`).toString('base64')}` } })
      figures.requests++
      if (res.status === 401 && res.body?.error?.code === 'unauthorized') figures.refused++
      else failures.push(`Basic credentials on ${route.method} ${route.path()} → ${res.status}`)
    }
    expect(failures).toEqual([])
  })
})

describe('tokens that were real', () => {
  it('are refused once expired (the server clock moved past ACCESS_TOKEN_TTL)', async () => {
    figures.forgeries++
    const tenantToken = await getToken(server, payer.tenant, { scope: TENANT_SCOPES.join(' ') })
    const admin = await getToken(server, await server.services.tenants.createClient(null, []))
    const ttl = server.config.accessTokenTtlSeconds
    try {
      server.clock.advance((ttl + 1) * 1000)
      const before = await state()
      expect(await refusedEverywhere('an expired token', async (route) => (route.admin ? admin : tenantToken))).toEqual([])
      expect(await state()).toEqual(before)
    } finally {
      server.clock.reset()
    }
  })

  it('are refused at once when their client is revoked through /v1/admin', async () => {
    figures.forgeries++
    const revoker = apiClient(server, adminToken)
    // A second client of the file's tenant, and a second operator client, both made through the operator API.
    const tenantClient = (await revoker.post('/v1/admin/clients', { tenant_id: payer.tenant.tenantId })).body.data
    const operatorClient = (await revoker.post('/v1/admin/clients', {})).body.data
    const tenantToken = await getToken(server, { clientId: tenantClient.client_id, clientSecret: tenantClient.client_secret }, { scope: TENANT_SCOPES.join(' ') })
    const operatorToken = await getToken(server, { clientId: operatorClient.client_id, clientSecret: operatorClient.client_secret })
    const tokenFor = async (route: Route) => (route.admin ? operatorToken : tenantToken)
    for (const route of ROUTES) {
      figures.controls++
      expect((await call(route, await tokenFor(route))).status).toBeLessThan(300)
    }
    expect((await revoker.delete(`/v1/admin/clients/${tenantClient.client_id}`)).status).toBe(200)
    expect((await revoker.delete(`/v1/admin/clients/${operatorClient.client_id}`)).status).toBe(200)
    const before = await state()
    expect(await refusedEverywhere('a revoked client', tokenFor)).toEqual([])
    expect(await state()).toEqual(before)
    // And it gets no new token.
    const res = await fetch(`${server.baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: tenantClient.client_id, client_secret: tenantClient.client_secret }),
    })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: 'invalid_client' })
  })

  it("are refused when re-signed with another tenant's tenant_id", async () => {
    figures.forgeries++
    const other = await createTenant(server)
    const failures = await refusedEverywhere('tenant_id of another tenant', async (route) =>
      route.admin ? signWithServerKey(decodeProtectedHeader(adminToken), { ...decodeJwt(adminToken), tenant_id: other.tenantId }) : signWithServerKey(decodeProtectedHeader(payer.token), { ...decodeJwt(payer.token), tenant_id: other.tenantId }),
    )
    expect(failures).toEqual([])
  })
})
