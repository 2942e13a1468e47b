/**
 * SPEC "Card processors", Adyen: paylink's page and API paying through the real
 * `@adyen/api-library` against the Adyen fake (test/fakes/adyen.ts) on loopback, the account
 * pointed at it by its `api_base`. Adyen is asynchronous where Stripe is not: `Received`
 * waits for the AUTHORISATION notification, and recovery cancels by reference when it
 * never comes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FRAME, claimPage, confirm, confirmOn, intentOf, mint, newCard, returnedResult, tenantEventsOf, setupProcessorPayer, startServer, type ProcessorPayer, type TestServer } from '../helpers/index.js'
import { startAdyenFake, type AdyenFake } from '../fakes/adyen.js'

let server: TestServer
let adyen: AdyenFake
beforeAll(async () => {
  adyen = await startAdyenFake()
  server = await startServer({ PROCESSING_RECOVERY_SECONDS: '2' })
})
afterAll(async () => {
  await server?.close()
  await adyen?.close()
})

const ADYEN_CARDS = { visa: '4111111145551142', threeDS2: '4917610000000000', threeDS1Post: '4212345678901237' }

const payer = () =>
  setupProcessorPayer(server, {
    processor: 'adyen',
    config: { api_key: adyen.apiKey, merchant_account: adyen.merchantAccount, hmac_key: adyen.hmacKey, environment: 'test', api_base: adyen.url },
  })


const paymentsFor = (intentId: string) => adyen.payments().filter((p) => p.reference === intentId)
const requestsFor = (intentId: string) => adyen.requests.filter((r) => r.idempotencyKey?.startsWith(`${intentId}:`))
/** The fake's signed notifications about a payment, as one request body each. */
const notificationsAbout = (psp: string, eventCode = 'AUTHORISATION') =>
  adyen.notifications().filter((n) => n.notificationItems.some((i) => i.NotificationRequestItem.pspReference === psp && i.NotificationRequestItem.eventCode === eventCode))
const notify = async (accountId: string, body: string) => {
  const r = await fetch(`${server.baseUrl}/processor-webhooks/${accountId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { status: r.status, text: await r.text() }
}

/** The shopper at the fake's 3-D Secure page presses `button` (the page reached by GET, or by POSTing `fields`); answers where Adyen sends them back. */
async function authenticateAtAdyen(url: string, button: 'approve' | 'decline', fields?: Record<string, string>): Promise<string> {
  const opened = fields ? await fetch(url, { method: 'POST', body: new URLSearchParams(fields) }) : await fetch(url)
  const html = await opened.text()
  const form = new RegExp(`<form id="${button}" method="post" action="([^"]+)">(.*?)</form>`).exec(html)
  expect(form, html).not.toBeNull()
  const sent = new URLSearchParams([...form![2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))
  const back = await fetch(new URL(form![1]!, url), { method: 'POST', body: sent, redirect: 'manual' })
  expect(back.status).toBe(302)
  return back.headers.get('location')!
}

