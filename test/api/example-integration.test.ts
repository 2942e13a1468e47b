/**
 * examples/typed-client, the integration a tenant copies, run against a live server:
 * getToken (client credentials with fetch) → the typed client (openapi-fetch over
 * paylink-api.d.ts) creates a user, enrols it and mints a link with createPayment → the
 * user pays through /pay → the webhook reaches a receiver written as an integrator would
 * write it, with the example's verifyWebhook. And paylink-api.d.ts cannot drift: it must
 * be what openapi-typescript makes of the current /openapi.json (`npm run gen:client`).
 * Issue 5 item 3; SPEC "HTTP surface", "Webhooks".
 */
import fs from 'node:fs'
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import openapiTS, { COMMENT_HEADER, astToString } from 'openapi-typescript'
import { CARDS, payLink, startPrivateServer, type TestServer } from '../helpers/index.js'
import { createPayment, getToken, paylinkClient, refundPayment, verifyWebhook, type PaylinkClient, type PaylinkWebhook } from '../../examples/typed-client/integration.js'

const GENERATED = new URL('../../examples/typed-client/paylink-api.d.ts', import.meta.url)

/** What the shop's webhook handler saw: the raw request, and what verifyWebhook made of it. */
interface Delivery {
  headers: http.IncomingHttpHeaders
  body: string
  event?: PaylinkWebhook
  refused?: string
}

/** The shop's webhook handler, as the example tells an integrator to write it: verify the raw body, 204 if good, 400 if not. */
async function startShopReceiver(secret: () => string) {
  const deliveries: Delivery[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      try {
        deliveries.push({ headers: req.headers, body, event: verifyWebhook(secret(), req.headers, body) })
        res.writeHead(204).end()
      } catch (err) {
        deliveries.push({ headers: req.headers, body, refused: (err as Error).message })
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/paylink-webhooks`,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

let server: TestServer
const shops: Array<{ close(): Promise<void> }> = []
beforeAll(async () => {
  // A database of its own: the worker's tick must deliver only this file's webhooks.
  server = await startPrivateServer({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true' })
})
afterAll(async () => {
  await Promise.all(shops.map((shop) => shop.close()))
  await server?.close()
})

/** A tenant and its approved sandbox account, made by the operator (CLI), as an integrator receives them. */
async function onboardedTenant() {
  const created = await server.services.tenants.createTenant({ name: 'Example Shop', origins: ['https://shop.example'] })
  const account = await server.services.tenants.createAccount(created.tenant.id, { name: 'Sandbox', processor: 'sandbox', currencies: ['USD', 'EUR'] })
  return { clientId: created.clientId, clientSecret: created.clientSecret, accountId: account.id as string }
}

/** A user of the tenant, enrolled on the account, through the typed client. */
async function enrolledUser(client: PaylinkClient, accountId: string) {
  const user = await client.POST('/v1/platform/users', { body: { email: 'payer@example.com', name: 'Payer' } })
  expect(user.response.status).toBe(201)
  const userId = user.data!.data.id
  const enrol = await client.POST('/v1/platform/card-processing/users/{user_id}', { params: { path: { user_id: userId } }, body: { card_processing_id: accountId } })
  expect(enrol.response.status).toBe(201)
  return userId
}

/**
 * What an integrator sets up with the example: a token (getToken) for the typed client, an
 * enrolled user, and the shop's webhook handler as the tenant's endpoint, with its secret.
 */
async function integratedShop() {
  const tenant = await onboardedTenant()
  let secret = ''
  const shop = await startShopReceiver(() => secret)
  shops.push(shop)
  const token = await getToken(server.baseUrl, tenant.clientId, tenant.clientSecret)
  const client = paylinkClient(server.baseUrl, token)
  const userId = await enrolledUser(client, tenant.accountId)
  const endpoint = await client.POST('/v1/platform/webhook-endpoints', { body: { url: shop.url } })
  expect(endpoint.response.status).toBe(201)
  secret = endpoint.data!.data.secret
  return { shop, client, userId, secret }
}

describe('the example integration takes a payment end to end against a live server', () => {
  it('gets a token, mints a link with the typed client, and verifies the webhook of the paid link', async () => {
    const { shop, client, userId, secret } = await integratedShop()
    expect(secret).toMatch(/^whsec_/)

    const link = await createPayment(client, { userId, amount: '12.50', currency: 'usd', idempotencyKey: 'order-1001' })
    expect(link.payment_intent_id).toMatch(/^pi_/)
    expect(link.pay_url).toMatch(new RegExp(`^${server.baseUrl}/pay/[A-Za-z0-9_-]{43}$`))
    // Retrying with the same idempotency key gives the same link, not a second payment.
    expect(await createPayment(client, { userId, amount: '12.50', currency: 'usd', idempotencyKey: 'order-1001' })).toEqual(link)

    expect((await payLink(link.pay_url, CARDS.visa)).status).toBe('succeeded')
    await server.services.background.tick()

    expect(shop.deliveries).toHaveLength(1)
    const delivery = shop.deliveries[0]!
    expect(delivery.refused).toBeUndefined()
    expect(delivery.event).toMatchObject({
      type: 'payment_intent.succeeded',
      data: { payment_intent_id: link.payment_intent_id, user_id: userId, amount: '12.50', currency: 'USD', status: 'succeeded', failure_code: null, card: { brand: 'visa', last4: '4242' } },
    })
    // The typed client reads the same intent back.
    const intent = await client.GET('/v1/platform/payment-intents/{payment_intent_id}', { params: { path: { payment_intent_id: link.payment_intent_id } } })
    expect(intent.data?.data).toMatchObject({ id: link.payment_intent_id, status: 'succeeded', amount_minor: 1250 })

    // A partial refund, then its webhook; more than is left is refused with what is left.
    const refund = await refundPayment(client, { paymentIntentId: link.payment_intent_id, amount: '2.50', reason: 'requested_by_customer', idempotencyKey: 'return-1' })
    expect(refund).toMatchObject({ object: 'refund', amount: '2.50', status: 'succeeded' })
    await expect(refundPayment(client, { paymentIntentId: link.payment_intent_id, amount: '11.00' })).rejects.toThrow(/^paylink 422 refund_exceeds_amount: Only 10.00 USD is left/)
    await server.services.background.tick()
    expect(shop.deliveries.map((d) => d.event?.type)).toEqual(['payment_intent.succeeded', 'refund.succeeded'])
    expect(shop.deliveries[1]!.event).toMatchObject({ data: { id: refund.id, payment_intent_id: link.payment_intent_id, user_id: userId, amount: '2.50' } })
  })
})

describe("the example's verifyWebhook accepts only what paylink signed with the endpoint's secret", () => {
  it('refuses a changed body, a changed webhook-id, another secret and missing headers', async () => {
    const { shop, client, userId, secret } = await integratedShop()
    const link = await createPayment(client, { userId, amount: '3.00' })
    await payLink(link.pay_url, CARDS.declined)
    await server.services.background.tick()

    expect(shop.deliveries).toHaveLength(1)
    const { headers, body, event } = shop.deliveries[0]!
    expect(event).toMatchObject({ type: 'payment_intent.failed', data: { payment_intent_id: link.payment_intent_id, failure_code: 'card_declined' } })

    // Fetch's Headers work as well as Node's header object.
    const asHeaders = new Headers(Object.entries(headers).map(([k, v]): [string, string] => [k, String(v)]))
    expect(verifyWebhook(secret, asHeaders, body)).toEqual(event)
    expect(() => verifyWebhook(secret, headers, body.replace('"3.00"', '"0.01"'))).toThrow()
    expect(() => verifyWebhook(secret, { ...headers, 'webhook-id': 'evt_forged' }, body)).toThrow()
    const otherSecret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`
    expect(() => verifyWebhook(otherSecret, headers, body)).toThrow()
    expect(() => verifyWebhook(secret, { 'webhook-id': String(headers['webhook-id']) }, body)).toThrow()
  })
})

