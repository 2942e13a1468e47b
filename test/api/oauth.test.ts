/**
 * OAuth 2.0 as SPEC "HTTP surface" and issue 2 item 3 say: the client credentials grant
 * (RFC 6749 §4.4) with client_secret_basic and client_secret_post, RFC 6749 §5.2 errors,
 * RFC 8414 metadata, the JWKS, RFC 9068 JWT access tokens, scopes, and the tokens that
 * protected routes refuse. Everything goes through real HTTP.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as oauth from 'oauth4webapi'
import {
  SignJWT,
  base64url,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose'
import { apiClient, createTenant, freePort, getToken, openPrivateDb, startServer, type TestServer, type TestTenant } from '../helpers/index.js'
import { type Db } from '../../src/storage/db.js'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'

const ALL_TENANT_SCOPES = TENANT_SCOPES.join(' ')
const TTL_SECONDS = 900

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

// ---------------------------------------------------------------------------------------
// Small helpers: raw token requests, calls to a protected route, forged tokens.

interface TokenAnswer {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/** HTTP Basic credentials as RFC 6749 §2.3.1 wants them: each part form-encoded, then base64. */
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

/** POST /oauth/token with whatever body and headers a test wants; a URLSearchParams body is sent form-encoded. */
async function postToken(body: URLSearchParams | string, headers: Record<string, string> = {}, baseUrl = server.baseUrl): Promise<TokenAnswer> {
  const res = await fetch(`${baseUrl}/oauth/token`, { method: 'POST', headers, body })
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields)

/** GET /v1/platform/users (scope users:read) with this Authorization header value, or none. */
async function listUsers(authorization?: string) {
  return apiClient(server).get('/v1/platform/users', { headers: authorization ? { authorization } : {} })
}
const bearer = (token: string) => `Bearer ${token}`

/** The parts of a real token, to forge variations of it. */
async function realToken(scope = 'users:read') {
  const tenant = await createTenant(server)
  const token = await getToken(server, tenant, { scope })
  return { tenant, token, header: decodeProtectedHeader(token), claims: decodeJwt(token) }
}

/** Signs header and claims with the server's own current private key: only what a test changes is wrong. */
const signWithServerKey = (header: ProtectedHeaderParameters, claims: JWTPayload) =>
  new SignJWT(claims).setProtectedHeader({ ...header, alg: header.alg ?? 'ES256' }).sign(server.services.keys.current().privateKey)

const encodePart = (value: unknown) => base64url.encode(JSON.stringify(value))

async function jwks(baseUrl = server.baseUrl): Promise<JSONWebKeySet> {
  return (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as JSONWebKeySet
}

/** A 401 from a protected route: the Bearer challenge and the envelope. */
function expectInvalidToken(res: Awaited<ReturnType<typeof listUsers>>) {
  expect(res.status).toBe(401)
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b.*\berror="invalid_token"/)
  expect(res.body).toMatchObject({ success: false, data: null, error: { code: 'unauthorized' }, request_id: expect.stringMatching(/^req_/) })
}

/** The RFC 6749 §5.2 form: error and error_description, nothing of the envelope. */
function expectOAuthError(res: TokenAnswer, status: number, error: string) {
  expect(res.status).toBe(status)
  expect(res.body).toEqual({ error, error_description: expect.any(String) })
  expect(res.headers.get('cache-control')).toContain('no-store')
}

// ---------------------------------------------------------------------------------------

