/**
 * The Adyen adapter against the Adyen fake (test/fakes/adyen.ts), through the official SDK:
 * what paylink's core would see for each of Adyen's answers, and what Adyen was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AdyenProcessor, REFUSALS } from '../../src/processors/adyen/adyen.js'
import { adyenFactory } from '../../src/processors/adyen/factory.js'
import type { AdyenConfig } from '../../src/processors/adyen/config.js'
import type { Attempt, AuthorizeInput, Outcome, ProcessorEvent, Redirect } from '../../src/processors/card-processor.js'
import { WebhookSignatureError } from '../../src/processors/card-processor.js'
import { systemClock } from '../../src/domain/shared/clock.js'
import { randomBase32 } from '../../src/domain/shared/random.js'
import { startAdyenFake, type AdyenFake, type NotificationRequestItem } from '../fakes/adyen.js'

const VISA = '4111111145551142'
const MASTERCARD = '5555341244441115'
const VISA_3DS2 = '4917610000000000'
const VISA_3DS1_POST = '4212345678901237'
const RETURN_URL = 'https://paylink.example/pay/tok_1/return?state=s1'

let fake: AdyenFake
let config: AdyenConfig
let adapter: AdyenProcessor

beforeAll(async () => {
  fake = await startAdyenFake()
  config = { api_key: fake.apiKey, merchant_account: fake.merchantAccount, hmac_key: fake.hmacKey, environment: 'test', api_base: fake.url }
  adapter = processor()
})
afterAll(() => fake.close())

const processor = (timeoutMs = 5_000) => new AdyenProcessor(config, { db: undefined as never, clock: systemClock, timeoutMs })

/** An attempt as the core makes one: the intent id is the key; nothing needs remembering for Adyen. */
function attempt(): Attempt {
  return { key: `pi_${randomBase32(24)}`, remember: () => Promise.reject(new Error('the Adyen adapter has nothing to remember first')) }
}

const card = (number: string, name = 'Jo Tester') => ({ number, expMonth: 3, expYear: 2030, cvc: '737', name })
const charge = (extra: Partial<AuthorizeInput> = {}): AuthorizeInput => ({ card: card(VISA), amountMinor: 1250, currency: 'EUR', returnUrl: RETURN_URL, ...extra })

const requestsFor = (key: string) =>
  fake.requests.filter((r) => {
    const body = r.body as { reference?: string; paymentReference?: string }
    return body.reference === key || body.paymentReference === key || r.idempotencyKey?.startsWith(`${key}:`)
  })

const notificationsAbout = (psp: string): NotificationRequestItem[] =>
  fake
    .notifications()
    .flatMap((n) => n.notificationItems.map((i) => i.NotificationRequestItem))
    .filter((i) => i.pspReference === psp || i.originalReference === psp)

/** One item as Adyen would POST it, parsed by the adapter. */
const parse = (items: NotificationRequestItem[]) =>
  adapter.parseWebhook(Buffer.from(JSON.stringify({ live: 'false', notificationItems: items.map((NotificationRequestItem) => ({ NotificationRequestItem })) })), {})

