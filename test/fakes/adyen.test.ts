/**
 * The Adyen fake, driven only through the official SDK and our http client (plus fetch for
 * the shopper's 3DS page), so that what passes here is what the SDK will see from Adyen.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import adyen from '@adyen/api-library'
import type { Types } from '@adyen/api-library'
import { startAdyenFake, type AdyenFake, type NotificationRequestItem } from './adyen.js'
import { AdyenConnectionError, AdyenHttpClient, rewriteEndpoint } from '../../src/processors/adyen/http-client.js'

const { HttpClientException, hmacValidator: HmacValidator } = adyen
type PaymentRequest = Types.checkout.PaymentRequest
type PaymentResponse = Types.checkout.PaymentResponse
type RedirectAction = Types.checkout.CheckoutRedirectAction
const Scheme = adyen.Types.checkout.CardDetails.TypeEnum.Scheme
const { ShopperInteractionEnum, RecurringProcessingModelEnum } = adyen.Types.checkout.PaymentRequest
const Success = adyen.Types.notification.NotificationRequestItem.SuccessEnum

const VISA = '4111111145551142'
const MASTERCARD = '5555341244441115'
const VISA_3DS2 = '4917610000000000'
const VISA_3DS1_POST = '4212345678901237'
const RETURN_URL = 'https://shop.example/return?order=1'

let fake: AdyenFake
beforeAll(async () => {
  fake = await startAdyenFake()
})
afterAll(() => fake.close())

let counter = 0
const unique = (prefix: string) => `${prefix}-${++counter}`

const card = (number: string, holderName = 'Jo Tester') => ({
  type: Scheme,
  number,
  expiryMonth: '03',
  expiryYear: '2030',
  cvc: '737',
  holderName,
})

function paymentRequest(paymentMethod: PaymentRequest['paymentMethod'], extra: Partial<PaymentRequest> = {}): PaymentRequest {
  return {
    merchantAccount: fake.merchantAccount,
    amount: { value: 1250, currency: 'EUR' },
    reference: unique('order'),
    returnUrl: RETURN_URL,
    paymentMethod,
    ...extra,
  }
}

const pay = (request: PaymentRequest, idempotencyKey?: string) =>
  fake.checkout().PaymentsApi.payments(request, idempotencyKey ? { idempotencyKey } : undefined)

/** Awaits a call that must fail and returns what it threw. */
const failure = (call: Promise<unknown>) =>
  call.then(
    () => expect.fail('the call succeeded'),
    (e: unknown) => e as InstanceType<typeof HttpClientException>,
  )

function itemsAbout(psp: string): NotificationRequestItem[] {
  return fake
    .notifications()
    .flatMap((n) => n.notificationItems.map((i) => i.NotificationRequestItem))
    .filter((i) => i.pspReference === psp || i.originalReference === psp)
}

const validSignature = (item: NotificationRequestItem) => new HmacValidator().validateHMAC(item, fake.hmacKey)

