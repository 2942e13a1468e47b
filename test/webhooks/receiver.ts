/**
 * A real HTTP receiver for webhook tests: it verifies every delivery with the
 * `standardwebhooks` package, records it, and answers what the test tells it to.
 *
 * `standardwebhooks` refuses a `webhook-timestamp` more than 5 minutes away from the
 * receiver's own time. Tests move paylink's clock by hours, so a receiver can be given
 * that clock (`{clock}`): it then judges timestamps against the simulated time, as a
 * tenant's server would against real time.
 */
import http from 'node:http'
import { Webhook } from 'standardwebhooks'

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

export async function startReceiver(path = '/hooks', opts: { clock?: { now(): Date } } = {}): Promise<Receiver> {
  let status = 204
  let extra: Record<string, string> = {}
  const planned: Answer[] = []
  let holding = false
  const held: (() => void)[] = []
  const received: Received[] = []
  const r: Partial<Receiver> = { received, secrets: [] }
  const verifyWith = (secret: string, body: string, headers: Record<string, string>, now: number) => {
    // standardwebhooks reads Date.now() for its 5-minute tolerance: show it the receiver's time.
    const realNow = Date.now
    Date.now = () => now
    try {
      new Webhook(secret).verify(body, headers)
      return true
    } catch {
      return false
    } finally {
      Date.now = realNow
    }
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) }
      const now = opts.clock ? opts.clock.now().getTime() : Date.now()
      const verifiedBy = r.secrets!.filter((s) => verifyWith(s, body, headers, now))
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