/** The shopper on the fake's 3DS page: opens the redirect as the adapter describes it, answers, and comes back. */
async function authenticate(redirect: Redirect, answer: 'approve' | 'decline'): Promise<Record<string, string>> {
  const opened = redirect.method === 'POST' ? await fetch(redirect.url, { method: 'POST', body: new URLSearchParams(redirect.fields) }) : await fetch(redirect.url)
  expect(opened.status).toBe(200)
  const html = await opened.text()
  const form = new RegExp(`<form id="${answer}" method="post" action="([^"]+)">(.*?)</form>`).exec(html)
  expect(form).not.toBeNull()
  const fields = new URLSearchParams([...form![2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))
  const back = await fetch(new URL(form![1]!, redirect.url), { method: 'POST', body: fields, redirect: 'manual' })
  expect(back.status).toBe(302)
  const location = new URL(back.headers.get('location')!)
  expect(`${location.origin}${location.pathname}`).toBe('https://paylink.example/pay/tok_1/return')
  return Object.fromEntries(location.searchParams)
}

describe('authorize: a card payment', () => {
  it('an authorised card succeeds with the pspReference as the processor reference', async () => {
    const a = attempt()
    const outcome = await adapter.authorize(a, charge())
    expect(outcome).toEqual({ kind: 'succeeded', processorRef: expect.stringMatching(/^[0-9A-Z]{16}$/) })
    expect(fake.payments().find((p) => p.reference === a.key)).toMatchObject({ status: 'Authorised', amount: { value: 1250, currency: 'EUR' } })
  })

  it('sends the card as Adyen asks: scheme, two-digit month, four-digit year, Ecommerce, Web, returnUrl, reference = intent id', async () => {
    const a = attempt()
    await adapter.authorize(a, { ...charge(), browser: { userAgent: 'Mozilla/5.0', acceptHeader: 'text/html', language: 'nl-NL', origin: 'https://shop.example' } })
    const [sent] = requestsFor(a.key)
    expect(sent).toMatchObject({ method: 'POST', path: '/checkout/v72/payments', idempotencyKey: `${a.key}:payments` })
    expect(sent!.body).toMatchObject({
      merchantAccount: fake.merchantAccount,
      amount: { value: 1250, currency: 'EUR' },
      reference: a.key,
      returnUrl: RETURN_URL,
      channel: 'Web',
      shopperInteraction: 'Ecommerce',
      paymentMethod: { type: 'scheme', number: 'REDACTED', cvc: 'REDACTED', expiryMonth: '03', expiryYear: '2030', holderName: 'Jo Tester' },
      browserInfo: { userAgent: 'Mozilla/5.0', acceptHeader: 'text/html', language: 'nl-NL' },
    })
    expect(sent!.body).not.toHaveProperty('storePaymentMethod')
    expect(sent!.body).not.toHaveProperty('recurringProcessingModel')
  })

  it('a Received payment is pending: the AUTHORISATION webhook will say', async () => {
    const outcome = await adapter.authorize(attempt(), charge({ card: card(VISA, 'PENDING') }))
    expect(outcome).toEqual({ kind: 'pending', processorRef: expect.any(String) })
  })

  it.each(['ERROR', 'UNKNOWN'])('resultCode Error (%s) is unknown, never failed', async (holder) => {
    const outcome = await adapter.authorize(attempt(), charge({ card: card(VISA, holder) }))
    expect(outcome).toMatchObject({ kind: 'unknown', processorRef: expect.any(String) })
  })
})

describe('authorize: refusals are mapped by REFUSALS, with Adyen code and reason kept', () => {
  // The fake answers each of Adyen's documented holderName test values with its refusal.
  it.each([
    ['DECLINED', '2', 'Refused', 'card_declined'],
    ['REFERRAL', '3', 'Referral', 'card_declined'],
    ['BLOCK_CARD', '5', 'Blocked Card', 'lost_or_stolen'],
    ['CARD_EXPIRED', '6', 'Expired Card', 'expired_card'],
    ['INVALID_AMOUNT', '7', 'Invalid Amount', 'processing_error'],
    ['INVALID_CARD_NUMBER', '8', 'Invalid Card Number', 'incorrect_number'],
    ['ISSUER_UNAVAILABLE', '9', 'Issuer Unavailable', 'processing_error'],
    ['NOT_SUPPORTED', '10', 'Not supported', 'card_declined'],
    ['NOT_3D_AUTHENTICATED', '11', '3D Not Authenticated', 'authentication_failed'],
    ['NOT_ENOUGH_BALANCE', '12', 'Not enough balance', 'insufficient_funds'],
    ['ACQUIRER_FRAUD', '14', 'Acquirer Fraud', 'fraudulent'],
    ['SHOPPER_CANCELLED', '16', 'Shopper Cancelled', 'processing_error'],
    ['FRAUD', '20', 'FRAUD', 'fraudulent'],
    ['NOT_SUBMITTED', '21', 'Not Submitted', 'processing_error'],
    ['FRAUD_CANCELLED', '22', 'FRAUD-CANCELLED', 'fraudulent'],
    ['TRANSACTION_NOT_PERMITTED', '23', 'Transaction Not Permitted', 'card_declined'],
    ['CVC_DECLINED', '24', 'CVC Declined', 'incorrect_cvc'],
    ['RESTRICTED_CARD', '25', 'Restricted Card', 'card_declined'],
    ['DECLINED_NON_GENERIC', '27', 'Declined Non Generic', 'card_declined'],
    ['WITHDRAWAL_AMOUNT_EXCEEDED', '28', 'Withdrawal amount exceeded', 'card_declined'],
  ])('%s → refusalReasonCode %s (%s) → %s, and its AUTHORISATION webhook says the same', async (holder, code, reason, failureCode) => {
    expect(REFUSALS[code]?.reason).toBe(reason)
    const outcome = await adapter.authorize(attempt(), charge({ card: card(VISA, holder) }))
    expect(outcome).toEqual({ kind: 'failed', processorRef: expect.any(String), failureCode, processorCode: code, processorMessage: reason })

    const psp = (outcome as { processorRef: string }).processorRef
    const [event] = await parse(notificationsAbout(psp))
    expect(event).toMatchObject({ type: 'payment', processorRef: psp, outcome: { kind: 'failed', failureCode, processorCode: code, processorMessage: reason } })
  })
})

describe('authorize: HTTP errors and faults', () => {
  it('a validation error (422) is failed / processing_error with Adyen errorCode: nothing was charged', async () => {
    const a = attempt()
    const outcome = await adapter.authorize(a, charge({ amountMinor: -1 }))
    expect(outcome).toEqual({ kind: 'failed', failureCode: 'processing_error', processorCode: '137', processorMessage: 'Invalid amount specified' })
    expect(fake.payments().some((p) => p.reference === a.key)).toBe(false)
  })

  it('a card number Adyen finds invalid (422 101) is incorrect_number', async () => {
    const outcome = await adapter.authorize(attempt(), charge({ card: card('4111111145551143') }))
    expect(outcome).toMatchObject({ kind: 'failed', failureCode: 'incorrect_number', processorCode: '101' })
  })

  it('a wrong API key (401) is failed / processing_error', async () => {
    const wrong = new AdyenProcessor({ ...config, api_key: 'AQE_not_the_key' }, { db: undefined as never, clock: systemClock, timeoutMs: 5_000 })
    expect(await wrong.authorize(attempt(), charge())).toMatchObject({ kind: 'failed', failureCode: 'processing_error', processorCode: '000' })
  })

  it('a foreign merchant account (403 901) is failed / processing_error', async () => {
    const foreign = new AdyenProcessor({ ...config, merchant_account: 'SomeoneElse' }, { db: undefined as never, clock: systemClock, timeoutMs: 5_000 })
    expect(await foreign.authorize(attempt(), charge())).toMatchObject({ kind: 'failed', processorCode: '901' })
  })

  it('a 500 is unknown (nothing was made, but paylink cannot know that)', async () => {
    const a = attempt()
    fake.fail({ method: 'POST', path: '/checkout/v72/payments' }, 'error500')
    expect(await adapter.authorize(a, charge())).toEqual({ kind: 'unknown', reason: 'http 500 000' })
    expect(fake.payments().some((p) => p.reference === a.key)).toBe(false)
  })

  it('no answer within timeoutMs is unknown (timeout)', async () => {
    fake.fail({ method: 'POST', path: '/checkout/v72/payments' }, 'hang')
    const started = Date.now()
    expect(await processor(300).authorize(attempt(), charge())).toEqual({ kind: 'unknown', reason: 'timeout' })
    expect(Date.now() - started).toBeLessThan(3_000)
  })

  it('a payment made whose answer was lost is unknown, never failed; recovery cancels it by reference', async () => {
    const a = attempt()
    fake.fail({ method: 'POST', path: '/checkout/v72/payments' }, 'commit_then_drop')
    expect(await adapter.authorize(a, charge())).toEqual({ kind: 'unknown', reason: 'connection_lost' })
    const [made] = fake.payments().filter((p) => p.reference === a.key)
    expect(made?.status).toBe('Authorised')

    // No pspReference was ever stored: lookup cannot find it, cancel closes it by paylink's reference.
    expect(await adapter.lookup({ key: a.key })).toEqual({ kind: 'not_found' })
    expect(await adapter.cancel({ key: a.key })).toEqual({ kind: 'failed', failureCode: 'processing_error', processorCode: 'cancelled', processorMessage: null })
    expect(fake.payments().find((p) => p.reference === a.key)?.status).toBe('Cancelled')
    const cancel = notificationsAbout(made!.pspReference).find((i) => i.eventCode === 'TECHNICAL_CANCEL')!
    expect(await parse([cancel])).toEqual([
      {
        id: `${cancel.pspReference}:TECHNICAL_CANCEL:true`,
        type: 'payment',
        key: a.key,
        processorRef: made!.pspReference,
        outcome: { kind: 'failed', processorRef: made!.pspReference, failureCode: 'processing_error', processorCode: 'cancelled', processorMessage: null },
      },
    ])
  })

  it('the same key still in flight (704) is unknown', async () => {
    const a = attempt()
    fake.fail({ method: 'POST', path: '/checkout/v72/payments' }, { delayMs: 300 })
    const first = adapter.authorize(a, charge())
    await new Promise((r) => setTimeout(r, 100))
    expect(await adapter.authorize(a, charge())).toEqual({ kind: 'unknown', reason: 'http 422 704' })
    expect((await first).kind).toBe('succeeded')
  })
})

describe('3-D Secure by redirect', () => {
  it('a GET redirect, approved: completeAction sends redirectResult to /payments/details and succeeds', async () => {
    const a = attempt()
    const outcome = await adapter.authorize(a, charge({ card: card(VISA_3DS2) }))
    expect(outcome).toMatchObject({ kind: 'requires_action', redirect: { method: 'GET', url: expect.stringContaining(`${fake.url}/3ds/`) } })
    const { processorRef, redirect } = outcome as Extract<Outcome, { kind: 'requires_action' }>
    expect(redirect.fields).toBeUndefined()

    const returned = await authenticate(redirect, 'approve')
    expect(returned).toMatchObject({ state: 's1', redirectResult: expect.any(String) })
    expect(await adapter.completeAction({ key: a.key, processorRef }, returned)).toEqual({ kind: 'succeeded', processorRef })
    expect(requestsFor(a.key).map((r) => r.idempotencyKey)).toEqual([`${a.key}:payments`, `${a.key}:details`])
  })

  it('declined on the 3DS page: authentication_failed (11 3D Not Authenticated)', async () => {
    const a = attempt()
    const { processorRef, redirect } = (await adapter.authorize(a, charge({ card: card(VISA_3DS2) }))) as Extract<Outcome, { kind: 'requires_action' }>
    const outcome = await adapter.completeAction({ key: a.key, processorRef }, await authenticate(redirect, 'decline'))
    expect(outcome).toEqual({ kind: 'failed', processorRef, failureCode: 'authentication_failed', processorCode: '11', processorMessage: '3D Not Authenticated' })
  })

  it('the 3DS1 card redirects by POST with its form fields', async () => {
    const a = attempt()
    const outcome = await adapter.authorize(a, charge({ card: card(VISA_3DS1_POST) }))
    expect(outcome).toMatchObject({
      kind: 'requires_action',
      redirect: { method: 'POST', fields: { MD: expect.any(String), PaReq: expect.any(String), TermUrl: RETURN_URL } },
    })
    const { processorRef, redirect } = outcome as Extract<Outcome, { kind: 'requires_action' }>
    expect(await adapter.completeAction({ key: a.key, processorRef }, await authenticate(redirect, 'approve'))).toEqual({ kind: 'succeeded', processorRef })
  })

  it('a POST return sends MD and PaRes as they came', async () => {
    const a = attempt()
    const outcome = await adapter.completeAction({ key: a.key, processorRef: 'ABCDEFGH12345678' }, { MD: 'md-1', PaRes: 'pares-1' })
    // The fake models only redirectResult, so it refuses them (422): nothing was authorised.
    expect(outcome).toMatchObject({ kind: 'failed', failureCode: 'processing_error' })
    expect(requestsFor(a.key)[0]).toMatchObject({ path: '/checkout/v72/payments/details', body: { details: { MD: 'md-1', PaRes: 'pares-1' } } })
  })

  it('a return with nothing Adyen can check is unknown, and Adyen is not called', async () => {
    const a = attempt()
    expect(await adapter.completeAction({ key: a.key, processorRef: 'ABCDEFGH12345678' }, { state: 's1' })).toMatchObject({ kind: 'unknown', processorRef: 'ABCDEFGH12345678' })
    expect(requestsFor(a.key)).toEqual([])
  })

  it('lookup of an attempt whose pspReference is known is pending: the webhook will say', async () => {
    expect(await adapter.lookup({ key: 'pi_x', processorRef: 'ABCDEFGH12345678' })).toEqual({ kind: 'pending', processorRef: 'ABCDEFGH12345678' })
  })
})

describe('saved cards', () => {
  it('saving returns the token with the shopperReference as customerRef; reuse is ContAuth without CVC; delete removes it', async () => {
    const shopperReference = `usr_${randomBase32(24)}`
    const save = attempt()
    const saved = await adapter.authorize(save, charge({ saveFor: { shopperReference } }))
    expect(saved).toEqual({ kind: 'succeeded', processorRef: expect.any(String), savedCard: { token: expect.stringMatching(/^[0-9A-Z]{16}$/), customerRef: shopperReference } })
    expect(requestsFor(save.key)[0]!.body).toMatchObject({ storePaymentMethod: true, shopperReference, recurringProcessingModel: 'CardOnFile', shopperInteraction: 'Ecommerce' })
    const token = (saved as { savedCard: { token: string } }).savedCard.token

    // The AUTHORISATION webhook carries the token and the shopper too.
    const [auth] = await parse(notificationsAbout((saved as { processorRef: string }).processorRef))
    expect(auth).toMatchObject({ type: 'payment', outcome: { kind: 'succeeded', savedCard: { token, customerRef: shopperReference } } })

    const reuse = attempt()
    const again = await adapter.authorize(reuse, { savedCard: { token, customerRef: shopperReference }, amountMinor: 700, currency: 'EUR', returnUrl: RETURN_URL })
    expect(again).toEqual({ kind: 'succeeded', processorRef: expect.any(String) })
    const [sent] = requestsFor(reuse.key)
    expect(sent!.body).toMatchObject({ paymentMethod: { type: 'scheme', storedPaymentMethodId: token }, shopperReference, shopperInteraction: 'ContAuth', recurringProcessingModel: 'CardOnFile' })
    expect((sent!.body as { paymentMethod: object }).paymentMethod).not.toHaveProperty('cvc')
    expect(sent!.body).not.toHaveProperty('storePaymentMethod')

    await adapter.deleteSavedCard({ token, customerRef: shopperReference, shopperReference })
    expect(fake.requests.at(-1)).toMatchObject({ method: 'DELETE', path: `/checkout/v72/storedPaymentMethods/${token}` })
    // Gone at Adyen (the shopper's only card: 800 Contract not found): charging it is refused, deleting it again is fine.
    expect(await adapter.authorize(attempt(), { savedCard: { token, customerRef: shopperReference }, amountMinor: 700, currency: 'EUR', returnUrl: RETURN_URL })).toMatchObject({
      kind: 'failed',
      processorCode: '800',
    })
    await expect(adapter.deleteSavedCard({ token, customerRef: shopperReference, shopperReference })).resolves.toBeUndefined()
  })

  it('a saved card without its shopperReference is refused before Adyen is called', async () => {
    const a = attempt()
    expect(await adapter.authorize(a, { savedCard: { token: 'ABCDEFGH12345678' }, amountMinor: 700, currency: 'EUR', returnUrl: RETURN_URL })).toMatchObject({
      kind: 'failed',
      processorCode: 'no_shopper_reference',
    })
    expect(requestsFor(a.key)).toEqual([])
  })

  it('deleting when Adyen cannot be reached throws', async () => {
    fake.fail({ method: 'DELETE', path: '/checkout/v72/storedPaymentMethods/ABCDEFGH12345678' }, 'error500')
    await expect(adapter.deleteSavedCard({ token: 'ABCDEFGH12345678', shopperReference: 'usr_x' })).rejects.toThrow(/did not delete/)
  })

  it('a RECURRING_CONTRACT webhook is a saved card', async () => {
    const body = fake.signedNotification([
      { eventCode: 'RECURRING_CONTRACT' as never, pspReference: 'TOKEN00000000001', merchantReference: 'pi_abc', additionalData: { shopperReference: 'usr_1' } },
    ])
    expect(await adapter.parseWebhook(Buffer.from(body), {})).toEqual([
      { id: 'TOKEN00000000001:RECURRING_CONTRACT:true', type: 'saved_card', key: 'pi_abc', savedCard: { token: 'TOKEN00000000001', customerRef: 'usr_1' } },
    ])
  })
})

describe('cancel and refund', () => {
  it('cancel by reference closes an authorised payment (TECHNICAL_CANCEL)', async () => {
    const a = attempt()
    const paid = (await adapter.authorize(a, charge())) as { processorRef: string }
    expect(await adapter.cancel({ key: a.key, processorRef: paid.processorRef })).toEqual({
      kind: 'failed',
      processorRef: paid.processorRef,
      failureCode: 'processing_error',
      processorCode: 'cancelled',
      processorMessage: null,
    })
    expect(requestsFor(a.key).at(-1)).toMatchObject({
      path: '/checkout/v72/cancels',
      idempotencyKey: `${a.key}:cancel`,
      body: { merchantAccount: fake.merchantAccount, paymentReference: a.key, reference: `${a.key}:cancel` },
    })
    expect(fake.payments().find((p) => p.reference === a.key)?.status).toBe('Cancelled')
  })

  it('a cancel Adyen cannot be asked is unknown', async () => {
    fake.fail({ method: 'POST', path: '/checkout/v72/cancels' }, 'error500')
    expect(await adapter.cancel({ key: attempt().key })).toMatchObject({ kind: 'unknown' })
  })

  it('a refund is pending until its REFUND webhook, which parses as succeeded for that refund id', async () => {
    const a = attempt()
    const paid = (await adapter.authorize(a, charge())) as { processorRef: string }
    const refundKey = `re_${randomBase32(24)}`
    const refund = await adapter.refund({ ref: { key: a.key, processorRef: paid.processorRef }, refundKey, amountMinor: 500, currency: 'EUR' })
    expect(refund).toEqual({ kind: 'pending', processorRef: expect.stringMatching(/^[0-9A-Z]{16}$/) })
    expect(fake.requests.at(-1)).toMatchObject({ path: `/checkout/v72/payments/${paid.processorRef}/refunds`, idempotencyKey: refundKey, body: { reference: refundKey, amount: { value: 500, currency: 'EUR' } } })

    const item = notificationsAbout(paid.processorRef).find((i) => i.eventCode === 'REFUND')!
    const refundRef = (refund as { processorRef: string }).processorRef
    expect(await parse([item])).toEqual([
      { id: `${refundRef}:REFUND:true`, type: 'refund', refundKey, processorRef: refundRef, outcome: { kind: 'succeeded', processorRef: refundRef } },
    ])
  })

  it('a refund the scheme rejects later: REFUND, then REFUND_FAILED as a failed refund', async () => {
    const a = attempt()
    const paid = (await adapter.authorize(a, charge({ card: card(MASTERCARD, 'REFUND_FAILED') }))) as { processorRef: string }
    const refundKey = `re_${randomBase32(24)}`
    await adapter.refund({ ref: { key: a.key, processorRef: paid.processorRef }, refundKey, amountMinor: 1250, currency: 'EUR' })
    const items = notificationsAbout(paid.processorRef).filter((i) => i.eventCode !== 'AUTHORISATION')
    const events = await parse(items)
    expect(events.map((e) => e.type === 'refund' && [e.refundKey, e.outcome.kind])).toEqual([
      [refundKey, 'succeeded'],
      [refundKey, 'failed'],
    ])
    expect(new Set(events.map((e) => e.id)).size).toBe(2)
  })

  it('a refund without a pspReference, or one Adyen refuses (422), is failed; a 500 is unknown', async () => {
    expect(await adapter.refund({ ref: { key: 'pi_x' }, refundKey: 're_1', amountMinor: 1, currency: 'EUR' })).toMatchObject({ kind: 'failed', processorCode: 'no_psp_reference' })
    expect(await adapter.refund({ ref: { key: 'pi_x', processorRef: 'NOSUCHPAYMENT000' }, refundKey: `re_${randomBase32(24)}`, amountMinor: 1, currency: 'EUR' })).toMatchObject({
      kind: 'failed',
      processorCode: '167',
    })
    fake.fail({ path: '/checkout/v72/payments/NOSUCHPAYMENT000/refunds' }, 'error500')
    expect(await adapter.refund({ ref: { key: 'pi_x', processorRef: 'NOSUCHPAYMENT000' }, refundKey: `re_${randomBase32(24)}`, amountMinor: 1, currency: 'EUR' })).toMatchObject({
      kind: 'unknown',
    })
  })
})

describe('parseWebhook', () => {
  const event = async (items: Parameters<AdyenFake['signedNotification']>[0]): Promise<ProcessorEvent[]> =>
    adapter.parseWebhook(Buffer.from(fake.signedNotification(items)), {})

  it('AUTHORISATION success is a succeeded payment for the merchantReference', async () => {
    expect(await event([{ pspReference: 'PSP0000000000001', merchantReference: 'pi_a' }])).toEqual([
      { id: 'PSP0000000000001:AUTHORISATION:true', type: 'payment', key: 'pi_a', processorRef: 'PSP0000000000001', outcome: { kind: 'succeeded', processorRef: 'PSP0000000000001' } },
    ])
  })

  it('AUTHORISATION failure is a failed payment mapped by its reason', async () => {
    const [e] = await event([{ pspReference: 'PSP0000000000002', merchantReference: 'pi_b', success: 'false' as never, reason: 'CVC Declined' }])
    expect(e).toMatchObject({ type: 'payment', key: 'pi_b', outcome: { kind: 'failed', failureCode: 'incorrect_cvc', processorCode: '24', processorMessage: 'CVC Declined' } })
    const [other] = await event([{ pspReference: 'PSP0000000000003', success: 'false' as never, reason: 'Something new' }])
    expect(other).toMatchObject({ outcome: { kind: 'failed', failureCode: 'card_declined', processorCode: 'refused', processorMessage: 'Something new' } })
  })

  it('the same notification sent twice has the same id', async () => {
    const item = { pspReference: 'PSP0000000000004', merchantReference: 'pi_c' }
    const [first] = await event([item])
    const [again] = await event([item])
    expect(again!.id).toBe(first!.id)
  })

  it('a tampered item, a missing signature or a body that is not JSON throws WebhookSignatureError', async () => {
    const body = JSON.parse(fake.signedNotification([{ pspReference: 'PSP0000000000005' }, { pspReference: 'PSP0000000000006' }]))
    body.notificationItems[1].NotificationRequestItem.amount.value = 99_999
    await expect(adapter.parseWebhook(Buffer.from(JSON.stringify(body)), {})).rejects.toBeInstanceOf(WebhookSignatureError)
    delete body.notificationItems[1].NotificationRequestItem.additionalData.hmacSignature
    await expect(adapter.parseWebhook(Buffer.from(JSON.stringify(body)), {})).rejects.toBeInstanceOf(WebhookSignatureError)
    await expect(adapter.parseWebhook(Buffer.from('[accepted'), {})).rejects.toBeInstanceOf(WebhookSignatureError)
    await expect(adapter.parseWebhook(Buffer.from('{}'), {})).rejects.toBeInstanceOf(WebhookSignatureError)
  })

  it('a notification signed with another key is refused', async () => {
    const other = await startAdyenFake({ merchantAccount: fake.merchantAccount })
    try {
      await expect(adapter.parseWebhook(Buffer.from(other.signedNotification([{}])), {})).rejects.toBeInstanceOf(WebhookSignatureError)
    } finally {
      await other.close()
    }
  })

  it('events of no interest, failed cancels and other merchant accounts are ignored', async () => {
    const events = await event([
      { eventCode: 'CAPTURE' as never },
      { eventCode: 'TECHNICAL_CANCEL' as never, success: 'false' as never },
      { merchantAccountCode: 'AnotherAccount' },
    ])
    expect(events.map((e) => e.type)).toEqual(['ignored', 'ignored', 'ignored'])
  })
})

describe('idempotency keys', () => {
  it('each request has its own key, derived from the intent id, at most 64 characters', async () => {
    const a = attempt()
    const { processorRef, redirect } = (await adapter.authorize(a, charge({ card: card(VISA_3DS2) }))) as Extract<Outcome, { kind: 'requires_action' }>
    await adapter.completeAction({ key: a.key, processorRef }, await authenticate(redirect, 'approve'))
    await adapter.cancel({ key: a.key, processorRef })
    const keys = requestsFor(a.key).map((r) => r.idempotencyKey)
    expect(keys).toEqual([`${a.key}:payments`, `${a.key}:details`, `${a.key}:cancel`])
    for (const key of keys) expect(key!.length).toBeLessThanOrEqual(64)
    for (const r of fake.requests.filter((r) => r.method === 'POST')) expect(r.idempotencyKey?.length ?? 0).toBeLessThanOrEqual(64)
  })
})

describe('adyenFactory', () => {
  it('is the adyen processor, approved by the operator, and makes the adapter', async () => {
    expect(adyenFactory).toMatchObject({ name: 'adyen', autoApprove: false })
    expect(await adyenFactory.create(config as unknown as Record<string, unknown>, { db: undefined as never, clock: systemClock, timeoutMs: 1_000 })).toBeInstanceOf(AdyenProcessor)
    expect(adyenFactory.checkConfig(config)).toEqual([])
  })

  it('checkConfig names each problem', () => {
    const { hmac_key: _, ...noHmac } = config
    expect(adyenFactory.checkConfig(noHmac)).toEqual([{ key: 'hmac_key', issue: 'is required' }])
    expect(adyenFactory.checkConfig({ ...config, hmac_key: 'not-hex' })).toEqual([{ key: 'hmac_key', issue: expect.stringContaining('hex') }])
    expect(adyenFactory.checkConfig({ ...config, environment: 'prod' })).toContainEqual({ key: 'environment', issue: 'must be "test" or "live"' })
    const { api_base: __, ...live } = { ...config, environment: 'live' }
    expect(adyenFactory.checkConfig(live)).toEqual([{ key: 'live_url_prefix', issue: 'is required for the live environment' }])
    expect(adyenFactory.checkConfig({ ...live, live_url_prefix: 'abc123-Company' })).toEqual([])
    expect(adyenFactory.checkConfig({ ...config, live_url_prefix: 'abc' })).toEqual([{ key: 'live_url_prefix', issue: 'is only for the live environment' }])
  })
})