describe('POST /oauth/token: the client credentials grant', () => {
  let tenant: TestTenant
  beforeAll(async () => {
    tenant = await createTenant(server)
  })

  it('issues a working token to an OAuth client library using client_secret_basic', async () => {
    const token = await getToken(server, tenant, { method: 'basic' })
    const res = await listUsers(bearer(token))
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ success: true, data: [] })
  })

  it('issues a working token to an OAuth client library using client_secret_post', async () => {
    const token = await getToken(server, tenant, { method: 'post' })
    expect((await listUsers(bearer(token))).status).toBe(200)
  })

  it.each([
    ['client_secret_basic', () => postToken(form({ grant_type: 'client_credentials' }), { authorization: basic(tenant.clientId, tenant.clientSecret) })],
    ['client_secret_post', () => postToken(form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret }))],
  ])('answers {access_token, token_type "Bearer", expires_in, scope} with Cache-Control no-store (%s)', async (_method, request) => {
    const res = await request()
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('cache-control')).toContain('no-store')
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: TTL_SECONDS, scope: ALL_TENANT_SCOPES })
  })

  it('gives every scope of the client when no scope is asked for', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials' }), { authorization: basic(tenant.clientId, tenant.clientSecret) })
    expect(res.body.scope).toBe(ALL_TENANT_SCOPES)
    expect(decodeJwt(res.body.access_token as string).scope).toBe(ALL_TENANT_SCOPES)
  })

  it('narrows the token to the scopes asked for, and the narrowed token can do only that', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials', scope: 'users:read payments:read' }), { authorization: basic(tenant.clientId, tenant.clientSecret) })
    expect(res.status).toBe(200)
    expect(res.body.scope).toBe('users:read payments:read')
    const token = res.body.access_token as string
    expect(decodeJwt(token).scope).toBe('users:read payments:read')
    const api = apiClient(server, token)
    expect((await api.get('/v1/platform/users')).status).toBe(200)
    expect((await api.post('/v1/platform/users', { email: 'someone@example.com' })).status).toBe(403)
  })

  it('refuses with invalid_scope a scope the client does not have', async () => {
    const narrow = await server.services.tenants.createClient(tenant.tenantId, ['users:read'])
    const res = await postToken(form({ grant_type: 'client_credentials', scope: 'users:read users:write' }), { authorization: basic(narrow.clientId, narrow.clientSecret) })
    expectOAuthError(res, 400, 'invalid_scope')
  })

  it('refuses with invalid_scope a scope that does not exist', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials', scope: 'payments:refund' }), { authorization: basic(tenant.clientId, tenant.clientSecret) })
    expectOAuthError(res, 400, 'invalid_scope')
  })

  it('refuses a tenant client the admin scope', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials', scope: 'admin' }), { authorization: basic(tenant.clientId, tenant.clientSecret) })
    expectOAuthError(res, 400, 'invalid_scope')
  })
})

