/**
 * Verifying a Standard Webhooks delivery as a tenant's server does, for the demo shop and the
 * benchmark's receiver (the tests verify with the `standardwebhooks` library instead, which
 * `npm start` may run without).
 */
import { timingSafeEqual } from 'node:crypto'
import { sign } from '../outbox/signing.js'

/** Whether `header` (webhook-signature) holds the signature of `secret` over id, timestamp and body, within 5 minutes of now. */
export function verifyWebhookSignature(secret: string, id: string, timestamp: string, body: string, header: string): boolean {
  const ts = Number(timestamp)
  if (!Number.isInteger(ts) || Math.abs(Date.now() / 1000 - ts) > 300) return false
  const expected = Buffer.from(sign(secret, id, ts, body))
  return header.split(' ').some((candidate) => {
    const got = Buffer.from(candidate)
    return got.length === expected.length && timingSafeEqual(got, expected)
  })
}
