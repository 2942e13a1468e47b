/**
 * The tenant/user/account world: tenants made through the CLI's own service, tokens through a
 * real OAuth client (oauth4webapi), a small JSON client for the API, and payers (a user of a
 * tenant enrolled on its approved sandbox account).
 */
import { expect } from 'vitest'
import * as oauth from 'oauth4webapi'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'
import { MINUTE } from './clock.js'
import type { TestServer } from './server.js'
import { serverFetch } from './prism.js'

export interface TestTenant {
  tenantId: string
  clientId: string
  clientSecret: string
}

export interface TenantOptions {
  name?: string
  origins?: string[]
  allowTopLevel?: boolean
}

let tenantCounter = 0

/** A new tenant (isolation between tests) with its first client, made as the CLI makes it. */
export async function createTenant(server: TestServer, opts: TenantOptions = {}): Promise<TestTenant> {
  const r = await server.services.tenants.createTenant({
    name: opts.name ?? `Test Shop ${++tenantCounter}`,
    origins: opts.origins ?? ['https://shop.example'],
    allowTopLevel: opts.allowTopLevel,
  })
  return { tenantId: r.tenant.id, clientId: r.clientId, clientSecret: r.clientSecret }
}

/** Gets an access token with oauth4webapi, the way an integrator's server would. */
export async function getToken(
  server: TestServer,
  client: { clientId: string; clientSecret: string },
  opts: { scope?: string; method?: 'basic' | 'post' } = {},
): Promise<string> {
  const issuer = new URL(server.baseUrl)
  const through = { [oauth.allowInsecureRequests]: true, [oauth.customFetch]: serverFetch() }
  const discovery = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...through })
  const as = await oauth.processDiscoveryResponse(issuer, discovery)
  const c: oauth.Client = { client_id: client.clientId }
  const auth = opts.method === 'post' ? oauth.ClientSecretPost(client.clientSecret) : oauth.ClientSecretBasic(client.clientSecret)
  const params = new URLSearchParams()
  if (opts.scope) params.set('scope', opts.scope)
  const response = await oauth.clientCredentialsGrantRequest(as, c, auth, params, through)
  const result = await oauth.processClientCredentialsResponse(as, c, response)
  return result.access_token
}

/** A token with every tenant scope. */
export const tenantToken = (server: TestServer, tenant: TestTenant) => getToken(server, tenant, { scope: TENANT_SCOPES.join(' ') })

export interface ApiResponse<T = any> {
  status: number
  headers: Headers
  body: T
}

export interface CallOptions {
  token?: string
  headers?: Record<string, string>
  raw?: string
}

/**
 * A JSON client for the API: `api.post('/v1/…', body, {token})`. With PAYLINK_PRISM=1 it goes
 * through Prism (see prism.ts), but for raw JSON payloads: Prism parses and re-serialises a JSON
 * body, which would change the very bytes such a test sends on purpose (malformed JSON,
 * duplicate keys, numbers beyond a double's precision).
 */
export function apiClient(server: TestServer, defaultToken?: string) {
  const call = async (method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...opts.headers }
    const token = opts.token ?? defaultToken
    if (token) headers.authorization = `Bearer ${token}`
    let payload: string | undefined
    if (opts.raw !== undefined) payload = opts.raw
    else if (body !== undefined) payload = JSON.stringify(body)
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
    const rawJson = opts.raw !== undefined && /json/i.test(Object.entries(headers).find(([h]) => h.toLowerCase() === 'content-type')?.[1] ?? '')
    const res = await (rawJson ? fetch : serverFetch())(server.baseUrl + path, { method, headers, body: payload })
    const text = await res.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed }
  }
  return {
    get: (path: string, opts?: CallOptions) => call('GET', path, undefined, opts),
    post: (path: string, body?: unknown, opts?: CallOptions) => call('POST', path, body, opts),
    patch: (path: string, body?: unknown, opts?: CallOptions) => call('PATCH', path, body, opts),
    delete: (path: string, opts?: CallOptions) => call('DELETE', path, undefined, opts),
    call,
  }
}
export type Api = ReturnType<typeof apiClient>

/**
 * An API client for one tenant whose access token follows the server's clock: a test that
 * moves the clock by hours gets a fresh token (through the real OAuth flow) when needed.
 */