describe('the example surfaces errors from paylink', () => {
  it('getToken throws on a wrong client secret; createPayment throws with the error code and request id', async () => {
    const tenant = await onboardedTenant()
    await expect(getToken(server.baseUrl, tenant.clientId, `${tenant.clientSecret}x`)).rejects.toThrow(/401.*invalid_client/)
    const client = paylinkClient(server.baseUrl, await getToken(server.baseUrl, tenant.clientId, tenant.clientSecret))
    const userId = await enrolledUser(client, tenant.accountId)
    await expect(createPayment(client, { userId, amount: '0' })).rejects.toThrow(/^paylink 422 validation_error: .*\(request req_\w+\)$/)
    await expect(createPayment(client, { userId, amount: '5.00', currency: 'JPY' })).rejects.toThrow(/^paylink 422 card_processing_unavailable: /)
  })
})

describe('paylink-api.d.ts is what openapi-typescript makes of the current /openapi.json', () => {
  it('matches a fresh generation from the live document (run `npm run gen:client` after changing the API)', async () => {
    const doc = await (await fetch(`${server.baseUrl}/openapi.json`)).json()
    const fresh = COMMENT_HEADER + astToString(await openapiTS(doc as Parameters<typeof openapiTS>[0], { silent: true }))
    const committed = fs.readFileSync(GENERATED, 'utf8')
    // A mismatch prints the diff of the type file: regenerate it with `npm run gen:client`.
    expect(committed).toBe(fresh)
  })
})
