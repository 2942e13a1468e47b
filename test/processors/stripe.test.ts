/**
 * SPEC "Card processors", Stripe: paylink's page and API paying through the real `stripe`
 * SDK against the Stripe fake (test/fakes/stripe.ts) on loopback, the account pointed at it
 * by its `api_base`. What a tenant sees (the intent, its failure and processor codes) and
 * what Stripe saw (PaymentIntents, idempotency keys, parameters) are both checked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FRAME, claimPage, confirm, confirmOn, intentOf, mint, newCard, returnedResult, tenantEventsOf, newTenant, setupProcessorPayer, startServer, until, type ProcessorPayer, type TestServer } from '../helpers/index.js'
import { startStripeFake, type StripeFake } from '../fakes/stripe.js'

let server: TestServer
let stripe: StripeFake
beforeAll(async () => {
  stripe = await startStripeFake()
  server = await startServer({ PROCESSING_RECOVERY_SECONDS: '2' })
})
afterAll(async () => {
  await server?.close()
  await stripe?.close()
})

const STRIPE_CARDS = {
  visa: '4242424242424242',
  declined: '4000000000000002',
  insufficientFunds: '4000000000009995',
  expired: '4000000000000069',
  incorrectCvc: '4000000000000127',
  processingError: '4000000000000119',
  lost: '4000000000009987',
  stolen: '4000000000009979',
  fraudulent: '4100000000000019',
  threeDSecure: '4000002760003184',
}

const payer = () => setupProcessorPayer(server, { processor: 'stripe', config: { secret_key: stripe.secretKey, webhook_secret: stripe.webhookSecret, api_base: stripe.url } })


const stripeIntentOf = (intentId: string) => stripe.paymentIntents().filter((pi) => pi.metadata.payment_intent_id === intentId)
/** The processor reference paylink stored on the intent (null before any). */
const storedRef = async (intentId: string) =>
  (await server.db.query<{ processor_reference: string | null }>('SELECT processor_reference FROM payment_intents WHERE id = $1', [intentId]))[0]!.processor_reference
/** Waits until the page's PaymentIntent (made in the background when it opened) is stored on the intent. */
const untilPrepared = (intentId: string) => until('the page’s PaymentIntent stored', async () => (await storedRef(intentId)) !== null, 5_000, 20)
const requestsFor = (intentId: string) => stripe.requests.filter((r) => r.idempotencyKey?.startsWith(`${intentId}:`))
const recover = async () => {
  server.clock.advance(3_000)
  return server.services.lifecycle.recoverProcessing()
}

describe('a Stripe account', () => {
  it('takes enrolments pending until the operator approves them: no link before', async () => {
    const { api, tenant } = await newTenant(server)
    const account = await server.services.tenants.createAccount(tenant.tenantId, {
      name: 'Stripe',
      processor: 'stripe',
      currencies: ['USD'],
      config: { secret_key: stripe.secretKey, webhook_secret: stripe.webhookSecret, api_base: stripe.url },
    })
    const user = (await api.post('/v1/platform/users', { name: 'Waiting' })).body.data.id
    const enrolled = await api.post(`/v1/platform/card-processing/users/${user}`, { card_processing_id: account.id })
    expect(enrolled.body.data).toMatchObject({ card_processing_id: account.id, status: 'pending' })
    const refused = await api.post('/v1/platform/card/payment-link', { user_id: user, amount: '1.00' })
    expect(refused.body.error.code).toBe('card_processing_unavailable')
    await server.services.tenants.approveEnrolment(tenant.tenantId, user, account.id)
    expect((await api.post('/v1/platform/card/payment-link', { user_id: user, amount: '1.00' })).status).toBe(201)
  })
})