describe('POST /oauth/token: errors in RFC 6749 §5.2 form, not the envelope', () => {
  let tenant: TestTenant
  beforeAll(async () => {
    tenant = await createTenant(server)
  })

  it('answers a wrong secret with 401 invalid_client and a WWW-Authenticate challenge (client_secret_basic)', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials' }), { authorization: basic(tenant.clientId, `${tenant.clientSecret}x`) })
    expectOAuthError(res, 401, 'invalid_client')
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic\b/)
  })

  it('answers a form over the body limit with 413 invalid_request, in the same form', async () => {
    const res = await postToken(`grant_type=client_credentials&pad=${'x'.repeat(100 * 1024)}`, { authorization: basic(tenant.clientId, tenant.clientSecret) })
    expectOAuthError(res, 413, 'invalid_request')
  })

  it('answers a wrong secret with 401 invalid_client (client_secret_post)', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: 'pls_wrong' }))
    expectOAuthError(res, 401, 'invalid_client')
    expect(res.headers.get('www-authenticate')).not.toBeNull()
  })

  it('answers an unknown client exactly like a wrong secret, so client ids cannot be probed', async () => {
    const unknown = await postToken(form({ grant_type: 'client_credentials' }), { authorization: basic('client_doesnotexist', tenant.clientSecret) })
    const wrongSecret = await postToken(form({ grant_type: 'client_credentials' }), { authorization: basic(tenant.clientId, 'pls_wrong') })
    expectOAuthError(unknown, 401, 'invalid_client')
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Basic\b/)
    expect(unknown.body).toEqual(wrongSecret.body)
  })

  it('answers a request without client credentials with 401 invalid_client', async () => {
    expectOAuthError(await postToken(form({ grant_type: 'client_credentials' })), 401, 'invalid_client')
  })

  it('lets an OAuth client library see the refusal', async () => {
    await expect(getToken(server, { clientId: tenant.clientId, clientSecret: 'pls_wrong' })).rejects.toMatchObject({ status: 401 })
  })

  it.each(['password', 'authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'])('answers grant_type %s with unsupported_grant_type', async (grant) => {
    const res = await postToken(form({ grant_type: grant }), { authorization: basic(tenant.clientId, tenant.clientSecret) })
    expectOAuthError(res, 400, 'unsupported_grant_type')
  })

  it('answers a request without grant_type with invalid_request', async () => {
    const res = await postToken(form({ scope: 'users:read' }), { authorization: basic(tenant.clientId, tenant.clientSecret) })
    expectOAuthError(res, 400, 'invalid_request')
  })

  it('answers a JSON body with invalid_request: the endpoint is form-encoded', async () => {
    const res = await postToken(JSON.stringify({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret }), {
      'content-type': 'application/json',
    })
    expectOAuthError(res, 400, 'invalid_request')
  })

  it.each([
    ['an XML body', 'application/xml', '<grant_type>client_credentials</grant_type>'],
    ['malformed JSON', 'application/json', '{"grant_type":'],
  ])('answers %s with invalid_request in OAuth form, not the envelope', async (_what, type, body) => {
    const res = await postToken(body, { 'content-type': type, authorization: basic(tenant.clientId, tenant.clientSecret) })
    expectOAuthError(res, 400, 'invalid_request')
  })

  it('answers credentials sent both in Basic and in the form with invalid_request', async () => {
    const res = await postToken(form({ grant_type: 'client_credentials', client_id: tenant.clientId, client_secret: tenant.clientSecret }), {
      authorization: basic(tenant.clientId, tenant.clientSecret),
    })
    expectOAuthError(res, 400, 'invalid_request')
  })

  it('answers a parameter sent twice with invalid_request', async () => {
    const res = await postToken('grant_type=client_credentials&scope=users:read&scope=users:write', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(tenant.clientId, tenant.clientSecret),
    })
    expectOAuthError(res, 400, 'invalid_request')
  })
})

describe('discovery: RFC 8414 metadata and the JWKS', () => {
  it('publishes authorization server metadata that an OAuth client library accepts', async () => {
    const issuer = new URL(server.baseUrl)
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true })
    const as = await oauth.processDiscoveryResponse(issuer, response)
    expect(as).toMatchObject({
      issuer: server.baseUrl,
      token_endpoint: `${server.baseUrl}/oauth/token`,
      jwks_uri: `${server.baseUrl}/.well-known/jwks.json`,
      token_endpoint_auth_methods_supported: expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
      grant_types_supported: expect.arrayContaining(['client_credentials']),
      scopes_supported: expect.arrayContaining([...TENANT_SCOPES, 'admin']),
    })
  })

  it('publishes the ES256 public key that signs tokens, and nothing private', async () => {
    const { keys } = await jwks()
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: expect.any(String), x: expect.any(String), y: expect.any(String) })
      for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(privateMember)
    }
  })

  it('lets anyone verify an issued token with the published keys alone', async () => {
    const { token, header } = await realToken()
    const set = await jwks()
    expect(set.keys.map((k) => k.kid)).toContain(header.kid)
    const { payload } = await jwtVerify(token, createLocalJWKSet(set), { issuer: server.baseUrl, typ: 'at+jwt', algorithms: ['ES256'] })
    expect(payload.sub).toBeDefined()
  })
})

