/**
 * Webhooks as a tenant's server receives them: verified with the `standardwebhooks` library
 * (`verifyWebhook`), by a real HTTP receiver that records every delivery and answers what the
 * test tells it to; and a payer whose endpoint points at such a receiver.
 *
 * `standardwebhooks` refuses a `webhook-timestamp` more than 5 minutes away from the
 * receiver's own time. Tests move paylink's clock by hours, so a receiver can be given
 * that clock (`{clock}`): it then judges timestamps against the simulated time, as a
 * tenant's server would against real time.
 */
import http from 'node:http'
import { expect } from 'vitest'
import { Webhook } from 'standardwebhooks'
import type { Clock } from '../../src/domain/shared/clock.js'
import type { TestServer } from './server.js'
import { setupClockedPayer } from './world.js'

/** The library's tolerance for a webhook-timestamp, either way. */
const TOLERANCE_S = 5 * 60

export interface WebhookHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/**
 * Whether `secret` signed this delivery, checked with the Standard Webhooks library as a
 * tenant's server checks it. `at` (ms) is the receiver's time when it is not real time: the
 * library judges the timestamp against Date.now(), so then the tolerance is judged here, on
 * the library's rule, and the library computes the signature to compare.
 */
export function verifyWebhook(secret: string, body: string, headers: WebhookHeaders, at?: number): boolean {
  const webhook = new Webhook(secret)
  if (at === undefined) {
    try {
      webhook.verify(body, headers)
      return true
    } catch {
      return false
    }
  }
  const timestamp = Number.parseInt(headers['webhook-timestamp'], 10)
  const now = Math.floor(at / 1000)
  if (Number.isNaN(timestamp) || now - timestamp > TOLERANCE_S || timestamp > now + TOLERANCE_S) return false
  const expected = webhook.sign(headers['webhook-id'], new Date(timestamp * 1000), body)
  return headers['webhook-signature'].split(' ').includes(expected)
}

export interface Received {
  id: string
  timestamp: string
  signature: string
  body: string
  /** At least one of `secrets` verified the delivery. */
  verified: boolean
  /** Every secret (of `secrets`, at arrival) that verifies the delivery on its own. */
  verifiedBy: string[]
  json: any
  /** When it arrived, on the receiver's clock (ms). */
  at: number
}

export type Answer = number | { status: number; headers?: Record<string, string> }

export interface Receiver {
  url: string
  received: Received[]
  /** The status (and headers) for the next requests; 204 by default. */
  respond: (status: number, headers?: Record<string, string>) => void
  /** Answers for the next requests, one each, in order; then `respond`'s answer again. */
  plan: (...answers: Answer[]) => void
  /** Holds every answer until `release()` (the request is recorded at once). */
  hold: () => void
  release: () => void
  /** Secrets to verify with (current first); verification passes if any verifies. */
  secrets: string[]
  /** Deliveries of one event id. */
  of: (eventId: string) => Received[]
  close(): Promise<void>
}

/** A receiver on 127.0.0.1 (its own port) at `path`; with `clock`, it judges timestamps on that clock's time. */
export async function startReceiver(path = '/hooks', opts: { clock?: Clock } = {}): Promise<Receiver> {
  let status = 204
  let extra: Record<string, string> = {}
  const planned: Answer[] = []
  let holding = false
  const held: (() => void)[] = []
  const received: Received[] = []
  const r: Partial<Receiver> = { received, secrets: [] }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) }
      const at = opts.clock?.now().getTime()
      const now = at ?? Date.now()
      const verifiedBy = r.secrets!.filter((s) => verifyWebhook(s, body, headers, at))
      let json: unknown
      try {
        json = JSON.parse(body)
      } catch {
        json = undefined
      }
      received.push({ id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], body, verified: verifiedBy.length > 0, verifiedBy, json, at: now })
      const next = planned.shift()
      const answer = next === undefined ? { status, headers: extra } : typeof next === 'number' ? { status: next, headers: {} } : { status: next.status, headers: next.headers ?? {} }
      const send = () => {
        if (!res.destroyed) res.writeHead(answer.status, answer.headers).end()
      }
      if (holding) held.push(send)
      else send()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return Object.assign(r, {
    url: `http://127.0.0.1:${port}${path}`,
    respond: (s: number, h: Record<string, string> = {}) => {
      status = s
      extra = h
    },
    plan: (...answers: Answer[]) => void planned.push(...answers),
    hold: () => void (holding = true),
    release: () => {
      holding = false
      for (const send of held.splice(0)) send()
    },
    of: (eventId: string) => received.filter((d) => d.id === eventId),
    close: () => {
      for (const send of held.splice(0)) send()
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }) as Receiver
}

/** A tenant with a user on a sandbox account, and one endpoint pointing at `receiver` (its secret given to the receiver). */
export async function payerWithEndpoint(server: TestServer, receiver: Receiver) {
  const payer = await setupClockedPayer(server)
  const ep = await payer.api.post('/v1/platform/webhook-endpoints', { url: receiver.url })
  expect(ep.status).toBe(201)
  receiver.secrets.push(ep.body.data.secret)
  return { ...payer, endpointId: ep.body.data.id as string, secret: ep.body.data.secret as string }
}
export type EndpointPayer = Awaited<ReturnType<typeof payerWithEndpoint>>