describe('a card paid through Stripe', () => {
  it('creates the PaymentIntent without the card, stores its id, then confirms it with the card: one charge, keys per request', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.visa) })
    expect(answer).toMatchObject({ status: 'succeeded', failure_code: null, card: { brand: 'visa', last4: '4242' } })
    const [pi, ...others] = stripeIntentOf(link.intentId)
    expect(others).toEqual([])
    expect(pi).toMatchObject({ status: 'succeeded', amount: 1250, currency: 'usd', metadata: { payment_intent_id: link.intentId } })
    const calls = requestsFor(link.intentId)
    expect(calls.map((r) => [r.method, r.path, r.idempotencyKey])).toEqual([
      ['POST', '/v1/payment_intents', `${link.intentId}:create`],
      ['POST', `/v1/payment_intents/${pi!.id}/confirm`, `${link.intentId}:confirm`],
    ])
    expect(calls[0]!.body).not.toHaveProperty('payment_method_data')
    expect(calls[1]!.body).toMatchObject({ return_url: expect.stringContaining(`${link.payUrl}/return?state=`), payment_method_data: { type: 'card' } })
    expect(await storedRef(link.intentId)).toBe(pi!.id)
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'succeeded', processor_code: null, card: { brand: 'visa', last4: '4242' } })
  })

  it('makes the PaymentIntent while the page is open: after Pay, only the confirm goes to Stripe', async () => {
    const p = await payer()
    const link = await mint(p)
    const { session } = await claimPage(link.payUrl)
    await untilPrepared(link.intentId)
    const [made] = stripeIntentOf(link.intentId)
    expect(made).toMatchObject({ status: 'requires_payment_method', amount: 1250, currency: 'usd', customer: null, payment_method: null })
    expect(await storedRef(link.intentId)).toBe(made!.id)
    const sentBefore = requestsFor(link.intentId).length
    const answer = await confirm(link.payUrl, session, { card: newCard(STRIPE_CARDS.visa) })
    expect(answer.body.data).toMatchObject({ status: 'succeeded' })
    expect(sentBefore).toBe(1)
    expect(requestsFor(link.intentId).map((r) => [r.path, r.idempotencyKey])).toEqual([
      ['/v1/payment_intents', `${link.intentId}:create`],
      [`/v1/payment_intents/${made!.id}/confirm`, `${link.intentId}:confirm`],
    ])
    expect(stripeIntentOf(link.intentId)).toMatchObject([{ id: made!.id, status: 'succeeded' }])
  })

  it('confirms on the page’s PaymentIntent when Pay comes before Stripe answered the page: one PaymentIntent, one create', async () => {
    const p = await payer()
    const link = await mint(p)
    stripe.fail({ method: 'POST', path: '/v1/payment_intents' }, { delayMs: 300 })
    const { session } = await claimPage(link.payUrl)
    const answer = await confirm(link.payUrl, session, { card: newCard(STRIPE_CARDS.visa) })
    expect(answer.body.data).toMatchObject({ status: 'succeeded' })
    const [pi, ...others] = stripeIntentOf(link.intentId)
    expect(others).toEqual([])
    expect(requestsFor(link.intentId).map((r) => r.idempotencyKey)).toEqual([`${link.intentId}:create`, `${link.intentId}:confirm`])
    expect(await storedRef(link.intentId)).toBe(pi!.id)
  })

  it('makes the PaymentIntent at Pay when Stripe refused it to the page (a 500): one PaymentIntent', async () => {
    const p = await payer()
    const link = await mint(p)
    stripe.fail({ method: 'POST', path: '/v1/payment_intents' }, 'error500')
    const { session } = await claimPage(link.payUrl)
    await until('the page’s create answered', async () => requestsFor(link.intentId).length === 1, 5_000, 20)
    const answer = await confirm(link.payUrl, session, { card: newCard(STRIPE_CARDS.visa) })
    expect(answer.body.data).toMatchObject({ status: 'succeeded' })
    expect(stripeIntentOf(link.intentId)).toMatchObject([{ status: 'succeeded' }])
    expect(requestsFor(link.intentId).map((r) => r.idempotencyKey)).toEqual([`${link.intentId}:create`, `${link.intentId}:create`, `${link.intentId}:confirm`])
  })

  it('confirms on the new Stripe account when the account’s credentials changed after the page opened: the old PaymentIntent is forgotten', async () => {
    const p = await payer()
    const link = await mint(p)
    const { session } = await claimPage(link.payUrl)
    await untilPrepared(link.intentId)
    const other = await startStripeFake()
    try {
      await server.services.tenants.updateAccountConfig(p.accountId, { secret_key: other.secretKey, webhook_secret: other.webhookSecret, api_base: other.url })
      const answer = await confirm(link.payUrl, session, { card: newCard(STRIPE_CARDS.visa) })
      expect(answer.body.data).toMatchObject({ status: 'succeeded' })
      const [paid] = other.paymentIntents().filter((pi) => pi.metadata.payment_intent_id === link.intentId)
      expect(paid).toMatchObject({ status: 'succeeded' })
      expect(stripeIntentOf(link.intentId)).toMatchObject([{ status: 'requires_payment_method' }])
      expect(await storedRef(link.intentId)).toBe(paid!.id)
    } finally {
      await other.close()
    }
  })

  it.each(['by the sweep', 'when the page is opened again'] as const)('cancels the page’s PaymentIntent once the link expired unpaid (%s)', async (how) => {
    const p = await payer()
    const link = await mint(p)
    await claimPage(link.payUrl)
    await until('the page’s PaymentIntent made', async () => stripeIntentOf(link.intentId).length === 1 && (await intentOf(p, link.intentId)).status === 'pending', 5_000, 20)
    await untilPrepared(link.intentId)
    server.clock.advance(601_000)
    if (how === 'by the sweep') await server.services.lifecycle.sweepExpired()
    else expect((await fetch(link.payUrl, { headers: FRAME })).status).toBe(410)
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'link_expired' })
    await until('cancelled at Stripe', () => stripeIntentOf(link.intentId)[0]!.status === 'canceled', 5_000, 20)
    expect(stripeIntentOf(link.intentId)).toMatchObject([{ status: 'canceled', cancellation_reason: 'abandoned', amount_received: 0 }])
    expect(requestsFor(link.intentId).map((r) => r.idempotencyKey)).toEqual([`${link.intentId}:create`, `${link.intentId}:cancel`])
  })

  it.each([
    ['declined', 'card_declined', 'generic_decline'],
    ['insufficientFunds', 'insufficient_funds', 'insufficient_funds'],
    ['expired', 'expired_card', 'expired_card'],
    ['incorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
    ['processingError', 'processing_error', 'processing_error'],
    ['lost', 'lost_or_stolen', 'lost_card'],
    ['stolen', 'lost_or_stolen', 'stolen_card'],
    ['fraudulent', 'fraudulent', 'fraudulent'],
  ] as const)('maps the %s card to %s, keeping Stripe’s own code %s for the tenant only', async (card, failureCode, processorCode) => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS[card]) })
    expect(answer).toMatchObject({ status: 'failed', failure_code: failureCode })
    expect(answer).not.toHaveProperty('processor_code')
    const intent = await intentOf(p, link.intentId)
    expect(intent).toMatchObject({ status: 'failed', failure_code: failureCode, processor_code: processorCode, processor_message: expect.any(String) })
  })

})

