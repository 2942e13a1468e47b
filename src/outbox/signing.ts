/**
 * Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256(id.timestamp.body)>`,
 * with secrets `whsec_` + base64 of 32 random bytes. During a rotation both secrets sign
 * and both signatures go in the header, space-separated.
 */
import { createHmac, randomBytes } from 'node:crypto'

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`

export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets.map((s) => sign(s, id, timestamp, body)).join(' ')
}