describe('access tokens are RFC 9068 JWTs', () => {
  it('carry typ at+jwt, alg ES256 and the kid of a published key in the header', async () => {
    const { header } = await realToken()
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) })
  })

  it('carry iss, aud, sub, client_id, tenant_id, scope, iat, exp and jti', async () => {
    const before = Math.floor(Date.now() / 1000)
    const { tenant, claims } = await realToken('users:read payments:write')
    const after = Math.ceil(Date.now() / 1000)
    expect(claims).toEqual({
      iss: server.baseUrl,
      aud: expect.any(String),
      sub: tenant.clientId,
      client_id: tenant.clientId,
      tenant_id: tenant.tenantId,
      scope: 'users:read payments:write',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
    })
    expect(claims.aud).not.toBe('')
    expect(claims.iat).toBeGreaterThanOrEqual(before)
    expect(claims.iat).toBeLessThanOrEqual(after)
    expect(claims.exp).toBe(claims.iat! + TTL_SECONDS)
  })

  it('give every token its own jti', async () => {
    const tenant = await createTenant(server)
    const [a, b] = await Promise.all([getToken(server, tenant), getToken(server, tenant)])
    expect(decodeJwt(a!).jti).not.toBe(decodeJwt(b!).jti)
  })
})

describe('protected routes need a bearer token with the route scope', () => {
  it('answer no token with 401, a Bearer invalid_token challenge and the envelope', async () => {
    expectInvalidToken(await listUsers())
  })

  it('answer another authorization scheme with 401', async () => {
    const tenant = await createTenant(server)
    expectInvalidToken(await listUsers(basic(tenant.clientId, tenant.clientSecret)))
  })

  it('answer a token that is not a JWT with 401', async () => {
    expectInvalidToken(await listUsers(bearer('not-a-token')))
  })

  it('answer a valid token that lacks the scope with 403 forbidden', async () => {
    const tenant = await createTenant(server)
    const token = await getToken(server, tenant, { scope: 'payments:read' })
    const res = await listUsers(bearer(token))
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ success: false, data: null, error: { code: 'forbidden' } })
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/)
  })
})