/** The shopper at the fake's 3-D Secure page presses `button`; answers where Stripe sends them back. */
async function authenticateAtStripe(redirectUrl: string, button: 'approve' | 'decline'): Promise<string> {
  const html = await (await fetch(redirectUrl)).text()
  const form = new RegExp(`<form[^>]*action="([^"]+)"[^>]*><button id="${button}"`).exec(html)
  expect(form).not.toBeNull()
  const answer = await fetch(new URL(form![1]!, redirectUrl), { method: 'POST', redirect: 'manual' })
  expect(answer.status).toBe(302)
  return answer.headers.get('location')!
}

/** The frame loads paylink's return URL as the processor sent it. */
const loadReturn = (url: string) => fetch(url, { headers: FRAME })

describe('3-D Secure at Stripe, by redirect inside the frame', () => {
  it('sends the frame to Stripe, and back at paylink’s return URL shows the outcome once', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.threeDSecure) })
    expect(answer).toMatchObject({ status: 'requires_authentication', redirect: { method: 'GET', url: expect.stringContaining(`${stripe.url}/3ds/`) } })
    expect(answer).not.toHaveProperty('challenge')
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'processing' })

    const back = await authenticateAtStripe(answer.redirect.url, 'approve')
    expect(back.startsWith(`${link.payUrl}/return?state=`)).toBe(true)
    const page = await loadReturn(back)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors https://shop.example")
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'")
    const html = await page.text()
    expect(html).toContain('data-screen="returned"')
    expect(returnedResult(html)).toMatchObject({ status: 'succeeded', payment_intent_id: link.intentId, card: { last4: '3184' } })
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'succeeded' })

    // The same return again (a reload, a replay) is spent: it shows the link as used and changes nothing.
    const again = await loadReturn(back)
    expect(again.status).toBe(410)
    expect(await again.text()).toContain('data-screen="used"')
    expect(stripeIntentOf(link.intentId)).toMatchObject([{ status: 'succeeded' }])
  })

  it('fails as authentication_failed when the shopper declines at the bank', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.threeDSecure) })
    const page = await loadReturn(await authenticateAtStripe(answer.redirect.url, 'decline'))
    expect(returnedResult(await page.text())).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' })
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'authentication_failed', processor_code: 'payment_intent_authentication_failure' })
  })

  it('refuses a return with a made-up state, changing nothing; the real one still works', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.threeDSecure) })
    const back = await authenticateAtStripe(answer.redirect.url, 'approve')
    const forged = back.replace(/state=[^&]+/, 'state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
    expect((await loadReturn(forged)).status).toBe(410)
    expect((await loadReturn(`${link.payUrl}/return`)).status).toBe(410)
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'processing' })
    expect(returnedResult(await (await loadReturn(back)).text())).toMatchObject({ status: 'succeeded' })
  })

  it('closes a 3-D Secure never finished when the link expires: authentication_failed, the PaymentIntent cancelled', async () => {
    const p = await payer()
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.threeDSecure) })
    expect(answer.status).toBe('requires_authentication')
    server.clock.advance(Date.parse(link.expiresAt) - server.clock.now().getTime() + 1)
    await server.services.lifecycle.recoverProcessing()
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' })
    expect(stripeIntentOf(link.intentId)).toMatchObject([{ status: 'canceled' }])
  })
})

