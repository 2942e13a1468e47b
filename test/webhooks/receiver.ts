/**
 * A real HTTP receiver for webhook tests: it verifies every delivery with the
 * `standardwebhooks` package, records it, and answers what the test tells it to.
 */
import http from 'node:http'
import { Webhook } from 'standardwebhooks'

export interface Received {
  id: string
  timestamp: string
  signature: string
  body: string
  verified: boolean
  json: any
}

export interface Receiver {
  url: string
  received: Received[]
  /** The status (and headers) for the next requests; 204 by default. */
  respond: (status: number, headers?: Record<string, string>) => void
  /** Secrets to verify with (current first); verification passes if any verifies. */
  secrets: string[]
  close(): Promise<void>
}

export async function startReceiver(path = '/hooks'): Promise<Receiver> {
  let status = 204
  let extra: Record<string, string> = {}
  const received: Received[] = []
  const r: Partial<Receiver> = { received, secrets: [] }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = { 'webhook-id': String(req.headers['webhook-id']), 'webhook-timestamp': String(req.headers['webhook-timestamp']), 'webhook-signature': String(req.headers['webhook-signature']) }
      let verified = false
      for (const s of r.secrets!) {
        try {
          new Webhook(s).verify(body, headers)
          verified = true
        } catch {
          // try the next secret
        }
      }
      received.push({ id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'], body, verified, json: JSON.parse(body) })
      res.writeHead(status, extra).end()
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as Receiver
}
