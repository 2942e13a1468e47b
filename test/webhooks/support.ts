/**
 * What the webhook tests share: a server on a database of its own, a clock that moves only
 * when told, tokens that follow that clock, and a payer who pays through the hosted page.
 */
import { afterAll, beforeAll, expect } from 'vitest'
import { apiClient, getToken, openPrivateDb, setupPayer, startServer, type TestServer, type TestTenant } from '../helpers/app.js'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'
import { startReceiver, type Receiver } from './receiver.js'

export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/** The file's own database (see openPrivateDb): tick() here moves only this file's tenants. */
export const openFileDb = openPrivateDb

/**
 * Stops the server's clock: from now on it moves only by `server.clock.advance(ms)`, so a
 * test can stand exactly at the edge of a retry window or an expiry.
 */
export function freezeClock(server: TestServer) {
  const base = Date.now()
  server.clock.now = () => new Date(base + server.clock.offsetMs)
}

export interface Harness {
  server: TestServer
  /** The file's PostgreSQL database ('' on PGlite). */
  databaseUrl: string
  drop(): Promise<void>
}

/** A server with private webhook URLs allowed (the receivers listen on 127.0.0.1), on a database of its own, with a frozen clock. */
export async function startWebhookServer(env: Record<string, string> = {}, opts: { encryptionKey?: Buffer; frozen?: boolean } = {}): Promise<Harness> {
  const fileDb = await openFileDb()
  const server = await startServer({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true', ...env }, { db: fileDb.db, ...(opts.encryptionKey ? { encryptionKey: opts.encryptionKey } : {}) })
  if (opts.frozen !== false) freezeClock(server)
  return {
    server,
    databaseUrl: fileDb.url,
    async drop() {
      await server.close()
      await fileDb.drop()
    },
  }
}

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
      token = await getToken(server, tenant, { scope: TENANT_SCOPES.join(' ') })
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

export const SUCCEEDS = '4242424242424242'
export const DECLINED = '4000000000000002'
export const CHALLENGE = '4000002760003184'

/** A tenant with a user on a sandbox account, and one endpoint pointing at `receiver` (its secret given to the receiver). */
export async function payerWithEndpoint(server: TestServer, receiver: Receiver) {
  const payer = await setupPayer(server)
  const api = tenantApi(server, payer.tenant)
  const ep = await api.post('/v1/platform/webhook-endpoints', { url: receiver.url })
  expect(ep.status).toBe(201)
  receiver.secrets.push(ep.body.data.secret)
  return { ...payer, api, endpointId: ep.body.data.id as string, secret: ep.body.data.secret as string }
}
export type Payer = Awaited<ReturnType<typeof payerWithEndpoint>>

/** Mints a link for the payer's user. */
export async function mint(payer: { api: TenantApi; userId: string }, amount = '12.50') {
  const minted = await payer.api.post('/v1/platform/card/payment-link', { user_id: payer.userId, amount })
  expect(minted.status).toBe(201)
  return { intentId: minted.body.data.payment_intent_id as string, payUrl: minted.body.data.pay_url as string, expiresAt: minted.body.data.expires_at as string }
}

/** Opens the link in a frame, as the tenant's page does, and confirms a card; returns the confirm answer. */
export async function confirmCard(server: TestServer, payUrl: string, number: string) {
  const html = await (await fetch(payUrl, { headers: { 'sec-fetch-dest': 'iframe' } })).text()
  const session = /data-session="([^"]+)"/.exec(html)?.[1]
  expect(session, 'the page renders a payment session').toBeTruthy()
  const r = await fetch(`${payUrl}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-paylink-session': session! },
    body: JSON.stringify({ card: { number, exp_month: 12, exp_year: server.clock.now().getUTCFullYear() + 1, cvc: '123' } }),
  })
  expect(r.status).toBe(200)
  return ((await r.json()) as { data: { status: string; failure_code: string | null } }).data
}

/** Mints a link and pays it with `number`; returns the intent id. */
export async function pay(server: TestServer, payer: { api: TenantApi; userId: string }, number = SUCCEEDS, amount = '12.50') {
  const link = await mint(payer, amount)
  const answer = await confirmCard(server, link.payUrl, number)
  return { ...link, answer }
}

/** The one event of an intent, from the event log. */
export async function eventOf(api: TenantApi, intentId: string) {
  const events = await api.get(`/v1/platform/events?payment_intent_id=${intentId}`)
  expect(events.status).toBe(200)
  expect(events.body.data, `exactly one event for ${intentId}`).toHaveLength(1)
  return events.body.data[0] as { id: string; type: string; payment_intent_id: string; data: any; created_at: string }
}

/** The deliveries of an event, each with its attempt log. */
export async function deliveriesOf(api: TenantApi, eventId: string) {
  const r = await api.get(`/v1/platform/events/${eventId}/deliveries`)
  expect(r.status).toBe(200)
  return r.body.data as {
    id: string
    endpoint_id: string
    status: 'pending' | 'succeeded' | 'failed'
    attempts: number
    next_attempt_at: string | null
    last_status_code: number | null
    last_error: string | null
    attempt_log: { attempt: number; attempted_at: string; status_code: number | null; duration_ms: number; error: string | null }[]
  }[]
}

/**
 * A webhook test file's setup, declared once at module level: its server on a database of
 * its own (clock frozen), the receivers it starts (closed after the file), and `tick`.
 * `file.server` is there once the file's first beforeAll has run.
 */
export function webhookTestFile() {
  let harness: Harness | undefined
  const receivers: Receiver[] = []
  const file = {
    receivers,
    get server(): TestServer {
      if (!harness) throw new Error('the webhook test server starts in beforeAll')
      return harness.server
    },
    tick: () => file.server.services.background.tick(),
    /** A new tenant whose webhook endpoint is a receiver of its own (on the server's clock). */
    async tenant(): Promise<{ hooks: Receiver; payer: Payer }> {
      const hooks = await startReceiver('/hooks', { clock: file.server.clock })
      receivers.push(hooks)
      return { hooks, payer: await payerWithEndpoint(file.server, hooks) }
    },
  }
  beforeAll(async () => {
    harness = await startWebhookServer()
  })
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()))
    await harness?.drop()
  })
  return file
}