describe('saved cards at Stripe', () => {
  it('saves a card on a Customer per user and account, and charges it again without a CVC', async () => {
    const p = await payer()
    const first = await confirmOn(p, { card: newCard(STRIPE_CARDS.visa), save_card: true })
    expect(first.answer).toMatchObject({ status: 'succeeded', saved_card_id: expect.stringMatching(/^card_/) })
    const [pi] = stripeIntentOf(first.link.intentId)
    expect(pi).toMatchObject({ setup_future_usage: 'on_session', customer: expect.stringMatching(/^cus_/) })
    // The page's PaymentIntent has no customer: the shopper's choice to save is set on it by an update before the confirm.
    expect(requestsFor(first.link.intentId).map((r) => [r.path.replace(pi!.id, '{pi}'), r.body.customer, r.body.setup_future_usage])).toEqual([
      ['/v1/payment_intents', undefined, undefined],
      ['/v1/customers', undefined, undefined],
      ['/v1/payment_intents/{pi}', pi!.customer, 'on_session'],
      ['/v1/payment_intents/{pi}/confirm', undefined, undefined],
    ])
    const [row] = await server.db.query<{ customer_ref: string; token_encrypted: string }>('SELECT customer_ref, token_encrypted FROM saved_cards WHERE id = $1', [first.answer.saved_card_id])
    expect(row!.customer_ref).toBe(pi!.customer)
    expect(row!.token_encrypted).not.toContain('pm_')

    const again = await confirmOn(p, { saved_card_id: first.answer.saved_card_id })
    expect(again.answer).toMatchObject({ status: 'succeeded', saved_card_id: first.answer.saved_card_id, card: { last4: '4242' } })
    const [second] = stripeIntentOf(again.link.intentId)
    expect(second).toMatchObject({ status: 'succeeded', customer: pi!.customer, payment_method: pi!.payment_method })
    const confirmCall = requestsFor(again.link.intentId).find((r) => r.path.endsWith('/confirm'))!
    expect(confirmCall.body).toEqual({ payment_method: pi!.payment_method, return_url: expect.any(String) })

    // A second card of the same user goes on the same Customer.
    const other = await confirmOn(p, { card: newCard('5555555555554444'), save_card: true })
    expect(stripeIntentOf(other.link.intentId)[0]).toMatchObject({ customer: pi!.customer })

    // Deleting the card detaches it at Stripe: it can never be charged there again.
    const deleted = await p.api.delete(`/v1/platform/users/${p.userId}/cards/${first.answer.saved_card_id}`)
    expect(deleted.status).toBe(200)
    expect(stripe.requests.filter((r) => r.path === `/v1/payment_methods/${pi!.payment_method}/detach`)).toHaveLength(1)
    await expect(stripe.client().paymentIntents.create({ amount: 100, currency: 'usd', customer: pi!.customer as string, payment_method: pi!.payment_method as string, confirm: true })).rejects.toThrow()
  })
})

