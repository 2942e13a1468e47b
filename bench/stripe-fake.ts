/**
 * The Stripe fake of the tests (test/fakes/stripe.ts) as a process of its own, for
 * `bench/slow-processor.ts`: its answers are timed by its own event loop, not by the load
 * generator's, and its CPU can be counted apart.
 *
 *   node --import tsx bench/stripe-fake.ts
 *
 * Prints one line, `stripe fake {"url", "secretKey", "webhookSecret", "control"}`. The
 * control server on 127.0.0.1 takes `POST /latency/<ms>` (the delay of every answer from
 * then on) and `GET /stats` (requests received so far).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startStripeFake } from '../test/fakes/stripe.js'

const fake = await startStripeFake({ latencyMs: Number(process.env.STRIPE_FAKE_LATENCY_MS ?? 0) })
const control = http.createServer((req, res) => {
  const latency = /^\/latency\/(\d+)$/.exec(req.url ?? '')
  if (req.method === 'POST' && latency) {
    fake.setLatency(Number(latency[1]))
    return void res.writeHead(204).end()
  }
  if (req.method === 'GET' && req.url === '/stats') {
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requests: fake.requests.length }))
  }
  res.writeHead(404).end()
})
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve))
const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`
process.stdout.write(`stripe fake ${JSON.stringify({ url: fake.url, secretKey: fake.secretKey, webhookSecret: fake.webhookSecret, control: controlUrl })}\n`)

const stop = () => void Promise.all([fake.close(), new Promise((r) => control.close(r))]).then(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
