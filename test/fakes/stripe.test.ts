/**
 * The Stripe fake behaves as Stripe documents it, seen only through the official `stripe`
 * SDK — and through plain fetch for the 3-D Secure page, as a customer's browser sees it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import Stripe from 'stripe'
import { startStripeFake, type StripeFake } from './stripe.js'

let fake: StripeFake
let stripe: Stripe
beforeAll(async () => {
  fake = await startStripeFake()
  stripe = fake.client()
})
afterAll(() => fake.close())

/** Raw card data, as a PCI-scoped adapter sends it (the SDK's types leave `card` out of payment_method_data). */
const card = (number: string, cvc = '123') =>
  ({ type: 'card', card: { number, exp_month: 12, exp_year: 2034, cvc } }) as Stripe.PaymentIntentCreateParams.PaymentMethodData

const RETURN_URL = 'https://merchant.example/return?order=7' // never fetched: redirects are read, not followed

const pay = (number: string, extra: Partial<Stripe.PaymentIntentCreateParams> = {}, options?: Stripe.RequestOptions) =>
  stripe.paymentIntents.create({ amount: 1999, currency: 'eur', confirm: true, payment_method_data: card(number), ...extra }, options)

const failure = (promise: Promise<unknown>) => promise.then(
  () => expect.unreachable('the call should have failed'),
  (e: unknown) => e as Stripe.errors.StripeError,
)

const newKey = () => `key-${crypto.randomUUID()}`

/** Opens the 3-D Secure page of `pi` and presses a button, as a browser would; returns where it redirects. */
async function authenticate(pi: Stripe.PaymentIntent, button: 'approve' | 'decline'): Promise<URL> {
  const pageUrl = pi.next_action?.redirect_to_url?.url
  expect(pageUrl).toBeTruthy()
  const html = await (await fetch(pageUrl!)).text()
  const form = new RegExp(`<form[^>]*action="([^"]+)"[^>]*><button id="${button}"`).exec(html)
  expect(form).not.toBeNull()
  const answer = await fetch(new URL(form![1]!, pageUrl!), { method: 'POST', redirect: 'manual' })
  expect(answer.status).toBe(302)
  return new URL(answer.headers.get('location')!)
}

describe('Authentication', () => {
  it('refuses any key but the account secret key with 401 invalid_request_error', async () => {
    const stranger = new Stripe('sk_test_not_this_one', { host: fake.host, port: fake.port, protocol: 'http', maxNetworkRetries: 0 })
    const error = await failure(stranger.customers.create({}))
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError)
    expect(error).toMatchObject({ statusCode: 401, rawType: 'invalid_request_error' })
  })
})

