import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setupPayer, startServer, type TestServer } from '../helpers/app.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

const frame = { 'sec-fetch-dest': 'iframe' }

async function mintAndOpen(amount: number | string = 12.5) {
  const payer = await setupPayer(server)
  const minted = await payer.api.post('/v1/platform/card/payment-link', { user_id: payer.userId, amount })
  const url = minted.body.data.pay_url as string
  const page = await fetch(url, { headers: frame })
  const html = await page.text()
  const session = /data-session="([^"]+)"/.exec(html)?.[1]
  return { ...payer, url, page, html, session, intentId: minted.body.data.payment_intent_id as string }
}

const confirm = (url: string, session: string | undefined, body: unknown) =>
  fetch(`${url}/confirm`, { method: 'POST', headers: { 'content-type': 'application/json', ...(session ? { 'x-paylink-session': session } : {}) }, body: JSON.stringify(body) }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as any,
  }))

const card = (number: string, extra: Record<string, unknown> = {}) => ({ card: { number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: number.startsWith('37') ? '1234' : '123', ...extra } })

describe('paying with the sandbox', () => {
  it('charges 4242 4242 4242 4242 and records brand and last four', async () => {
    const { url, session, api, intentId, page } = await mintAndOpen()
    expect(page.status).toBe(200)
    const r = await confirm(url, session, card('4242 4242 4242 4242'))
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ status: 'succeeded', payment_intent_id: intentId, card: { brand: 'visa', last4: '4242' } })
    const intent = await api.get(`/v1/platform/payment-intents/${intentId}`)
    expect(intent.body.data).toMatchObject({ status: 'succeeded', card: { brand: 'visa', last4: '4242' } })
  })
})