describe('tokens the server did not issue as they are are refused with 401', () => {
  it('accepts a token re-signed with its own key and unchanged claims (so the refusals below are about the change)', async () => {
    const { header, claims } = await realToken()
    const res = await listUsers(bearer(await signWithServerKey(header, claims)))
    expect(res.status).toBe(200)
  })

  it('refuses an unsigned token (alg none)', async () => {
    const { header, claims } = await realToken()
    const unsigned = `${encodePart({ ...header, alg: 'none' })}.${encodePart(claims)}.`
    expectInvalidToken(await listUsers(bearer(unsigned)))
  })

  it.each([
    ['the public JWK as JSON', async (jwk: JWK) => new TextEncoder().encode(JSON.stringify(jwk))],
    ['the public key as PEM', async (jwk: JWK) => new TextEncoder().encode(await exportSPKI((await importJWK(jwk, 'ES256')) as CryptoKey))],
  ])('refuses an HS256 token whose HMAC secret is %s', async (_what, secretOf) => {
    const { header, claims } = await realToken()
    const publicJwk = (await jwks()).keys.find((k) => k.kid === header.kid)!
    expect(publicJwk).toBeDefined()
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: header.kid! }).sign(await secretOf(publicJwk))
    expectInvalidToken(await listUsers(bearer(forged)))
  })

  it('refuses a token signed by another ES256 key under the kid of ours', async () => {
    const { header, claims } = await realToken()
    const { privateKey } = await generateKeyPair('ES256')
    const forged = await new SignJWT(claims).setProtectedHeader({ ...header, alg: 'ES256' }).sign(privateKey)
    expectInvalidToken(await listUsers(bearer(forged)))
  })

  it('refuses a token for another audience', async () => {
    const { header, claims } = await realToken()
    expectInvalidToken(await listUsers(bearer(await signWithServerKey(header, { ...claims, aud: 'https://other-api.example/v1' }))))
  })

  it('refuses a token from another issuer', async () => {
    const { header, claims } = await realToken()
    expectInvalidToken(await listUsers(bearer(await signWithServerKey(header, { ...claims, iss: 'https://evil.example' }))))
  })

  it.each(['JWT', 'dpop+jwt'])('refuses a token whose typ is %s rather than at+jwt', async (typ) => {
    const { header, claims } = await realToken()
    expectInvalidToken(await listUsers(bearer(await signWithServerKey({ ...header, typ }, claims))))
  })

  it('accepts a token until its expiry and refuses it after ACCESS_TOKEN_TTL (900 s)', async () => {
    const { token } = await realToken()
    try {
      server.clock.advance((TTL_SECONDS - 10) * 1000)
      expect((await listUsers(bearer(token))).status).toBe(200)
      server.clock.advance(11 * 1000)
      expectInvalidToken(await listUsers(bearer(token)))
    } finally {
      server.clock.reset()
    }
  })

  it('refuses a token whose payload was changed after signing', async () => {
    const { token, claims } = await realToken('payments:read')
    const [h, , s] = token.split('.')
    const widened = `${h}.${encodePart({ ...claims, scope: ALL_TENANT_SCOPES })}.${s}`
    expectInvalidToken(await listUsers(bearer(widened)))
  })

  it('refuses a correctly signed token whose tenant_id is not the tenant of its client', async () => {
    const { header, claims } = await realToken()
    const other = await createTenant(server)
    expectInvalidToken(await listUsers(bearer(await signWithServerKey(header, { ...claims, tenant_id: other.tenantId }))))
  })

  it('refuses a token whose signature was changed', async () => {
    const { token } = await realToken()
    const [h, p, s] = token.split('.') as [string, string, string]
    const sig = Buffer.from(s, 'base64url')
    sig[10]! ^= 0x01
    expectInvalidToken(await listUsers(bearer(`${h}.${p}.${sig.toString('base64url')}`)))
  })

  it('refuses the tokens of a revoked client at once, and issues it no more', async () => {
    const { tenant, token } = await realToken()
    expect((await listUsers(bearer(token))).status).toBe(200)
    await server.services.tenants.revokeClient(tenant.clientId)
    expectInvalidToken(await listUsers(bearer(token)))
    const res = await postToken(form({ grant_type: 'client_credentials' }), { authorization: basic(tenant.clientId, tenant.clientSecret) })
    expectOAuthError(res, 401, 'invalid_client')
  })
})

describe('signing keys survive a restart', () => {
  // A restarted deployment keeps its DATA_ENCRYPTION_KEY, its address and its database:
  // so does this one, with a key of its own, on a database of its own (on PostgreSQL the
  // run's database already holds the signing key of the run's servers, sealed under theirs),
  // at the production rate limits.
  const startDeployment = (db: Db, encryptionKey: Buffer, port: number) => startServer({ RATE_LIMIT_MULTIPLIER: '1' }, { db, encryptionKey, port })

  it('verifies after a restart a token issued before it, and publishes the same kid', async () => {
    const { db, drop: dispose } = await openPrivateDb()
    const encryptionKey = randomBytes(32)
    const port = await freePort()
    try {
      const first = await startDeployment(db, encryptionKey, port)
      const tenant = await createTenant(first)
      const token = await getToken(first, tenant, { scope: 'users:read' })
      const kidsBefore = (await jwks(first.baseUrl)).keys.map((k) => k.kid)
      await first.close()

      const second = await startDeployment(db, encryptionKey, port)
      try {
        const res = await apiClient(second, token).get('/v1/platform/users')
        expect(res.status).toBe(200)
        const kidsAfter = (await jwks(second.baseUrl)).keys.map((k) => k.kid)
        expect(kidsAfter).toEqual(kidsBefore)
        expect(kidsAfter).toContain(decodeProtectedHeader(token).kid)
        // and the restarted server signs with that same key
        expect(decodeProtectedHeader(await getToken(second, tenant)).kid).toBe(decodeProtectedHeader(token).kid)
      } finally {
        await second.close()
      }
    } finally {
      await dispose()
    }
  })
})