export function tenantApi(server: TestServer, tenant: TestTenant) {
  let token: string | undefined
  let issuedAt = 0
  const current = async () => {
    const now = server.clock.now().getTime()
    if (!token || now - issuedAt > 5 * MINUTE || now < issuedAt) {
      token = await tenantToken(server, tenant)
      issuedAt = now
    }
    return token
  }
  return {
    get: async (path: string) => apiClient(server, await current()).get(path),
    post: async (path: string, body?: unknown) => apiClient(server, await current()).post(path, body),
    patch: async (path: string, body?: unknown) => apiClient(server, await current()).patch(path, body),
    delete: async (path: string) => apiClient(server, await current()).delete(path),
  }
}
export type TenantApi = ReturnType<typeof tenantApi>

/** A new tenant and an API client whose token has every tenant scope. */
export async function newTenant(server: TestServer, opts: TenantOptions = {}) {
  const tenant = await createTenant(server, opts)
  const token = await tenantToken(server, tenant)
  return { tenant, token, api: apiClient(server, token) }
}

/** A new tenant (see newTenant) with an approved sandbox account, in USD and EUR unless told otherwise. */
export async function setupTenant(server: TestServer, opts: TenantOptions & { currencies?: string[] } = {}) {
  const world = await newTenant(server, opts)
  const account = await server.services.tenants.createAccount(world.tenant.tenantId, { name: 'Sandbox', processor: 'sandbox', currencies: opts.currencies ?? ['USD', 'EUR'] })
  return { ...world, accountId: account.id as string }
}
export type SandboxTenant = Awaited<ReturnType<typeof setupTenant>>

/** A new end user of the tenant, enrolled on its sandbox account: one per test keeps tests apart. */
export async function addPayer<W extends { api: Pick<Api, 'post'>; accountId: string }>(world: W, user: Record<string, string> = { email: 'payer@example.com', name: 'Payer' }) {
  const made = await world.api.post('/v1/platform/users', user)
  if (made.status !== 201) throw new Error(`user creation failed: ${JSON.stringify(made.body)}`)
  const enrol = await world.api.post(`/v1/platform/card-processing/users/${made.body.data.id}`, { card_processing_id: world.accountId })
  if (enrol.status !== 201) throw new Error(`enrolment failed: ${JSON.stringify(enrol.body)}`)
  return { ...world, userId: made.body.data.id as string }
}

/** Everything a payment-link test needs: a tenant, a token with every tenant scope, a user and an approved sandbox account. */
export async function setupPayer(server: TestServer, opts: TenantOptions & { currencies?: string[] } = {}) {
  return addPayer(await setupTenant(server, opts))
}
export type Payer = Awaited<ReturnType<typeof setupPayer>>

/** setupPayer, with an API client whose token follows the server's clock (see tenantApi): for tests that move the clock by hours. */
export async function setupClockedPayer(server: TestServer, opts: TenantOptions & { currencies?: string[] } = {}) {
  const payer = await setupPayer(server, opts)
  return { ...payer, api: tenantApi(server, payer.tenant) }
}

/** A payment intent as the tenant's API shows it (GET /v1/platform/payment-intents/{id}). */
export async function intentOf(payer: { api: Pick<Api, 'get'> }, id: string) {
  const r = await payer.api.get(`/v1/platform/payment-intents/${id}`)
  if (r.status !== 200) throw new Error(`GET payment intent ${id}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.data
}

/** Another tenant's object is not_found (404), the same answer, but for its request id, as one that never existed. */
export function expectNotFoundAsMissing(foreign: ApiResponse, missing: ApiResponse) {
  expect(foreign.status).toBe(404)
  expect(foreign.body).toMatchObject({ success: false, data: null, error: { code: 'not_found' } })
  expect({ ...foreign.body, request_id: null }).toEqual({ ...missing.body, request_id: null })
}

/** A 422 validation_error naming exactly one field, as `issue` says. */
export function expectFieldRefused(r: ApiResponse, field: string, issue: unknown = 'is not a known field') {
  expect(r.status, JSON.stringify(r.body)).toBe(422)
  expect(r.body.error.details).toEqual([{ field, issue }])
}
