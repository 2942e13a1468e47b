import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setupPayer, startServer, type TestServer } from '../helpers/index.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())

describe('a payment link, end to end', () => {
  it('mints a pending intent that shows up in the listing', async () => {
    const { api, userId } = await setupPayer(server)
    const minted = await api.post('/v1/platform/card/payment-link', { user_id: userId, amount: 12.5 })
    expect(minted.status).toBe(201)
    expect(minted.body.data.pay_url).toMatch(new RegExp(`^${server.baseUrl}/pay/[A-Za-z0-9_-]{43}$`))
    const list = await api.get('/v1/platform/payment-intents')
    expect(list.body.data[0]).toMatchObject({ id: minted.body.data.payment_intent_id, status: 'pending', amount: '12.50', amount_minor: 1250, currency: 'USD' })
  })
})