describe('a card paid through Adyen', () => {
  it('sends /payments with the raw card, the intent id as reference and its own idempotency key', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(ADYEN_CARDS.visa) })
    expect(answer).toMatchObject({ status: 'succeeded', card: { brand: 'visa', last4: '1142' } })
    const [payment, ...others] = paymentsFor(link.intentId)
    expect(others).toEqual([])
    expect(payment).toMatchObject({ status: 'Authorised', amount: { value: 1250, currency: 'USD' } })
    const calls = requestsFor(link.intentId)
    expect(calls.map((c) => c.idempotencyKey)).toEqual([`${link.intentId}:payments`])
    expect(calls[0]!.body).toMatchObject({ reference: link.intentId, merchantAccount: adyen.merchantAccount, shopperInteraction: 'Ecommerce', paymentMethod: { type: 'scheme' } })
  })

  it('maps a refusal through its table, keeping Adyen’s code and reason for the tenant', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(ADYEN_CARDS.visa, { name: 'NOT_ENOUGH_BALANCE' }) })
    expect(answer).toMatchObject({ status: 'failed', failure_code: 'insufficient_funds' })
    expect(await intentOf(p, link.intentId)).toMatchObject({ failure_code: 'insufficient_funds', processor_code: '12', processor_message: 'Not enough balance' })
  })

  it('saves a card under the user’s shopperReference and charges it again with ContAuth and no CVC', async () => {
    const p = await payer()
    const first = await confirmOn(p, { card: newCard(ADYEN_CARDS.visa), save_card: true })
    expect(first.answer).toMatchObject({ status: 'succeeded', saved_card_id: expect.stringMatching(/^card_/) })
    const again = await confirmOn(p, { saved_card_id: first.answer.saved_card_id })
    expect(again.answer).toMatchObject({ status: 'succeeded' })
    const [reuse] = requestsFor(again.link.intentId)
    expect(reuse!.body).toMatchObject({ shopperInteraction: 'ContAuth', recurringProcessingModel: 'CardOnFile', shopperReference: p.userId, paymentMethod: { storedPaymentMethodId: expect.any(String) } })
    expect((reuse!.body as any).paymentMethod).not.toHaveProperty('cvc')

    // Deleting the card deletes the stored payment method at Adyen too.
    const token = (reuse!.body as any).paymentMethod.storedPaymentMethodId as string
    expect((await p.api.delete(`/v1/platform/users/${p.userId}/cards/${first.answer.saved_card_id}`)).status).toBe(200)
    expect(adyen.requests.filter((r) => r.method === 'DELETE' && r.path.includes(`/storedPaymentMethods/${token}`))).toHaveLength(1)
  })
})

describe('Adyen’s notifications', () => {
  it('finish a payment Adyen received but decided later, answered [accepted], once', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(ADYEN_CARDS.visa, { name: 'PENDING' }) })
    expect(answer).toMatchObject({ status: 'processing', failure_code: null })
    const [payment] = paymentsFor(link.intentId)
    const [notification] = notificationsAbout(payment!.pspReference)
    expect(notification).toBeDefined()
    const body = JSON.stringify(notification)
    expect(await notify(p.accountId, body)).toEqual({ status: 200, text: '[accepted]' })
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'succeeded' })
    expect(await notify(p.accountId, body)).toEqual({ status: 200, text: '[accepted]' })
    expect(await tenantEventsOf(server, link.intentId)).toEqual([{ type: 'payment_intent.succeeded' }])
  })

  it('save the card when its token comes with the notification, not the answer: it shows from then on', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(ADYEN_CARDS.visa, { name: 'PENDING' }), save_card: true })
    expect(answer).toMatchObject({ status: 'processing', saved_card_id: null })
    expect((await p.api.get(`/v1/platform/users/${p.userId}/cards`)).body.data).toEqual([])
    const [payment] = paymentsFor(link.intentId)
    expect(await notify(p.accountId, JSON.stringify(notificationsAbout(payment!.pspReference)[0]))).toEqual({ status: 200, text: '[accepted]' })
    const intent = await intentOf(p, link.intentId)
    expect(intent).toMatchObject({ status: 'succeeded', saved_card_id: expect.stringMatching(/^card_/) })
    expect((await p.api.get(`/v1/platform/users/${p.userId}/cards`)).body.data).toMatchObject([{ id: intent.saved_card_id, last4: '1142' }])
  })

  it('refuse an item whose HMAC does not verify: 400, nothing applied', async () => {
    const p = await payer()
    const { link } = await confirmOn(p, { card: newCard(ADYEN_CARDS.visa, { name: 'PENDING' }) })
    const [payment] = paymentsFor(link.intentId)
    const tampered = JSON.stringify(notificationsAbout(payment!.pspReference)[0]).replace('"success":"true"', '"success":"false"')
    const r = await notify(p.accountId, tampered)
    expect(r.status).toBe(400)
    expect(JSON.parse(r.text)).toMatchObject({ error: { code: 'invalid_signature' } })
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'processing' })
  })

  it('cancel a payment by reference when its notification never comes, and fail it as processing_error', async () => {
    const p = await payer()
    const { link } = await confirmOn(p, { card: newCard(ADYEN_CARDS.visa, { name: 'PENDING' }) })
    for (let i = 0; i < 2; i++) {
      server.clock.advance(3_000)
      await server.services.lifecycle.recoverProcessing()
    }
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'processing_error' })
    expect(requestsFor(link.intentId).map((r) => r.idempotencyKey)).toEqual([`${link.intentId}:payments`, `${link.intentId}:cancel`])
    expect(await tenantEventsOf(server, link.intentId)).toEqual([{ type: 'payment_intent.failed' }])
  })
})