describe('recovery: a Stripe answer that never arrived is asked for, never charged twice', () => {
  it('shows processing when the connection drops after Stripe charged, then records that one charge', async () => {
    const p = await payer()
    // The SDK retries a reset connection once by itself (same key, replayed); two drops reach paylink.
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'commit_then_drop')
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'commit_then_drop')
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.visa) })
    expect(answer).toMatchObject({ status: 'processing', failure_code: null })
    expect(stripeIntentOf(link.intentId)).toMatchObject([{ status: 'succeeded' }])

    expect(await recover()).toBeGreaterThanOrEqual(1)
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'succeeded' })
    expect(stripeIntentOf(link.intentId)).toHaveLength(1)
    expect(requestsFor(link.intentId).filter((r) => r.path.endsWith('/confirm')).length).toBeLessThanOrEqual(2)
  })

  it('fails as processing_error, charging nothing, when Stripe answered 500 to the confirm: the PaymentIntent is cancelled', async () => {
    const p = await payer()
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'error500')
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.visa) })
    expect(answer).toMatchObject({ status: 'processing' })
    await recover()
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'processing_error', processor_code: 'canceled' })
    expect(stripeIntentOf(link.intentId)).toMatchObject([{ status: 'canceled' }])
  })

  it('finds a PaymentIntent whose id was never stored by searching its metadata', async () => {
    const p = await payer()
    // Every answer to the create is lost — the page's (at load) and the confirm's own, each sent
    // twice (the SDK sends a request again once when its connection drops): paylink never learns
    // the PaymentIntent's id, and never confirms it.
    for (let i = 0; i < 4; i++) stripe.fail({ method: 'POST', path: '/v1/payment_intents' }, 'commit_then_drop')
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.visa) })
    expect(requestsFor(link.intentId).map((r) => r.idempotencyKey)).toEqual(Array(4).fill(`${link.intentId}:create`))
    expect(answer).toMatchObject({ status: 'processing' })
    const [created] = stripeIntentOf(link.intentId)
    expect(created).toMatchObject({ status: 'requires_payment_method' })
    await recover()
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'processing_error' })
    expect(stripeIntentOf(link.intentId)).toMatchObject([{ status: 'canceled' }])
    expect(stripe.requests.some((r) => r.path === '/v1/payment_intents/search')).toBe(true)
  })

  it('gives one PaymentIntent to 20 confirms of one link at once', async () => {
    const p = await payer()
    const link = await mint(p)
    const { session } = await claimPage(link.payUrl)
    const answers = await Promise.all(Array.from({ length: 20 }, () => confirm(link.payUrl, session, { card: newCard(STRIPE_CARDS.visa) })))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19)
    expect(stripeIntentOf(link.intentId)).toHaveLength(1)
  })
})