/** The shopper on the fake's 3DS page: opens it as the action says, presses a button, follows the way back. */
async function authenticate(action: RedirectAction, answer: 'approve' | 'decline'): Promise<string> {
  const opened =
    action.method === 'POST'
      ? await fetch(action.url!, { method: 'POST', body: new URLSearchParams(action.data) })
      : await fetch(action.url!)
  expect(opened.status).toBe(200)
  const html = await opened.text()
  const form = new RegExp(`<form id="${answer}" method="post" action="([^"]+)">(.*?)</form>`).exec(html)
  expect(form, `the page has a #${answer} form`).not.toBeNull()
  const fields = new URLSearchParams([...form![2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))
  const back = await fetch(new URL(form![1]!, action.url), { method: 'POST', body: fields, redirect: 'manual' })
  expect(back.status).toBe(302)
  const location = new URL(back.headers.get('location')!)
  expect(`${location.origin}${location.pathname}`).toBe('https://shop.example/return')
  expect(location.searchParams.get('order')).toBe('1')
  return location.searchParams.get('redirectResult')!
}

describe('authorising a card payment', () => {
  it.each([
    ['Visa', VISA],
    ['Mastercard', MASTERCARD],
  ])('a %s test card is Authorised and an AUTHORISATION webhook is queued', async (_, number) => {
    const request = paymentRequest(card(number))
    const res = await pay(request)
    expect(res).toMatchObject({ resultCode: 'Authorised', merchantReference: request.reference })
    expect(res.pspReference).toMatch(/^[0-9A-Z]{16}$/)
    const [item] = itemsAbout(res.pspReference!)
    expect(item).toMatchObject({ eventCode: 'AUTHORISATION', success: 'true', merchantReference: request.reference })
    expect(item!.amount).toEqual({ value: 1250, currency: 'EUR' })
    expect(validSignature(item!)).toBe(true)
    expect(fake.payments().find((p) => p.pspReference === res.pspReference)?.status).toBe('Authorised')
  })

  it('a wrong API key is 401 with the error JSON Adyen sends', async () => {
    const client = new adyen.Client({ apiKey: 'not-the-key', environment: adyen.EnvironmentEnum.TEST }, new AdyenHttpClient({ apiBase: fake.url }))
    const e = await failure(new adyen.CheckoutAPI(client).PaymentsApi.payments(paymentRequest(card(VISA))))
    expect(e).toBeInstanceOf(HttpClientException)
    expect(e).toMatchObject({ statusCode: 401, errorCode: '000', apiError: { errorType: 'security' } })
  })

  it('a number that fails the Luhn check is 422 101 Invalid card number', async () => {
    const e = await failure(pay(paymentRequest(card('4111111145551143'))))
    expect(e).toMatchObject({ statusCode: 422, errorCode: '101' })
  })

  it('the log keeps neither the card number nor the CVC', async () => {
    const request = paymentRequest(card(MASTERCARD))
    await pay(request)
    const logged = fake.requests.find((r) => (r.body as { reference?: string }).reference === request.reference)
    expect(logged).toMatchObject({ method: 'POST', path: '/checkout/v72/payments' })
    expect((logged!.body as { paymentMethod: Record<string, string> }).paymentMethod).toMatchObject({ number: 'REDACTED', cvc: 'REDACTED' })
    expect(JSON.stringify(fake.requests)).not.toContain(MASTERCARD)
  })
})

describe('refusals, by the holderName test values Adyen documents', () => {
  it.each([
    ['DECLINED', 'Refused', '2', 'Refused'],
    ['REFERRAL', 'Refused', '3', 'Referral'],
    ['BLOCK_CARD', 'Refused', '5', 'Blocked Card'],
    ['CARD_EXPIRED', 'Refused', '6', 'Expired Card'],
    ['INVALID_AMOUNT', 'Refused', '7', 'Invalid Amount'],
    ['NOT_ENOUGH_BALANCE', 'Refused', '12', 'Not enough balance'],
    ['ACQUIRER_FRAUD', 'Refused', '14', 'Acquirer Fraud'],
    ['CVC_DECLINED', 'Refused', '24', 'CVC Declined'],
    ['FRAUD_CANCELLED', 'Cancelled', '22', 'FRAUD-CANCELLED'],
    ['ERROR', 'Error', '4', 'Acquirer Error'],
    ['UNKNOWN', 'Error', '0', 'Unknown'],
  ])('%s → %s, refusalReasonCode %s (%s), and a failed AUTHORISATION webhook', async (holderName, resultCode, code, reason) => {
    const res = await pay(paymentRequest(card(VISA, holderName)))
    expect(res).toMatchObject({ resultCode, refusalReasonCode: code, refusalReason: reason })
    const [item] = itemsAbout(res.pspReference!)
    expect(item).toMatchObject({ eventCode: 'AUTHORISATION', success: 'false', reason })
    expect(validSignature(item!)).toBe(true)
  })

  it('additionalData.RequestedTestAcquirerResponseCode does the same by number', async () => {
    const res = await pay(paymentRequest(card(MASTERCARD), { additionalData: { RequestedTestAcquirerResponseCode: '6' } }))
    expect(res).toMatchObject({ resultCode: 'Refused', refusalReasonCode: '6', refusalReason: 'Expired Card' })
  })

  it('PENDING is Received; the AUTHORISATION webhook brings the outcome', async () => {
    const res = await pay(paymentRequest(card(VISA, 'PENDING')))
    expect(res.resultCode).toBe('Received')
    expect(itemsAbout(res.pspReference!)).toMatchObject([{ eventCode: 'AUTHORISATION', success: 'true' }])
  })

  it('a Luhn-valid number that is not a test card is Refused', async () => {
    const res = await pay(paymentRequest(card('4242424242424242')))
    expect(res).toMatchObject({ resultCode: 'Refused', refusalReasonCode: '2' })
  })
})

describe('3-D Secure through the redirect page', () => {
  async function redirected(number: string): Promise<{ res: PaymentResponse; action: RedirectAction }> {
    const res = await pay(paymentRequest(card(number)))
    expect(res.resultCode).toBe('RedirectShopper')
    return { res, action: res.action as RedirectAction }
  }

  it('the 3DS2 test card redirects with GET; approving authorises through /payments/details', async () => {
    const { res, action } = await redirected(VISA_3DS2)
    expect(action).toMatchObject({ type: 'redirect', method: 'GET' })
    expect(action.url).toContain(`${fake.url}/3ds/${res.pspReference}?`)
    expect(itemsAbout(res.pspReference!)).toEqual([])

    const redirectResult = await authenticate(action, 'approve')
    const details = await fake.checkout().PaymentsApi.paymentsDetails({ details: { redirectResult } })
    expect(details).toMatchObject({ resultCode: 'Authorised', pspReference: res.pspReference })
    const items = itemsAbout(res.pspReference!)
    expect(items).toMatchObject([{ eventCode: 'AUTHORISATION', success: 'true' }])
    expect(validSignature(items[0]!)).toBe(true)
  })

  it('declining is Refused with 11 3D Not Authenticated', async () => {
    const { res, action } = await redirected(VISA_3DS2)
    const redirectResult = await authenticate(action, 'decline')
    const details = await fake.checkout().PaymentsApi.paymentsDetails({ details: { redirectResult } })
    expect(details).toMatchObject({ resultCode: 'Refused', refusalReasonCode: '11', refusalReason: '3D Not Authenticated' })
    expect(itemsAbout(res.pspReference!)).toMatchObject([{ eventCode: 'AUTHORISATION', success: 'false' }])
  })

  it('the 3DS1 card redirects with POST and MD, PaReq and TermUrl', async () => {
    const { res, action } = await redirected(VISA_3DS1_POST)
    expect(action.method).toBe('POST')
    expect(action.url).toBe(`${fake.url}/3ds/${res.pspReference}`)
    expect(action.data).toMatchObject({ MD: expect.any(String), PaReq: expect.any(String), TermUrl: RETURN_URL })
    const redirectResult = await authenticate(action, 'approve')
    const details = await fake.checkout().PaymentsApi.paymentsDetails({ details: { redirectResult } })
    expect(details.resultCode).toBe('Authorised')
  })

  it('sending the same redirectResult again answers the same, with no second webhook', async () => {
    const { res, action } = await redirected(VISA_3DS2)
    const redirectResult = await authenticate(action, 'approve')
    const first = await fake.checkout().PaymentsApi.paymentsDetails({ details: { redirectResult } })
    const again = await fake.checkout().PaymentsApi.paymentsDetails({ details: { redirectResult } })
    expect(again).toEqual(first)
    expect(itemsAbout(res.pspReference!)).toHaveLength(1)
  })
})

describe('idempotency', () => {
  it('the same key and body replay the first answer; nothing is charged twice', async () => {
    const key = unique('key')
    const request = paymentRequest(card(VISA))
    const first = await pay(request, key)
    const again = await pay(request, key)
    expect(again).toEqual(first)
    expect(fake.payments().filter((p) => p.reference === request.reference)).toHaveLength(1)
    expect(fake.requests.filter((r) => r.idempotencyKey === key)).toHaveLength(2)
  })

  it('the same key with another body is 422 704, not to be retried', async () => {
    const key = unique('key')
    await pay(paymentRequest(card(VISA)), key)
    const e = await failure(pay(paymentRequest(card(VISA)), key))
    expect(e).toMatchObject({ statusCode: 422, errorCode: '704' })
    expect(e.responseHeaders?.['transient-error']).toBeUndefined()
  })

  it('keys are company-wide: a payment key reused on a refund is 422 704', async () => {
    const key = unique('key')
    const paid = await pay(paymentRequest(card(VISA)), key)
    const refund = { merchantAccount: fake.merchantAccount, amount: { value: 100, currency: 'EUR' } }
    const e = await failure(fake.checkout().ModificationsApi.refundCapturedPayment(paid.pspReference!, refund, { idempotencyKey: key }))
    expect(e).toMatchObject({ statusCode: 422, errorCode: '704' })
  })

  it('a key longer than 64 characters is refused', async () => {
    const e = await failure(pay(paymentRequest(card(VISA)), 'k'.repeat(65)))
    expect(e.statusCode).toBe(422)
  })
})

describe('faults', () => {
  it('hang: the client gives up after timeoutMs with no 4xx status, and the key is still free', async () => {
    const key = unique('key')
    const request = paymentRequest(card(VISA))
    fake.fail({ method: 'POST', path: '/checkout/v71/payments' }, 'hang')
    const started = Date.now()
    const e = await failure(fake.checkout({ timeoutMs: 500 }).PaymentsApi.payments(request, { idempotencyKey: key }))
    expect(Date.now() - started).toBeGreaterThanOrEqual(450)
    expect(e).toBeInstanceOf(AdyenConnectionError)
    expect(e).toMatchObject({ code: 'timeout' })
    expect(e.statusCode).toBeGreaterThanOrEqual(500)
    expect(fake.payments().some((p) => p.reference === request.reference)).toBe(false)
    expect((await pay(request, key)).resultCode).toBe('Authorised')
  })

  it('error500: nothing is done and nothing stored, so a retry with the key goes through', async () => {
    const key = unique('key')
    const request = paymentRequest(card(VISA))
    fake.fail({ path: '/checkout/v71/payments' }, 'error500')
    const e = await failure(pay(request, key))
    expect(e).toBeInstanceOf(HttpClientException)
    expect(e.statusCode).toBe(500)
    expect(fake.payments().some((p) => p.reference === request.reference)).toBe(false)
    expect((await pay(request, key)).resultCode).toBe('Authorised')
  })

  it('commit_then_drop: the payment is made, the answer lost; a retry with the key returns it', async () => {
    const key = unique('key')
    const request = paymentRequest(card(VISA))
    fake.fail({ method: 'POST', path: '/checkout/v71/payments' }, 'commit_then_drop')
    const e = await failure(pay(request, key))
    expect(e).toBeInstanceOf(AdyenConnectionError)
    expect(e).toMatchObject({ code: 'connection_lost' })
    expect(e.statusCode).toBeGreaterThanOrEqual(500)
    const made = fake.payments().filter((p) => p.reference === request.reference)
    expect(made).toHaveLength(1)

    const replay = await pay(request, key)
    expect(replay.pspReference).toBe(made[0]!.pspReference)
    expect(fake.payments().filter((p) => p.reference === request.reference)).toHaveLength(1)
  })

  it('delayMs: the answer comes late; the same key meanwhile is 704 with transient-error', async () => {
    const key = unique('key')
    const request = paymentRequest(card(VISA))
    fake.fail({ path: '/checkout/v72/payments' }, { delayMs: 300 })
    const started = Date.now()
    const slow = pay(request, key)
    await new Promise((r) => setTimeout(r, 100))
    const busy = await failure(pay(request, key))
    expect(busy).toMatchObject({ statusCode: 422, errorCode: '704' })
    expect(busy.responseHeaders?.['transient-error']).toBe('true')
    expect((await slow).resultCode).toBe('Authorised')
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect((await pay(request, key)).pspReference).toBe((await slow).pspReference)
  })
})

describe('stored cards', () => {
  it('a stored card is charged again without CVC, then deleted and refused', async () => {
    const shopperReference = unique('shopper')
    const store = (number: string) =>
      pay(
        paymentRequest(card(number), {
          storePaymentMethod: true,
          shopperReference,
          shopperInteraction: ShopperInteractionEnum.Ecommerce,
          recurringProcessingModel: RecurringProcessingModelEnum.CardOnFile,
        }),
      )
    const first = await store(VISA)
    const id = first.additionalData?.['tokenization.storedPaymentMethodId']
    expect(id).toMatch(/^[0-9A-Z]{16}$/)
    expect(first.additionalData?.['recurring.recurringDetailReference']).toBe(id)
    const [auth] = itemsAbout(first.pspReference!)
    expect(auth!.additionalData).toMatchObject({ 'tokenization.storedPaymentMethodId': id, 'recurring.shopperReference': shopperReference })
    expect(validSignature(auth!)).toBe(true)

    const reuse = (shopperInteraction: Types.checkout.PaymentRequest.ShopperInteractionEnum) =>
      pay(
        paymentRequest({ type: Scheme, storedPaymentMethodId: id }, {
          shopperReference,
          shopperInteraction,
          recurringProcessingModel: RecurringProcessingModelEnum.CardOnFile,
        }),
      )
    expect((await reuse(ShopperInteractionEnum.ContAuth)).resultCode).toBe('Authorised')
    expect(await failure(reuse(ShopperInteractionEnum.Ecommerce))).toMatchObject({ statusCode: 422, errorCode: '000' })

    const second = await store(MASTERCARD)
    const recurring = fake.checkout().RecurringApi
    const listed = await recurring.getTokensForStoredPaymentDetails(shopperReference, fake.merchantAccount)
    expect(listed.storedPaymentMethods).toMatchObject([
      { id, lastFour: '1142', brand: 'visa' },
      { id: second.additionalData?.['tokenization.storedPaymentMethodId'], lastFour: '1115', brand: 'mc' },
    ])
    await recurring.deleteTokenForStoredPaymentDetails(id!, shopperReference, fake.merchantAccount)
    expect(await failure(reuse(ShopperInteractionEnum.ContAuth))).toMatchObject({ statusCode: 422, errorCode: '803' })
  })

  it('a shopper with no stored card (none made, or all deleted) is 422 800 Contract not found', async () => {
    const request = paymentRequest({ type: Scheme, storedPaymentMethodId: 'NOSUCHTOKEN00000' }, {
      shopperReference: unique('shopper'),
      shopperInteraction: ShopperInteractionEnum.ContAuth,
      recurringProcessingModel: RecurringProcessingModelEnum.CardOnFile,
    })
    expect(await failure(pay(request))).toMatchObject({ statusCode: 422, errorCode: '800' })
  })
})

describe('refunds', () => {
  const refund = (psp: string, value: number, reference = unique('refund')) =>
    fake.checkout().ModificationsApi.refundCapturedPayment(psp, {
      merchantAccount: fake.merchantAccount,
      amount: { value, currency: 'EUR' },
      reference,
    })

  it('a refund is received (201) and its REFUND webhook verifies with the HMAC key', async () => {
    const paid = await pay(paymentRequest(card(VISA)))
    const res = await refund(paid.pspReference!, 500, 'refund-a')
    expect(res).toMatchObject({ status: 'received', paymentPspReference: paid.pspReference, reference: 'refund-a' })
    const item = itemsAbout(paid.pspReference!).find((i) => i.eventCode === 'REFUND')!
    expect(item).toMatchObject({ success: 'true', pspReference: res.pspReference, originalReference: paid.pspReference })
    expect(item.amount).toEqual({ value: 500, currency: 'EUR' })
    expect(validSignature(item)).toBe(true)
    expect(validSignature({ ...item, amount: { value: 50_000, currency: 'EUR' } })).toBe(false)
    expect(fake.payments().find((p) => p.pspReference === paid.pspReference)).toMatchObject({
      status: 'PartiallyRefunded',
      refunds: [{ pspReference: res.pspReference, status: 'refunded' }],
    })
  })

  it('refunding more than is left gives a REFUND webhook with success false', async () => {
    const paid = await pay(paymentRequest(card(VISA)))
    await refund(paid.pspReference!, 1250)
    await refund(paid.pspReference!, 1)
    const refunds = itemsAbout(paid.pspReference!).filter((i) => i.eventCode === 'REFUND')
    expect(refunds.map((i) => i.success)).toEqual(['true', 'false'])
    expect(fake.payments().find((p) => p.pspReference === paid.pspReference)?.status).toBe('Refunded')
  })

  it(`refunds of a payment by holderName REFUND_FAILED are rejected later: REFUND, then REFUND_FAILED`, async () => {
    const paid = await pay(paymentRequest(card(MASTERCARD, 'REFUND_FAILED')))
    expect(paid.resultCode).toBe('Authorised')
    await refund(paid.pspReference!, 1250)
    const items = itemsAbout(paid.pspReference!).filter((i) => i.eventCode !== 'AUTHORISATION')
    expect(items.map((i) => i.eventCode)).toEqual(['REFUND', 'REFUND_FAILED'])
    expect(items.every(validSignature)).toBe(true)
    expect(fake.payments().find((p) => p.pspReference === paid.pspReference)).toMatchObject({
      status: 'Authorised',
      refunds: [{ status: 'failed' }],
    })
  })
})

describe('cancels', () => {
  it('cancel by your own reference is received and answered by TECHNICAL_CANCEL', async () => {
    const request = paymentRequest(card(VISA))
    const paid = await pay(request)
    const res = await fake.checkout().ModificationsApi.cancelAuthorisedPayment({
      merchantAccount: fake.merchantAccount,
      paymentReference: request.reference,
    })
    expect(res).toMatchObject({ status: 'received', paymentReference: request.reference })
    const item = itemsAbout(paid.pspReference!).find((i) => i.eventCode === 'TECHNICAL_CANCEL')!
    expect(item).toMatchObject({ success: 'true', originalReference: paid.pspReference, merchantReference: request.reference })
    expect(validSignature(item)).toBe(true)
    expect(fake.payments().find((p) => p.pspReference === paid.pspReference)?.status).toBe('Cancelled')
  })

  it('cancel by PSP reference is answered by CANCELLATION; a second cancel fails', async () => {
    const paid = await pay(paymentRequest(card(VISA)))
    const cancel = () =>
      fake.checkout().ModificationsApi.cancelAuthorisedPaymentByPspReference(paid.pspReference!, { merchantAccount: fake.merchantAccount })
    expect(await cancel()).toMatchObject({ status: 'received', paymentPspReference: paid.pspReference })
    await cancel()
    const cancellations = itemsAbout(paid.pspReference!).filter((i) => i.eventCode === 'CANCELLATION')
    expect(cancellations.map((i) => i.success)).toEqual(['true', 'false'])
  })
})

describe('signedNotification', () => {
  it('builds a webhook body whose items verify, and stop verifying when changed', () => {
    const body = JSON.parse(fake.signedNotification([{ pspReference: 'ABCDEFGH12345678', success: Success.False }]))
    expect(body.live).toBe('false')
    const item = body.notificationItems[0].NotificationRequestItem as NotificationRequestItem
    expect(item).toMatchObject({ eventCode: 'AUTHORISATION', pspReference: 'ABCDEFGH12345678', merchantAccountCode: fake.merchantAccount })
    expect(validSignature(item)).toBe(true)
    expect(validSignature({ ...item, success: Success.True })).toBe(false)
  })
})

describe('AdyenHttpClient', () => {
  it('maps test and live endpoints onto apiBase without letting them meet', () => {
    expect(rewriteEndpoint('https://checkout-test.adyen.com/v71/payments', 'http://127.0.0.1:9/')).toBe(
      'http://127.0.0.1:9/checkout/v71/payments',
    )
    expect(rewriteEndpoint('https://1797a841fbb37ca7-acme-checkout-live.adyenpayments.com/checkout/v71/payments', 'http://fake')).toBe(
      'http://fake/1797a841fbb37ca7-acme-checkout-live/checkout/v71/payments',
    )
  })

  it('sends the headers the SDK sends', async () => {
    const seen: http.IncomingHttpHeaders[] = []
    const server = http.createServer((req, res) => {
      seen.push(req.headers)
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"resultCode":"Authorised"}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const client = new adyen.Client({ apiKey: 'key-1', environment: adyen.EnvironmentEnum.TEST, applicationName: 'paylink' }, new AdyenHttpClient({ apiBase }))
      await new adyen.CheckoutAPI(client).PaymentsApi.payments(paymentRequest(card(VISA)), { idempotencyKey: 'idem-1' })
      expect(seen[0]).toMatchObject({
        'x-api-key': 'key-1',
        'content-type': 'application/json',
        'idempotency-key': 'idem-1',
        'user-agent': expect.stringMatching(/^paylink adyen-node-api-library\/\d+\.\d+\.\d+$/),
        'adyen-library-name': 'adyen-node-api-library',
      })
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })

  it('a refused connection is AdyenConnectionError connection_lost, status 500', async () => {
    const closed = await startAdyenFake()
    await closed.close()
    const e = await failure(closed.checkout({ timeoutMs: 2000 }).PaymentsApi.payments(paymentRequest(card(VISA))))
    expect(e).toBeInstanceOf(AdyenConnectionError)
    expect(e).toMatchObject({ code: 'connection_lost', statusCode: 500 })
    expect(e.message).not.toContain(VISA)
  })

  it('refuses an apiBase that is not http(s)', () => {
    expect(() => new AdyenHttpClient({ apiBase: 'ftp://example.com' })).toThrow(TypeError)
  })
})
