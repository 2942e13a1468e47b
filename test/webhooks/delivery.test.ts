import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setupPayer, startServer, type TestServer } from '../helpers/app.js'
import { startReceiver, type Receiver } from './receiver.js'

let server: TestServer
let receiver: Receiver
beforeAll(async () => {
  server = await startServer({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true' })
  receiver = await startReceiver()
})
afterAll(async () => {
  await receiver.close()
  await server.close()
})

async function pay(number: string) {
  const payer = await setupPayer(server)
  const ep = await payer.api.post('/v1/platform/webhook-endpoints', { url: receiver.url })
  expect(ep.status).toBe(201)
  receiver.secrets.push(ep.body.data.secret)
  const minted = await payer.api.post('/v1/platform/card/payment-link', { user_id: payer.userId, amount: '12.50' })
  const url = minted.body.data.pay_url as string
  const html = await (await fetch(url, { headers: { 'sec-fetch-dest': 'iframe' } })).text()
  const session = /data-session="([^"]+)"/.exec(html)![1]!
  const r = await fetch(`${url}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-paylink-session': session },
    body: JSON.stringify({ card: { number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 1, cvc: '123' } }),
  })
  expect(r.status).toBe(200)
  return { ...payer, intentId: minted.body.data.payment_intent_id as string, endpointId: ep.body.data.id as string }
}

describe('payment outcomes are delivered as signed webhooks', () => {
  it('delivers payment_intent.succeeded once, verifiable with standardwebhooks', async () => {
    const { intentId, api } = await pay('4242424242424242')
    await server.services.background.tick()
    const mine = receiver.received.filter((d) => d.json.data.payment_intent_id === intentId)
    expect(mine).toHaveLength(1)
    expect(mine[0]).toMatchObject({ verified: true, json: { type: 'payment_intent.succeeded', data: { status: 'succeeded', amount: '12.50', currency: 'USD', card: { brand: 'visa', last4: '4242' } } } })
    const events = await api.get(`/v1/platform/events?payment_intent_id=${intentId}`)
    expect(events.body.data).toHaveLength(1)
    expect(events.body.data[0].id).toBe(mine[0]!.id)
    const deliveries = await api.get(`/v1/platform/events/${mine[0]!.id}/deliveries`)
    expect(deliveries.body.data[0]).toMatchObject({ status: 'succeeded', attempts: 1, attempt_log: [{ attempt: 1, status_code: 204 }] })
  })
})
