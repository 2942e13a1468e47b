/**
 * Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256(id.timestamp.body)>`,
 * with secrets `whsec_` + base64 of 32 random bytes. During a rotation both secrets sign
 * and both signatures go in the header, space-separated. `verifyWebhook` is the receiver's
 * side, for our own demo and tools (an integrator uses a Standard Webhooks library).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { randomBytes } from '../shared/random.js'

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`

/** What an endpoint's sealed secret is bound to: it opens only as that endpoint's. */
export const secretContext = (tenantId: string, endpointId: string) => `whsec:${tenantId}:${endpointId}`

/** One signature, `v1,<base64>`, of the message `id.timestamp.body`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

/** The `webhook-signature` header: one signature per secret. */
export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets.map((s) => signWebhook(s, id, timestamp, body)).join(' ')
}

/**
 * Whether the request carries one of the secret's signatures, for a `webhook-timestamp`
 * within `toleranceSeconds` of `now`. `headers` as Node gives them (lower-case names).
 */
export function verifyWebhook(
  secret: string,
  body: string,
  headers: Record<string, string | string[] | undefined>,
  { now = new Date(), toleranceSeconds = 300 }: { now?: Date; toleranceSeconds?: number } = {},
): boolean {
  const header = (name: string) => String(headers[name] ?? '')
  const ts = Number(header('webhook-timestamp'))
  if (!Number.isInteger(ts) || Math.abs(now.getTime() / 1000 - ts) > toleranceSeconds) return false
  const expected = Buffer.from(signWebhook(secret, header('webhook-id'), ts, body))
  return header('webhook-signature')
    .split(' ')
    .some((candidate) => {
      const got = Buffer.from(candidate)
      return got.length === expected.length && timingSafeEqual(got, expected)
    })
}
