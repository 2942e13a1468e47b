/**
 * What the webhook tests share beyond test/helpers: a server on a database of its own whose
 * clock moves only when told, the event log's answers, and one file's setup.
 */
import { afterAll, beforeAll, expect } from 'vitest'
import { payerWithEndpoint, startPrivateServer, startReceiver, type EndpointPayer, type Receiver, type TenantApi, type TestServer } from '../helpers/index.js'

/**
 * A server with private webhook URLs allowed (the receivers listen on 127.0.0.1), on a
 * database of its own (tick() moves only this file's tenants), with a frozen clock: it moves
 * only by `server.clock.advance(ms)`, so a test can stand exactly at the edge of a retry
 * window or an expiry.
 */
export async function startWebhookServer(env: Record<string, string> = {}, opts: { encryptionKey?: Buffer; frozen?: boolean } = {}) {
  const server = await startPrivateServer({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true', ...env }, opts.encryptionKey ? { encryptionKey: opts.encryptionKey } : {})
  if (opts.frozen !== false) server.clock.freeze()
  return server
}
export type WebhookServer = Awaited<ReturnType<typeof startWebhookServer>>

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
  let server: WebhookServer | undefined
  const receivers: Receiver[] = []
  const file = {
    receivers,
    get server(): TestServer {
      if (!server) throw new Error('the webhook test server starts in beforeAll')
      return server
    },
    tick: () => file.server.services.background.tick(),
    /** A new receiver on the server's clock, answering `status` (204 by default), closed after the file. */
    async receiver(status?: number): Promise<Receiver> {
      const hooks = await startReceiver('/hooks', { clock: file.server.clock })
      receivers.push(hooks)
      if (status !== undefined) hooks.respond(status)
      return hooks
    },
    /** A new tenant whose webhook endpoint is a receiver of its own (see receiver()). */
    async tenant(status?: number): Promise<{ hooks: Receiver; payer: EndpointPayer }> {
      const hooks = await file.receiver(status)
      return { hooks, payer: await payerWithEndpoint(file.server, hooks) }
    },
  }
  beforeAll(async () => {
    server = await startWebhookServer()
  })
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()))
    await server?.close()
  })
  return file
}