/** POSTs a signed Stripe event about `object` to the account's processor webhook, as Stripe would. */
async function deliver(accountId: string, signed: { payload: string; headers: Record<string, string> }) {
  const r = await fetch(`${server.baseUrl}/processor-webhooks/${accountId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signed.headers }, body: signed.payload })
  return { status: r.status, body: await r.json() }
}
const stripeEventAbout = (piId: string, type: string) => stripe.events().find((e) => e.type === type && e.object.id === piId)!

describe('Stripe’s webhooks', () => {
  it('finish a payment whose answer was lost, once: a resent event changes nothing', async () => {
    const p = await payer()
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'commit_then_drop')
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'commit_then_drop')
    const { link, answer } = await confirmOn(p, { card: newCard(STRIPE_CARDS.visa) })
    expect(answer.status).toBe('processing')
    const [pi] = stripeIntentOf(link.intentId)
    const event = stripeEventAbout(pi!.id, 'payment_intent.succeeded')
    const signed = stripe.signedEvent(event.type, event.object, { id: event.id })

    expect(await deliver(p.accountId, signed)).toMatchObject({ status: 200, body: { success: true, data: { received: true, applied: 1 } } })
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'succeeded' })
    expect(await deliver(p.accountId, signed)).toMatchObject({ status: 200, body: { data: { applied: 0 } } })
    expect(await tenantEventsOf(server, link.intentId)).toEqual([{ type: 'payment_intent.succeeded' }])
  })

  it('refuse a bad signature with 400 invalid_signature and apply nothing', async () => {
    const p = await payer()
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'error500')
    const { link } = await confirmOn(p, { card: newCard(STRIPE_CARDS.visa) })
    const [pi] = stripeIntentOf(link.intentId)
    const forged = stripe.signedEvent('payment_intent.succeeded', { ...pi, status: 'succeeded' })
    const tampered = { ...forged, payload: forged.payload.replace('"succeeded"', '"succeeded" ') }
    const r = await deliver(p.accountId, tampered)
    expect(r).toMatchObject({ status: 400, body: { success: false, error: { code: 'invalid_signature' } } })
    const unsigned = await deliver(p.accountId, { payload: forged.payload, headers: {} })
    expect(unsigned.status).toBe(400)
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'processing' })
    expect(await tenantEventsOf(server, link.intentId)).toEqual([])
    expect((await deliver('cpa_nosuchaccount', forged)).status).toBe(404)
  })

  it('win over paylink’s own commit when the event comes first: one final state, one event for the tenant', async () => {
    const p = await payer()
    // Stripe charges at once but answers the confirm only after 600 ms; its webhook arrives meanwhile.
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, { delayMs: 600 })
    const link = await mint(p)
    const { session } = await claimPage(link.payUrl)
    const confirming = confirm(link.payUrl, session, { card: newCard(STRIPE_CARDS.visa) })
    let pi: ReturnType<typeof stripeIntentOf>[number] | undefined
    for (let i = 0; i < 100 && pi?.status !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 20))
      pi = stripeIntentOf(link.intentId)[0]
    }
    const event = stripeEventAbout(pi!.id, 'payment_intent.succeeded')
    expect(await deliver(p.accountId, stripe.signedEvent(event.type, event.object, { id: event.id }))).toMatchObject({ status: 200, body: { data: { applied: 1 } } })
    const answer = await confirming
    expect(answer.body.data).toMatchObject({ status: 'succeeded' })
    expect(await intentOf(p, link.intentId)).toMatchObject({ status: 'succeeded' })
    expect(await tenantEventsOf(server, link.intentId)).toEqual([{ type: 'payment_intent.succeeded' }])
  })

  it('never touch a payment of another account, even with a valid signature', async () => {
    const a = await payer()
    const b = await payer()
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'commit_then_drop')
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'commit_then_drop')
    const { link } = await confirmOn(a, { card: newCard(STRIPE_CARDS.visa) })
    const [pi] = stripeIntentOf(link.intentId)
    const event = stripeEventAbout(pi!.id, 'payment_intent.succeeded')
    // Both accounts share the fake's secret: the signature verifies at B, but the payment is A's.
    expect(await deliver(b.accountId, stripe.signedEvent(event.type, event.object, { id: event.id }))).toMatchObject({ status: 200, body: { data: { applied: 0 } } })
    expect(await intentOf(a, link.intentId)).toMatchObject({ status: 'processing' })
  })
})

describe('refunds at Stripe', () => {
  it('sends POST /v1/refunds with the PaymentIntent, the amount in minor units and the refund id as idempotency key', async () => {
    const p = await payer()
    const { link } = await confirmOn(p, { card: newCard(STRIPE_CARDS.visa) })
    const [pi] = stripeIntentOf(link.intentId)
    const r = await p.api.post(`/v1/platform/payment-intents/${link.intentId}/refunds`, { amount: '4.25' })
    expect(r.status).toBe(201)
    expect(r.body.data).toMatchObject({ status: 'succeeded', amount: '4.25', amount_minor: 425 })
    const call = stripe.requests.find((q) => q.path === '/v1/refunds' && q.idempotencyKey === r.body.data.id)
    expect(call?.body).toMatchObject({ payment_intent: pi!.id, amount: '425' })
    expect(stripe.refunds().filter((x) => x.payment_intent === pi!.id)).toMatchObject([{ amount: 425, status: 'succeeded' }])
    expect(await intentOf(p, link.intentId)).toMatchObject({ amount_refunded: '4.25' })
  })

  it('takes back a refund Stripe reports failed after it succeeded (4000 0000 0000 5126): refundable again, refund.failed', async () => {
    const p = await payer()
    const { link } = await confirmOn(p, { card: newCard('4000000000005126') })
    const r = await p.api.post(`/v1/platform/payment-intents/${link.intentId}/refunds`, {})
    expect(r.body.data).toMatchObject({ status: 'succeeded', amount: '12.50' })
    expect(await intentOf(p, link.intentId)).toMatchObject({ amount_refunded: '12.50' })
    const [refund] = stripe.refunds().filter((x) => x.metadata?.refund_id === r.body.data.id)
    const failed = stripe.events().find((e) => e.type === 'refund.failed' && e.object.id === refund!.id)!
    expect(await deliver(p.accountId, stripe.signedEvent(failed.type, failed.object, { id: failed.id }))).toMatchObject({ status: 200, body: { data: { applied: 1 } } })
    expect((await p.api.get(`/v1/platform/refunds/${r.body.data.id}`)).body.data).toMatchObject({ status: 'failed', failure_code: 'processing_error' })
    expect(await intentOf(p, link.intentId)).toMatchObject({ amount_refunded: '0.00' })
    expect((await tenantEventsOf(server, link.intentId)).map((e) => e.type).sort()).toEqual(['payment_intent.succeeded', 'refund.failed', 'refund.succeeded'])
  })
})