describe('A successful card payment', () => {
  it.each([
    ['4242424242424242', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['378282246310005', 'amex'],
  ])('%s succeeds at once with confirm=true, with a charge and a saved-shape card', async (number, brand) => {
    const pi = await pay(number, { metadata: { order: '7' } })
    expect(pi).toMatchObject({ object: 'payment_intent', status: 'succeeded', amount: 1999, amount_received: 1999, currency: 'eur', metadata: { order: '7' } })
    expect(pi.id).toMatch(/^pi_/)
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`))
    expect(pi.latest_charge).toMatch(/^ch_/)
    const method = await stripe.paymentMethods.retrieve(pi.payment_method as string)
    expect(method).toMatchObject({ id: expect.stringMatching(/^pm_/), type: 'card', card: { brand, last4: number.slice(-4), exp_month: 12, exp_year: 2034 } })
  })

  it('waits in requires_payment_method until confirmed, and expands what it names', async () => {
    const created = await stripe.paymentIntents.create({ amount: 500, currency: 'usd' })
    expect(created.status).toBe('requires_payment_method')
    const confirmed = await stripe.paymentIntents.confirm(created.id, { payment_method_data: card('4242424242424242') })
    expect(confirmed.status).toBe('succeeded')
    const read = await stripe.paymentIntents.retrieve(created.id, { expand: ['payment_method', 'latest_charge'] })
    expect(read.payment_method).toMatchObject({ id: confirmed.payment_method, card: { last4: '4242' } })
    expect(read.latest_charge).toMatchObject({ id: confirmed.latest_charge, status: 'succeeded', amount: 500 })
  })

  it('cancels an intent that has not succeeded, and refuses to cancel one that has', async () => {
    const open = await stripe.paymentIntents.create({ amount: 500, currency: 'usd' })
    expect(await stripe.paymentIntents.cancel(open.id, { cancellation_reason: 'abandoned' })).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' })
    const paid = await pay('4242424242424242')
    const error = await failure(stripe.paymentIntents.cancel(paid.id))
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
    expect(error.code).toBe('payment_intent_unexpected_state')
  })
})

describe('Declined test cards', () => {
  it.each([
    { number: '4000000000000002', code: 'card_declined', declineCode: 'generic_decline' },
    { number: '4000000000009995', code: 'card_declined', declineCode: 'insufficient_funds' },
    { number: '4000000000009987', code: 'card_declined', declineCode: 'lost_card' },
    { number: '4000000000009979', code: 'card_declined', declineCode: 'stolen_card' },
    { number: '4100000000000019', code: 'card_declined', declineCode: 'fraudulent' },
    { number: '4000000000000069', code: 'expired_card' },
    { number: '4000000000000127', code: 'incorrect_cvc' },
    { number: '4000000000000119', code: 'processing_error' },
    { number: '4242424242424241', code: 'incorrect_number' },
  ])('$number answers 402 StripeCardError $code, and the intent keeps last_payment_error', async ({ number, code, declineCode }) => {
    const error = await failure(pay(number))
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError)
    expect(error).toMatchObject({ statusCode: 402, code })
    expect(error.rawType).toBe('card_error')
    expect((error.raw as { decline_code?: string }).decline_code).toBe(declineCode)
    const pi = error.payment_intent!
    expect(pi).toMatchObject({ status: 'requires_payment_method', last_payment_error: { code } })
    const read = await stripe.paymentIntents.retrieve(pi.id)
    expect(read.status).toBe('requires_payment_method')
    expect(read.last_payment_error).toMatchObject({ type: 'card_error', code, ...(declineCode && { decline_code: declineCode }) })
    expect(fake.events().some((e) => e.type === 'payment_intent.payment_failed' && e.object.id === pi.id)).toBe(true)
  })
})

describe('3-D Secure', () => {
  it.each(['4000002760003184', '4000000000003220'])('%s requires action; approving on the page succeeds the intent', async (number) => {
    const pi = await pay(number, { return_url: RETURN_URL })
    expect(pi.status).toBe('requires_action')
    expect(pi.next_action).toMatchObject({ type: 'redirect_to_url', redirect_to_url: { url: `${fake.url}/3ds/${pi.id}`, return_url: RETURN_URL } })
    const back = await authenticate(pi, 'approve')
    expect(`${back.origin}${back.pathname}`).toBe('https://merchant.example/return')
    expect(Object.fromEntries(back.searchParams)).toEqual({
      order: '7',
      payment_intent: pi.id,
      payment_intent_client_secret: pi.client_secret,
      redirect_status: 'succeeded',
    })
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded')
  })

  it('declining on the page fails authentication: requires_payment_method, payment_intent_authentication_failure', async () => {
    const pi = await pay('4000000000003220', { return_url: RETURN_URL })
    const back = await authenticate(pi, 'decline')
    expect(back.searchParams.get('redirect_status')).toBe('failed')
    const read = await stripe.paymentIntents.retrieve(pi.id)
    expect(read.status).toBe('requires_payment_method')
    expect(read.last_payment_error?.code).toBe('payment_intent_authentication_failure')
  })
})

describe('Idempotency', () => {
  it('replays the first answer for the same key and parameters, marked Idempotent-Replayed', async () => {
    const key = newKey()
    const before = fake.paymentIntents().length
    const first = await pay('4242424242424242', {}, { idempotencyKey: key })
    const again = await pay('4242424242424242', {}, { idempotencyKey: key })
    expect(again).toEqual(first)
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true')
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined()
    expect(fake.paymentIntents()).toHaveLength(before + 1)
  })

  it('replays a decline too: one charge attempt, the same error twice', async () => {
    const key = newKey()
    const before = fake.paymentIntents().length
    const first = await failure(pay('4000000000009995', {}, { idempotencyKey: key }))
    const again = await failure(pay('4000000000009995', {}, { idempotencyKey: key }))
    expect(again.payment_intent?.id).toBe(first.payment_intent?.id)
    expect(again.headers?.['idempotent-replayed']).toBe('true')
    expect(fake.paymentIntents()).toHaveLength(before + 1)
  })

  it('refuses the key with other parameters: 400 idempotency_error', async () => {
    const key = newKey()
    await pay('4242424242424242', { amount: 1000 }, { idempotencyKey: key })
    const error = await failure(pay('4242424242424242', { amount: 2000 }, { idempotencyKey: key }))
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError)
    expect(error).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' })
  })

  it('scopes keys to the account: the key of a customer cannot create a payment', async () => {
    const key = newKey()
    await stripe.customers.create({}, { idempotencyKey: key })
    const error = await failure(pay('4242424242424242', {}, { idempotencyKey: key }))
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError)
  })

  it('answers 409 idempotency_key_in_use while the first request is in flight, then replays it', async () => {
    const key = newKey()
    fake.fail({ method: 'POST', path: '/v1/payment_intents' }, { delayMs: 400 })
    const first = pay('4242424242424242', {}, { idempotencyKey: key })
    await until(() => fake.requests.some((r) => r.idempotencyKey === key))
    const error = await failure(pay('4242424242424242', {}, { idempotencyKey: key }))
    expect(error).toMatchObject({ statusCode: 409, rawType: 'idempotency_error', code: 'idempotency_key_in_use' })
    const done = await first
    expect(await pay('4242424242424242', {}, { idempotencyKey: key })).toEqual(done)
  })
})

describe('Faults', () => {
  it('error500 answers 500 api_error, does nothing, and keeps nothing for the key', async () => {
    const key = newKey()
    const before = fake.paymentIntents().length
    fake.fail({ method: 'POST', path: '/v1/payment_intents' }, 'error500')
    const error = await failure(pay('4242424242424242', {}, { idempotencyKey: key }))
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError)
    expect(error).toMatchObject({ statusCode: 500, rawType: 'api_error' })
    expect(fake.paymentIntents()).toHaveLength(before)
    const retried = await pay('4242424242424242', {}, { idempotencyKey: key })
    expect(retried.status).toBe('succeeded')
    expect(retried.lastResponse.headers['idempotent-replayed']).toBeUndefined()
  })

  it('hang never answers: the SDK gives up at its timeout, and nothing was done', async () => {
    const impatient = fake.client({ timeout: 500 })
    const before = fake.paymentIntents().length
    fake.fail({ path: '/v1/payment_intents' }, 'hang')
    const started = Date.now()
    const error = await failure(impatient.paymentIntents.create({ amount: 100, currency: 'eur' }))
    expect(error).toBeInstanceOf(Stripe.errors.StripeConnectionError)
    expect(error.message).toMatch(/timeout/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(450)
    expect(fake.paymentIntents()).toHaveLength(before)
  })

  it("commit_then_drop does the work and drops the answer; the SDK's own retry gets it replayed", async () => {
    const key = newKey()
    const before = fake.paymentIntents().length
    fake.fail({ method: 'POST', path: '/v1/payment_intents' }, 'commit_then_drop')
    const pi = await pay('4242424242424242', {}, { idempotencyKey: key })
    expect(pi.status).toBe('succeeded')
    expect(pi.lastResponse.headers['idempotent-replayed']).toBe('true')
    expect(fake.requests.filter((r) => r.idempotencyKey === key)).toHaveLength(2)
    expect(fake.paymentIntents()).toHaveLength(before + 1)
  })

  it('an answer lost twice reaches the caller as a connection error; its retry with the key gets the committed result', async () => {
    const key = newKey()
    const before = fake.paymentIntents().length
    fake.fail({ method: 'POST', path: '/v1/payment_intents' }, 'commit_then_drop')
    fake.fail({ method: 'POST', path: '/v1/payment_intents' }, 'commit_then_drop')
    expect(await failure(pay('4242424242424242', {}, { idempotencyKey: key }))).toBeInstanceOf(Stripe.errors.StripeConnectionError)
    const pi = await pay('4242424242424242', {}, { idempotencyKey: key })
    expect(fake.paymentIntents().slice(before).map((p) => p.id)).toEqual([pi.id])
  })

  it('delayMs answers after the delay, and setLatency delays every answer', async () => {
    fake.fail({ path: '/v1/customers' }, { delayMs: 300 })
    let started = Date.now()
    const customer = await stripe.customers.create({})
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    fake.setLatency(150)
    started = Date.now()
    await stripe.customers.retrieve(customer.id)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    fake.setLatency(0)
  })
})

describe('Saved cards', () => {
  it('saves the card of a successful on-session payment to the customer, and charges it again without card data', async () => {
    const customer = await stripe.customers.create({ metadata: { user_id: 'u_1' } })
    expect(customer).toMatchObject({ id: expect.stringMatching(/^cus_/), metadata: { user_id: 'u_1' } })
    const first = await pay('4242424242424242', { customer: customer.id, setup_future_usage: 'on_session' })
    const saved = first.payment_method as string
    expect((await stripe.paymentMethods.retrieve(saved)).customer).toBe(customer.id)

    const again = await stripe.paymentIntents.create({ amount: 700, currency: 'eur', customer: customer.id, payment_method: saved, confirm: true })
    expect(again).toMatchObject({ status: 'succeeded', payment_method: saved })
    const sent = fake.requests.at(-1)!
    expect(sent.body).toMatchObject({ payment_method: saved })
    expect(sent.body).not.toHaveProperty('payment_method_data')
  })

  it("remembers the card's behaviour: a saved always-authenticate card asks again", async () => {
    const customer = await stripe.customers.create({})
    const first = await pay('4000002760003184', { customer: customer.id, setup_future_usage: 'on_session', return_url: RETURN_URL })
    await authenticate(first, 'approve')
    const saved = (await stripe.paymentIntents.retrieve(first.id)).payment_method as string
    expect((await stripe.paymentMethods.retrieve(saved)).customer).toBe(customer.id)
    const again = await stripe.paymentIntents.create({ amount: 700, currency: 'eur', customer: customer.id, payment_method: saved, confirm: true, return_url: RETURN_URL })
    expect(again.status).toBe('requires_action')
  })

  it('refuses a detached card, and a card used once without a customer, with payment_method_unexpected_state', async () => {
    const customer = await stripe.customers.create({})
    const first = await pay('4242424242424242', { customer: customer.id, setup_future_usage: 'off_session' })
    const saved = first.payment_method as string
    expect((await stripe.paymentMethods.detach(saved)).customer).toBeNull()
    const detached = await failure(stripe.paymentIntents.create({ amount: 700, currency: 'eur', customer: customer.id, payment_method: saved, confirm: true }))
    expect(detached).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
    expect(detached).toMatchObject({ statusCode: 400, code: 'payment_method_unexpected_state' })
    expect((await failure(stripe.paymentMethods.detach(saved))).code).toBe('payment_method_unexpected_state')

    const once = (await pay('4242424242424242')).payment_method as string
    const reused = await failure(stripe.paymentIntents.create({ amount: 700, currency: 'eur', payment_method: once, confirm: true }))
    expect(reused.code).toBe('payment_method_unexpected_state')
  })
})

describe('Refunds', () => {
  it('refunds part on request and the rest by default, never more than was charged', async () => {
    const pi = await pay('4242424242424242', { amount: 1000 })
    const part = await stripe.refunds.create({ payment_intent: pi.id, amount: 300, reason: 'requested_by_customer', metadata: { refund_id: 'r_1' } })
    expect(part).toMatchObject({ object: 'refund', status: 'succeeded', amount: 300, payment_intent: pi.id, charge: pi.latest_charge, metadata: { refund_id: 'r_1' } })
    expect(part.id).toMatch(/^re_/)

    const tooMuch = await failure(stripe.refunds.create({ payment_intent: pi.id, amount: 800 }))
    expect(tooMuch).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
    expect(tooMuch).toMatchObject({ statusCode: 400, code: 'amount_too_large' })

    expect(await stripe.refunds.create({ payment_intent: pi.id })).toMatchObject({ status: 'succeeded', amount: 700 })
    expect((await failure(stripe.refunds.create({ payment_intent: pi.id, amount: 1 }))).code).toBe('charge_already_refunded')
    expect(await stripe.refunds.retrieve(part.id)).toEqual(part)
    expect(fake.events().filter((e) => e.type === 'charge.refunded' && e.object.id === pi.latest_charge)).toHaveLength(2)
  })

  it('4000000000005126: the refund answers succeeded, then fails with refund.failed', async () => {
    const pi = await pay('4000000000005126', { amount: 1000 })
    const refund = await stripe.refunds.create({ payment_intent: pi.id })
    expect(refund.status).toBe('succeeded')
    expect(await stripe.refunds.retrieve(refund.id)).toMatchObject({ status: 'failed', failure_reason: 'expired_or_canceled_card' })
    expect(fake.events().find((e) => e.type === 'refund.failed')?.object).toMatchObject({ id: refund.id, status: 'failed' })
    expect(fake.refunds().find((r) => r.id === refund.id)?.status).toBe('failed')
    expect(await stripe.refunds.create({ payment_intent: pi.id, amount: 1000 })).toMatchObject({ amount: 1000 }) // the failed amount is refundable again
  })

  it('refuses to refund an intent without a successful charge', async () => {
    const declined = (await failure(pay('4000000000000002'))).payment_intent!
    expect(await failure(stripe.refunds.create({ payment_intent: declined.id }))).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError)
  })
})

describe('Search', () => {
  it("finds intents by metadata['payment_intent_id']", async () => {
    const tag = `pl_${crypto.randomUUID()}`
    const wanted = await stripe.paymentIntents.create({ amount: 100, currency: 'eur', metadata: { payment_intent_id: tag } })
    await stripe.paymentIntents.create({ amount: 100, currency: 'eur', metadata: { payment_intent_id: `${tag}-other` } })
    const found = await stripe.paymentIntents.search({ query: `metadata['payment_intent_id']:'${tag}'` })
    expect(found.object).toBe('search_result')
    expect(found.data.map((pi) => pi.id)).toEqual([wanted.id])
  })
})

describe('Events and webhooks', () => {
  it('records state changes oldest first', async () => {
    const pi = await pay('4242424242424242')
    const types = fake.events().filter((e) => e.object.id === pi.id).map((e) => e.type)
    expect(types).toEqual(['payment_intent.created', 'payment_intent.succeeded'])
  })

  it('signs a delivery that the SDK verifies with the webhook secret, and only with it', async () => {
    const pi = await pay('4242424242424242')
    const event = fake.events().find((e) => e.type === 'payment_intent.succeeded' && e.object.id === pi.id)!
    const { payload, headers } = fake.signedEvent(event.type, event.object, { id: event.id })
    const verified = stripe.webhooks.constructEvent(payload, headers['stripe-signature']!, fake.webhookSecret)
    expect(verified).toMatchObject({ id: event.id, type: 'payment_intent.succeeded', data: { object: { id: pi.id, status: 'succeeded' } } })
    expect(() => stripe.webhooks.constructEvent(payload, headers['stripe-signature']!, 'whsec_someone_else')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    )
  })
})

describe('The request log', () => {
  it('records method, path, key and parameters, but never a card number or CVC', async () => {
    const key = newKey()
    await pay('4242424242424242', { metadata: { payment_intent_id: 'pl_1' } }, { idempotencyKey: key })
    const logged = fake.requests.at(-1)!
    expect(logged).toMatchObject({ method: 'POST', path: '/v1/payment_intents', idempotencyKey: key })
    expect(logged.body).toMatchObject({
      amount: '1999',
      metadata: { payment_intent_id: 'pl_1' },
      payment_method_data: { card: { number: '[REDACTED]', cvc: '[REDACTED]', exp_month: '12' } },
    })
    const everything = JSON.stringify([fake.requests, fake.paymentIntents(), fake.refunds(), fake.events()])
    expect(everything).not.toContain('4242424242424242')
    expect(everything).not.toContain('"123"')
  })
})

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  expect(condition()).toBe(true)
}