describe('client secrets are stored only as slow hashes', () => {
  it('keeps no trace of a tenant client secret in its row, only an scrypt hash that still accepts it', async () => {
    const tenant = await createTenant(server)
    const rows = await server.db.query<Record<string, unknown>>('SELECT * FROM oauth_clients WHERE tenant_id = $1', [tenant.tenantId])
    expect(rows).toHaveLength(1)
    expectOnlyAHash(rows[0]!, tenant.clientSecret)
    expect((await postToken(form({ grant_type: 'client_credentials' }), { authorization: basic(tenant.clientId, tenant.clientSecret) })).status).toBe(200)
  })

  it('keeps no trace of an operator client secret in its row', async () => {
    const admin = await server.services.tenants.createClient(null, [])
    const rows = await server.db.query<Record<string, unknown>>('SELECT * FROM oauth_clients WHERE id = $1', [admin.clientId])
    expect(rows).toHaveLength(1)
    expectOnlyAHash(rows[0]!, admin.clientSecret)
  })

  it('salts the hash: two clients never share one', async () => {
    const tenant = await createTenant(server)
    await server.services.tenants.createClient(tenant.tenantId, [])
    const rows = await server.db.query<{ secret_hash: string }>('SELECT secret_hash FROM oauth_clients WHERE tenant_id = $1', [tenant.tenantId])
    expect(rows).toHaveLength(2)
    expect(rows[0]!.secret_hash.split('$')[4]).not.toBe(rows[1]!.secret_hash.split('$')[4])
  })
})

describe('operator and tenant tokens do not cross', () => {
  let adminToken: string
  let tenantToken: string
  beforeAll(async () => {
    const admin = await server.services.tenants.createClient(null, [])
    adminToken = await getToken(server, admin)
    tenantToken = await getToken(server, await createTenant(server), { scope: ALL_TENANT_SCOPES })
  })

  it('lets an admin token call /v1/admin', async () => {
    const res = await apiClient(server, adminToken).get('/v1/admin/tenants')
    expect(res.status).toBe(200)
    expect(res.body.success).toBe(true)
  })

  it('refuses an admin token on tenant routes with 403', async () => {
    const res = await apiClient(server, adminToken).get('/v1/platform/users')
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('forbidden')
  })

  it('refuses a tenant token on /v1/admin/tenants with 403', async () => {
    const api = apiClient(server, tenantToken)
    for (const res of [await api.get('/v1/admin/tenants'), await api.post('/v1/admin/tenants', { name: 'Sneaky', allowed_origins: ['https://sneaky.example'] })]) {
      expect(res.status).toBe(403)
      expect(res.body.error.code).toBe('forbidden')
    }
  })

  it('never gives an operator client a tenant scope', async () => {
    const admin = await server.services.tenants.createClient(null, [])
    const res = await postToken(form({ grant_type: 'client_credentials', scope: 'users:read' }), { authorization: basic(admin.clientId, admin.clientSecret) })
    expectOAuthError(res, 400, 'invalid_scope')
  })
})

// ---------------------------------------------------------------------------------------

function expectOnlyAHash(row: Record<string, unknown>, secret: string) {
  const stored = JSON.stringify(row)
  expect(stored).not.toContain(secret)
  expect(stored).not.toContain(secret.replace(/^pls_/, ''))
  expect(stored).not.toContain(Buffer.from(secret).toString('base64'))
  expect(stored).not.toContain(Buffer.from(secret).toString('hex'))
  const hash = row.secret_hash as string
  expect(hash).toMatch(/^scrypt\$/)
  // scrypt$N$r$p$salt$hash, with a work factor that makes guessing slow
  const [, n, r] = hash.split('$')
  expect(Number(n)).toBeGreaterThanOrEqual(2 ** 14)
  expect(Number(r)).toBeGreaterThanOrEqual(8)
}
