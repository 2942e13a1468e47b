/**
 * A server-side paylink integration to copy into your own backend.
 *
 *   1. getToken()       — an OAuth 2.0 access token (client credentials grant).
 *   2. paylinkClient()  — an API client typed from paylink's /openapi.json.
 *   3. createPayment()  — mints a one-time payment link; show its `pay_url` in an iframe.
 *   4. refundPayment()  — gives money back, in full or in part.
 *   5. verifyWebhook()  — checks a webhook's signature before you trust its body.
 *
 * Dependencies: `npm i openapi-fetch standardwebhooks` and `npm i -D openapi-typescript`.
 * `paylink-api.d.ts` beside this file is generated from the API document:
 *
 *   npx openapi-typescript https://paylink.example.com/openapi.json -o paylink-api.d.ts
 *
 * Keep your client secret and webhook secrets on the server, never in a browser.
 */
import createClient, { type Client } from 'openapi-fetch'
import { Webhook } from 'standardwebhooks'
import type { paths } from './paylink-api.js'

export type PaylinkClient = Client<paths>

/**
 * Exchanges your client id and secret for an access token (RFC 6749 §4.4, client_secret_basic).
 * Tokens last `expires_in` seconds (15 minutes by default): cache one and ask again shortly
 * before it expires, rather than once per request.
 */
export async function getToken(baseUrl: string, clientId: string, clientSecret: string, scope?: string): Promise<string> {
  // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')
  const form = new URLSearchParams({ grant_type: 'client_credentials' })
  if (scope) form.set('scope', scope) // omit it to get every scope your client has
  const res = await fetch(new URL('/oauth/token', baseUrl), {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form,
  })
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string }
  if (!res.ok || !body.access_token) throw new Error(`paylink token request failed (${res.status}): ${body.error ?? 'no token'} ${body.error_description ?? ''}`.trim())
  return body.access_token
}

/** The typed API client: paths, parameters, bodies and answers all come from paylink-api.d.ts. */
export function paylinkClient(baseUrl: string, accessToken: string): PaylinkClient {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${accessToken}` } })
}

/**
 * Mints a payment link for one of your users. `amount` is in major units ("12.50"); a string
 * keeps it exact. Pass an `idempotencyKey` (your order id, say) so that retrying after a
 * timeout returns the same link instead of making a second one.
 */
export async function createPayment(
  client: PaylinkClient,
  input: { userId: string; amount: string | number; currency?: string; idempotencyKey?: string },
): Promise<{ payment_intent_id: string; pay_url: string; expires_at: string }> {
  const { data, error, response } = await client.POST('/v1/platform/card/payment-link', {
    params: { header: input.idempotencyKey ? { 'idempotency-key': input.idempotencyKey } : {} },
    body: { user_id: input.userId, amount: input.amount, ...(input.currency ? { currency: input.currency } : {}) },
  })
  // Every error is an envelope with a stable `code` (validation_error, card_processing_unavailable, …).
  if (error) throw new Error(`paylink ${response.status} ${error.error.code}: ${error.error.message} (request ${error.request_id})`)
  return data.data
}

/**
 * Refunds a succeeded payment: all that is left without `amount`, else that part ("5.00").
 * The answer is `succeeded` or `failed` at once for most processors, `pending` until the
 * processor's word for asynchronous ones (Adyen); the `refund.succeeded` / `refund.failed`
 * webhook tells the end either way. Pass an `idempotencyKey` (your return's id) to retry safely.
 */
export async function refundPayment(
  client: PaylinkClient,
  input: { paymentIntentId: string; amount?: string; reason?: 'requested_by_customer' | 'duplicate' | 'fraudulent'; idempotencyKey?: string },
) {
  const { data, error, response } = await client.POST('/v1/platform/payment-intents/{payment_intent_id}/refunds', {
    params: { path: { payment_intent_id: input.paymentIntentId }, header: input.idempotencyKey ? { 'idempotency-key': input.idempotencyKey } : {} },
    body: { ...(input.amount ? { amount: input.amount } : {}), ...(input.reason ? { reason: input.reason } : {}) },
  })
  // refund_exceeds_amount names what is left; validation_error names a payment that is not succeeded.
  if (error) throw new Error(`paylink ${response.status} ${error.error.code}: ${error.error.message} (request ${error.request_id})`)
  return data.data
}

/** What every webhook's `data` has: the payment (or refund) it is about, its money and its end. */
interface WebhookData {
  payment_intent_id: string
  user_id: string
  amount: string
  currency: string
  status: 'succeeded' | 'failed'
  failure_code: string | null
  created_at: string
  updated_at: string
}

/** The body of a paylink webhook about a payment (`payment_intent.succeeded` or `payment_intent.failed`). */
export interface PaymentWebhook {
  type: 'payment_intent.succeeded' | 'payment_intent.failed'
  timestamp: string
  data: WebhookData & { amount_refunded: string; card: { brand: string; last4: string } | null; saved_card_id: string | null }
}

/** The body of a paylink webhook about a refund (`refund.succeeded` or `refund.failed`). */
export interface RefundWebhook {
  type: 'refund.succeeded' | 'refund.failed'
  timestamp: string
  data: WebhookData & { id: string; object: 'refund'; reason: string | null }
}

export type PaylinkWebhook = PaymentWebhook | RefundWebhook

/**
 * Verifies a webhook (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`)
 * with your endpoint's `whsec_…` secret and returns its parsed body; throws if the signature is
 * wrong or the timestamp is more than 5 minutes off. `body` must be the raw request body,
 * byte for byte — not JSON you parsed and serialised again.
 *
 * Deliveries are at least once: the same event may arrive again (same `webhook-id`), so
 * record the ids you have handled and answer 2xx quickly.
 */
export function verifyWebhook(secret: string, headers: Headers | Record<string, string | string[] | undefined>, body: string | Buffer): PaylinkWebhook {
  const get = (name: string) => {
    const v = headers instanceof Headers ? headers.get(name) : Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1]
    return (Array.isArray(v) ? v[0] : v) ?? ''
  }
  const signed = { 'webhook-id': get('webhook-id'), 'webhook-timestamp': get('webhook-timestamp'), 'webhook-signature': get('webhook-signature') }
  return new Webhook(secret).verify(body, signed) as PaylinkWebhook
}