describe('3-D Secure at Adyen, by redirect inside the frame', () => {
  it('goes to the bank by GET and back through /payments/details: succeeded', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(ADYEN_CARDS.threeDS2) })
    expect(answer).toMatchObject({ status: 'requires_authentication', redirect: { method: 'GET' } })
    const back = await authenticateAtAdyen(answer.redirect.url, 'approve')
    expect(back.startsWith(`${link.payUrl}/return?state=`)).toBe(true)
    const page = await fetch(back, { headers: FRAME })
    expect(returnedResult(await page.text())).toMatchObject({ status: 'succeeded' })
    expect(requestsFor(link.intentId).map((r) => r.idempotencyKey)).toEqual([`${link.intentId}:payments`, `${link.intentId}:details`])
  })

  it('posts the bank’s form through paylink’s redirect page, whose CSP lets it post there only', async () => {
    const p = await payer()
    const { link, session, answer } = await confirmOn(p, { card: newCard(ADYEN_CARDS.threeDS1Post) })
    expect(answer).toMatchObject({ status: 'requires_authentication', redirect: { method: 'POST' } })
    expect(answer.redirect).not.toHaveProperty('fields')

    const noSession = await fetch(`${link.payUrl}/redirect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'session=wrong' })
    expect(noSession.status).toBe(401)
    const page = await fetch(`${link.payUrl}/redirect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...FRAME }, body: new URLSearchParams({ session }) })
    expect(page.status).toBe(200)
    const csp = page.headers.get('content-security-policy')!
    expect(csp).toContain(`form-action ${new URL(adyen.url).origin}`)
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    const html = await page.text()
    expect(html).toContain('data-screen="redirect"')
    const form = /<form id="redirect-form" method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(html)!
    const fields = Object.fromEntries([...form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]))
    expect(Object.keys(fields).sort()).toEqual(['MD', 'PaReq', 'TermUrl'])

    const back = await authenticateAtAdyen(form[1]!.replace(/&amp;/g, '&'), 'approve', fields)
    const done = await fetch(back, { headers: FRAME })
    expect(returnedResult(await done.text())).toMatchObject({ status: 'succeeded' })
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'succeeded' })
  })
})

describe('refunds at Adyen', () => {
  it('stay pending until the REFUND notification, then succeed with their webhook event', async () => {
    const p = await payer()
    const { link } = await confirmOn(p, { card: newCard(ADYEN_CARDS.visa) })
    const [payment] = paymentsFor(link.intentId)
    const r = await p.api.post(`/v1/platform/payment-intents/${link.intentId}/refunds`, { amount: '2.00' })
    expect(r.status).toBe(201)
    expect(r.body.data).toMatchObject({ status: 'pending', amount_minor: 200 })
    const call = adyen.requests.find((q) => q.idempotencyKey === r.body.data.id)
    expect(call).toMatchObject({ method: 'POST', path: expect.stringContaining(`/payments/${payment!.pspReference}/refunds`), body: { amount: { value: 200, currency: 'USD' }, reference: r.body.data.id } })
    expect(await intentOf(p, link.intentId)).toMatchObject({ amount_refunded: '0.00' })
    expect(await tenantEventsOf(server, link.intentId)).toEqual([{ type: 'payment_intent.succeeded' }])

    const refundNotice = adyen.notifications().find((n) => n.notificationItems.some((i) => i.NotificationRequestItem.eventCode === 'REFUND' && i.NotificationRequestItem.merchantReference === r.body.data.id))
    expect(refundNotice).toBeDefined()
    expect(await notify(p.accountId, JSON.stringify(refundNotice))).toEqual({ status: 200, text: '[accepted]' })
    expect((await p.api.get(`/v1/platform/refunds/${r.body.data.id}`)).body.data).toMatchObject({ status: 'succeeded' })
    expect(await intentOf(p, link.intentId)).toMatchObject({ amount_refunded: '2.00' })
    expect((await tenantEventsOf(server, link.intentId)).map((e) => e.type).sort()).toEqual(['payment_intent.succeeded', 'refund.succeeded'])
  })
})
