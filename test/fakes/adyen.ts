/**
 * A stateful fake of Adyen's Checkout API, in process, for tests that drive the official
 * SDK (`@adyen/api-library`) through our `AdyenHttpClient`. Nothing here reaches Adyen.
 *
 * Modelled, as Adyen documents it:
 * - Paths: `/checkout/v71/...` and `/checkout/v72/...` (SDK 32 calls v72; the fields used
 *   here are the same in both). `X-API-Key` must match, else 401 with Adyen's error JSON
 *   `{status, errorCode: "000", message: "HTTP Status Response - Unauthorized", errorType:
 *   "security"}`; a foreign `merchantAccount` is 403 `901 Invalid Merchant Account`.
 * - Idempotency (docs.adyen.com/development-resources/api-idempotency): POST only; the key
 *   is at most 64 characters and scoped to the company account, so one key spans every
 *   endpoint. The same key and body replays the first answer (with an `idempotency-key`
 *   header). A second request while the first is in flight gets 422 `704 request already
 *   processed or in progress` with `transient-error: true`. Adyen documents no separate code
 *   for the same key with a different body; the fake answers that with the same 704, without
 *   `transient-error` (do not retry it). 5xx answers are not stored; everything else is.
 * - Outcomes (docs.adyen.com/development-resources/testing/result-codes): the documented
 *   `paymentMethod.holderName` values, or `additionalData.RequestedTestAcquirerResponseCode`,
 *   codes 0 to 28 of the table (`TEST_RESPONSES`): Refused / Error / Cancelled with
 *   `refusalReason` and `refusalReasonCode`, and PENDING (13) → `Received`. Adyen documents
 *   no expiry or CVC trick for online payments, so there is none here.
 * - Cards (Adyen's published test cards, `TEST_CARDS`): the plain ones authorise; 4917 6100
 *   0000 0000 (Visa), 5454 5454 5454 5454 (Mastercard) and 3714 4963 5398 431 (Amex), the
 *   3-D Secure 2 cards, answer `RedirectShopper` with a GET redirect to the fake's 3DS page;
 *   4212 3456 7890 1237 (the Visa 3DS1 card of Adyen's own integration tests) answers with a
 *   POST redirect carrying `data {MD, PaReq, TermUrl}`, the shape Adyen documents for 3-D
 *   Secure redirects. A number failing Luhn is 422 `101 Invalid card number`; any other
 *   number is Refused (2), as on a test platform that does not know the card.
 * - 3DS: the page has two forms, `#approve` and `#decline`; either sends the shopper back
 *   to `returnUrl` with `redirectResult` (GET 302, as Adyen does since v67), and
 *   `/payments/details {details: {redirectResult}}` answers the outcome: decline is Refused
 *   11 `3D Not Authenticated`; approve is the authorisation the request asked for.
 * - Tokens (docs.adyen.com/online-payments/tokenization): an authorised payment with
 *   `storePaymentMethod` and `shopperReference` answers, and notifies, both
 *   `tokenization.storedPaymentMethodId` (v71's field) and the deprecated
 *   `recurring.recurringDetailReference`. Reuse with `{type: 'scheme', storedPaymentMethodId}`:
 *   `ContAuth` needs no CVC; `Ecommerce` without a CVC is 422 `000 CVC is required for
 *   OneClick card payments.`; a shopper with no tokens is 422 `800 Contract not found`, an
 *   unknown or deleted token 422 `803 PaymentDetail not found`. DELETE answers 204.
 * - Modifications answer 201 `{status: 'received', ...}`; the outcome comes in a webhook:
 *   REFUND (success false when the payment cannot take it), CANCELLATION for
 *   `/payments/{psp}/cancels`, and TECHNICAL_CANCEL for `/cancels` by your own reference
 *   (the event Adyen documents for that endpoint). Capture is not modelled: an authorised
 *   payment can be refunded (as if captured at once) or cancelled (as if not yet captured).
 * - Webhooks: every state change queues one standard notification, `{live: 'false',
 *   notificationItems: [{NotificationRequestItem}]}`, signed with the SDK's HmacValidator.
 *   Tests deliver them. AUTHORISATION is queued at once, even for a `Received` answer, and
 *   the payment counts as authorised from then on.
 *
 * Rules of the fake's own (Adyen has no test mechanism for them):
 * - a payment whose `holderName` is `REFUND_FAILED` authorises, but each refund of it gets a
 *   REFUND webhook (success true) and then REFUND_FAILED, the scheme's later rejection;
 * - stored-card payments never ask for 3DS and take no holderName test value.
 *
 * Left out: sessions, /paymentMethods, captures, native 3DS2 (IdentifyShopper,
 * ChallengeShopper), encrypted card fields, the details `{MD, PaRes}` return of older
 * versions, partial authorisation, webhook delivery and retries, and table rows past 28.
 *
 * Card numbers and CVCs are never kept: `requests` shows them as REDACTED, and the
 * idempotency check compares bodies by an HMAC under a key made per fake.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHmac, randomBytes } from 'node:crypto'
import adyen from '@adyen/api-library'
import type { CheckoutAPI, Types } from '@adyen/api-library'
import { AdyenHttpClient } from '../../src/processors/adyen/http-client.js'
import { randomBase32 } from '../../src/domain/shared/random.js'

/** The webhook body Adyen POSTs (the SDK's `Notification`). */
export type NotificationRequest = Types.notification.Notification
export type NotificationRequestItem = Types.notification.NotificationRequestItem

/**
 * What `fail` does to one request: `error500` answers 500 having done nothing; `hang` never
 * answers; `commit_then_drop` carries the request out (idempotency record included) and
 * destroys the socket; `delayMs` carries it out after a wait, holding its Idempotency-Key.
 */
export type Fault = 'error500' | 'hang' | 'commit_then_drop' | { delayMs: number }

/** Minor units and an ISO currency code, as Adyen sends amounts. */
export interface Amount {
  value: number
  currency: string
}

/** One refund of a payment; `failed` when the REFUND webhook said no or REFUND_FAILED followed. */
export interface FakeRefund {
  pspReference: string
  reference?: string
  amount: Amount
  status: 'refunded' | 'failed'
}

/** A payment as the fake's ledger holds it. */
export interface FakePayment {
  pspReference: string
  reference: string
  /** Authorised, Refused, Error, Cancelled, RedirectShopper, PartiallyRefunded or Refunded. */
  status: string
  amount: Amount
  refunds: FakeRefund[]
  storedPaymentMethodId?: string
}

/** One API request as received, card number and CVC replaced by REDACTED. */
export interface RecordedRequest {
  method: string
  path: string
  idempotencyKey?: string
  body: unknown
}

export interface AdyenFake {
  /** The `apiBase` to give `AdyenHttpClient`. */
  url: string
  apiKey: string
  merchantAccount: string
  /** 64 hex characters, as Adyen shows an HMAC key. */
  hmacKey: string
  /** A CheckoutAPI from the SDK pointed at the fake through our http client. */
  checkout(opts?: { timeoutMs?: number }): CheckoutAPI
  payments(): FakePayment[]
  requests: RecordedRequest[]
  /** The next request matching `method` (any when absent) and `path` suffers `fault`; the path's version segment is ignored. */
  fail(match: { method?: string; path: string }, fault: Fault): void
  /** Webhooks queued on state changes, oldest first. */
  notifications(): NotificationRequest[]
  /** One signed webhook body (JSON) for the given items; missing fields get plain defaults. */
  signedNotification(items: Partial<NotificationRequestItem>[]): string
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------
// Adyen's test data

type Brand = 'visa' | 'mc' | 'amex'
interface TestCard {
  brand: Brand
  /** How the 3DS redirect is made, for the cards that ask for authentication. */
  threeDS?: 'GET' | 'POST'
}

/** docs.adyen.com/development-resources/testing/test-card-numbers (expiry 03/2030, CVC 737, Amex 7373). */
const TEST_CARDS: Record<string, TestCard> = {
  ...cards('visa', '4111111145551142 4111112014267661 4988438843884305 4166676667666746 4111111111111111 4444333322221111'),
  ...cards('mc', '2222400070000005 5555341244441115 5577000055770004 5555444433331111 2222410740360010 5555555555554444'),
  ...cards('mc', '2222410700000002 2222400010000008 2223000048410010 2222400060000007 2223520443560010 2222400030000004'),
  ...cards('mc', '5100060000000002 2222400050000009 5103221911199245'),
  ...cards('amex', '370000000000002 370000000100018'),
  '4917610000000000': { brand: 'visa', threeDS: 'GET' },
  '5454545454545454': { brand: 'mc', threeDS: 'GET' },
  '371449635398431': { brand: 'amex', threeDS: 'GET' },
  '4212345678901237': { brand: 'visa', threeDS: 'POST' },
}

function cards(brand: Brand, numbers: string): Record<string, TestCard> {
  return Object.fromEntries(numbers.split(' ').map((n) => [n, { brand }]))
}

type ResultCode = 'Authorised' | 'Refused' | 'Error' | 'Cancelled' | 'Received'
interface Outcome {
  resultCode: ResultCode
  code?: number
  reason?: string
}

/** holderName → outcome; the row's index is its RequestedTestAcquirerResponseCode. */
const TEST_RESPONSES: Array<[holderName: string, resultCode: ResultCode, refusalReason: string]> = [
  ['UNKNOWN', 'Error', 'Unknown'],
  ['APPROVED', 'Authorised', ''],
  ['DECLINED', 'Refused', 'Refused'],
  ['REFERRAL', 'Refused', 'Referral'],
  ['ERROR', 'Error', 'Acquirer Error'],
  ['BLOCK_CARD', 'Refused', 'Blocked Card'],
  ['CARD_EXPIRED', 'Refused', 'Expired Card'],
  ['INVALID_AMOUNT', 'Refused', 'Invalid Amount'],
  ['INVALID_CARD_NUMBER', 'Refused', 'Invalid Card Number'],
  ['ISSUER_UNAVAILABLE', 'Refused', 'Issuer Unavailable'],
  ['NOT_SUPPORTED', 'Refused', 'Not supported'],
  ['NOT_3D_AUTHENTICATED', 'Refused', '3D Not Authenticated'],
  ['NOT_ENOUGH_BALANCE', 'Refused', 'Not enough balance'],
  ['PENDING', 'Received', ''],
  ['ACQUIRER_FRAUD', 'Refused', 'Acquirer Fraud'],
  ['CANCELLED', 'Refused', 'Cancelled'],
  ['SHOPPER_CANCELLED', 'Refused', 'Shopper Cancelled'],
  ['INVALID_PIN', 'Refused', 'Invalid Pin'],
  ['PIN_TRIES_EXCEEDED', 'Refused', 'Pin tries exceeded'],
  ['PIN_VALIDATION_NOT_POSSIBLE', 'Refused', 'Pin validation not possible'],
  ['FRAUD', 'Refused', 'FRAUD'],
  ['NOT_SUBMITTED', 'Refused', 'Not Submitted'],
  ['FRAUD_CANCELLED', 'Cancelled', 'FRAUD-CANCELLED'],
  ['TRANSACTION_NOT_PERMITTED', 'Refused', 'Transaction Not Permitted'],
  ['CVC_DECLINED', 'Refused', 'CVC Declined'],
  ['RESTRICTED_CARD', 'Refused', 'Restricted Card'],
  ['REVOCATION_OF_AUTH', 'Refused', 'Revocation Of Auth'],
  ['DECLINED_NON_GENERIC', 'Refused', 'Declined Non Generic'],
  ['WITHDRAWAL_AMOUNT_EXCEEDED', 'Refused', 'Withdrawal amount exceeded'],
]

function testResponse(code: number): Outcome | undefined {
  const row = TEST_RESPONSES[code]
  if (!row) return undefined
  const [, resultCode, reason] = row
  return resultCode === 'Authorised' || resultCode === 'Received' ? { resultCode } : { resultCode, code, reason }
}

const AUTHORISED: Outcome = { resultCode: 'Authorised' }
const UNKNOWN_CARD: Outcome = { resultCode: 'Refused', code: 2, reason: 'Refused' }
const NOT_AUTHENTICATED: Outcome = { resultCode: 'Refused', code: 11, reason: '3D Not Authenticated' }
/** The fake's own rule: refunds of a payment made with this holderName fail at the scheme. */
const REFUND_FAILS_HOLDER = 'REFUND_FAILED'

// ---------------------------------------------------------------------------------------
// State

interface CardSummary {
  brand: Brand
  last4: string
  expiryMonth?: string
  expiryYear?: string
  holderName?: string
}

interface Payment extends FakePayment {
  merchantAccount: string
  card: CardSummary
  shopperReference?: string
  storePaymentMethod: boolean
  returnUrl?: string
  refundFails: boolean
  /** While waiting for the shopper on the 3DS page. */
  threeDS?: { method: 'GET' | 'POST'; session: string; then: Outcome }
  /** The answer given once the payment was decided (replayed by /payments/details). */
  answer?: Record<string, unknown>
}

interface StoredCard {
  id: string
  shopperReference: string
  card: CardSummary
  firstPspReference: string
  refundFails: boolean
}

interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

interface StoredReply extends Reply {
  fingerprint: string
}

type Body = Record<string, unknown>
type Handler = (body: Body, params: string[], query: URLSearchParams) => Reply

const CHECKOUT_PATH = /^\/checkout\/v(?:71|72)\/(.+)$/
const IN_PROGRESS = 'request already processed or in progress'
const MAX_BODY_BYTES = 1 << 20

export async function startAdyenFake(
  opts: { apiKey?: string; merchantAccount?: string; hmacKey?: string } = {},
): Promise<AdyenFake> {
  const fake = new Fake(
    opts.apiKey ?? `AQE_test_${randomBase32(24)}`,
    opts.merchantAccount ?? 'PaylinkTestECOM',
    opts.hmacKey ?? randomBytes(32).toString('hex').toUpperCase(),
  )
  await fake.listen()
  return fake
}

class Fake implements AdyenFake {
  url = ''
  readonly requests: RecordedRequest[] = []
  private readonly server = http.createServer((req, res) => {
    // A bug in the fake answers 500 with its message rather than leaving the test to time out.
    this.serve(req, res).catch((e: unknown) => this.send(res, apiError(500, '000', `The fake failed: ${String(e)}`, 'internal')))
  })
  private readonly ledger = new Map<string, Payment>()
  private readonly tokens = new Map<string, StoredCard>()
  private readonly redirectResults = new Map<string, { psp: string; answer: 'approve' | 'decline' }>()
  private readonly idempotent = new Map<string, StoredReply>()
  private readonly inFlight = new Set<string>()
  private readonly faults: Array<{ method?: string; path: string; fault: Fault }> = []
  private readonly queued: NotificationRequest[] = []
  private readonly fingerprintKey = randomBytes(32)
  private readonly hmac = new adyen.hmacValidator()
  private closed = false

  private readonly routes: Array<[method: string, path: RegExp, handler: Handler]> = [
    ['POST', /^payments$/, (body) => this.createPayment(body)],
    ['POST', /^payments\/details$/, (body) => this.paymentDetails(body)],
    ['POST', /^payments\/([^/]+)\/refunds$/, (body, [psp]) => this.refund(psp!, body)],
    ['POST', /^payments\/([^/]+)\/cancels$/, (body, [psp]) => this.cancelByPsp(psp!, body)],
    ['POST', /^cancels$/, (body) => this.cancelByReference(body)],
    ['GET', /^storedPaymentMethods$/, (_, __, query) => this.listTokens(query)],
    ['DELETE', /^storedPaymentMethods\/([^/]+)$/, (_, [id], query) => this.deleteToken(id!, query)],
  ]

  constructor(
    readonly apiKey: string,
    readonly merchantAccount: string,
    readonly hmacKey: string,
  ) {}

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
        resolve()
      })
    })
  }

  checkout(opts: { timeoutMs?: number } = {}): CheckoutAPI {
    const client = new AdyenHttpClient({ apiBase: this.url, timeoutMs: opts.timeoutMs })
    return new adyen.CheckoutAPI(new adyen.Client({ apiKey: this.apiKey, environment: adyen.EnvironmentEnum.TEST }, client))
  }

  payments(): FakePayment[] {
    return [...this.ledger.values()].map((p) => ({
      pspReference: p.pspReference,
      reference: p.reference,
      status: p.status,
      amount: { ...p.amount },
      refunds: p.refunds.map((r) => ({ ...r, amount: { ...r.amount } })),
      ...(p.storedPaymentMethodId && { storedPaymentMethodId: p.storedPaymentMethodId }),
    }))
  }

  fail(match: { method?: string; path: string }, fault: Fault): void {
    this.faults.push({ ...match, fault })
  }

  notifications(): NotificationRequest[] {
    return structuredClone(this.queued)
  }

  signedNotification(items: Partial<NotificationRequestItem>[]): string {
    const full = items.map((item) =>
      this.signed({
        eventCode: 'AUTHORISATION',
        success: 'true',
        pspReference: pspReference(),
        merchantReference: 'fake-reference',
        merchantAccountCode: this.merchantAccount,
        amount: { value: 0, currency: 'EUR' },
        eventDate: eventDate(),
        ...(item as Partial<Item>),
      }),
    )
    return JSON.stringify(webhook(full))
  }

  close(): Promise<void> {
    this.closed = true
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  // -------------------------------------------------------------------------------------
  // HTTP

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url)
    const raw = await readBody(req)
    if (url.pathname.startsWith('/3ds/')) return this.send(res, this.threeDSPage(req.method ?? '', url, raw))
    const route = CHECKOUT_PATH.exec(url.pathname)
    if (!route) return this.send(res, apiError(404, '000', 'Not Found', 'validation'))

    const method = req.method ?? 'GET'
    const key = header(req, 'idempotency-key')
    const body = raw ? parseObject(raw) : {}
    if (!body) {
      this.requests.push({ method, path: url.pathname, ...(key && { idempotencyKey: key }), body: '(not a JSON object)' })
      return this.send(res, apiError(400, '000', 'Unable to parse message', 'validation'))
    }
    this.requests.push({ method, path: url.pathname, ...(key && { idempotencyKey: key }), body: redact(body) })

    const fault = this.takeFault(method, url.pathname)
    if (fault === 'hang') return
    if (fault === 'error500') return this.send(res, apiError(500, '000', 'Internal error', 'internal'))
    if (header(req, 'x-api-key') !== this.apiKey) {
      return this.send(res, apiError(401, '000', 'HTTP Status Response - Unauthorized', 'security'))
    }

    const run = () => this.dispatch(method, route[1]!, body, url.searchParams)
    const reply =
      method === 'POST' && key !== undefined
        ? await this.once(key, `${method} ${versionless(url.pathname)}\n${canonical(raw)}`, fault, run)
        : await delayed(fault, run)
    if (fault === 'commit_then_drop') return void req.socket.destroy()
    this.send(res, reply)
  }

  /** Runs `run` at most once per Idempotency-Key, company-wide; `request` is what a retry must repeat. */
  private async once(key: string, request: string, fault: Fault | undefined, run: () => Reply): Promise<Reply> {
    if (key.length > 64) return apiError(422, '000', 'Idempotency-Key is longer than 64 characters', 'validation')
    const fingerprint = createHmac('sha256', this.fingerprintKey).update(request).digest('hex')
    const stored = this.idempotent.get(key)
    if (stored && stored.fingerprint !== fingerprint) return apiError(422, '704', IN_PROGRESS, 'validation')
    if (stored) return { status: stored.status, body: stored.body, headers: { ...stored.headers, 'idempotency-key': key } }
    if (this.inFlight.has(key)) return { ...apiError(422, '704', IN_PROGRESS, 'validation'), headers: { 'transient-error': 'true' } }
    this.inFlight.add(key)
    try {
      const reply = await delayed(fault, run)
      if (reply.status < 500) this.idempotent.set(key, { ...reply, fingerprint })
      return { ...reply, headers: { ...reply.headers, 'idempotency-key': key } }
    } finally {
      this.inFlight.delete(key)
    }
  }

  private dispatch(method: string, path: string, body: Body, query: URLSearchParams): Reply {
    for (const [m, pattern, handler] of this.routes) {
      const match = pattern.exec(path)
      if (!match) continue
      if (m !== method) continue
      return handler(body, match.slice(1).map(decodeURIComponent), query)
    }
    const known = this.routes.some(([, pattern]) => pattern.test(path))
    return known ? apiError(405, '000', 'Method Not Allowed', 'validation') : apiError(404, '000', 'Not Found', 'validation')
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const at = this.faults.findIndex(
      (f) => (f.method === undefined || f.method.toUpperCase() === method) && versionless(f.path) === versionless(path),
    )
    if (at < 0) return undefined
    return this.faults.splice(at, 1)[0]!.fault
  }

  private send(res: http.ServerResponse, reply: Reply): void {
    if (this.closed || res.destroyed) return
    const headers: Record<string, string> = { ...reply.headers }
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end()
    } else if (typeof reply.body === 'string') {
      res.writeHead(reply.status, { 'content-type': 'text/html; charset=utf-8', ...headers }).end(reply.body)
    } else {
      res.writeHead(reply.status, { 'content-type': 'application/json;charset=UTF-8', ...headers }).end(JSON.stringify(reply.body))
    }
  }

  // -------------------------------------------------------------------------------------
  // /payments

  private createPayment(body: Body): Reply {
    const invalid = this.checkMerchant(body) ?? checkAmount(body.amount) ?? checkReference(body.reference)
    if (invalid) return invalid
    const method = asRecord(body.paymentMethod)
    if (method?.type !== 'scheme') return apiError(422, '000', 'Only paymentMethod.type scheme is modelled', 'validation')
    const shopperReference = typeof body.shopperReference === 'string' ? body.shopperReference : undefined
    const storePaymentMethod = body.storePaymentMethod === true
    if (storePaymentMethod && !shopperReference) {
      return apiError(422, '000', 'Recurring payments require a shopperReference', 'validation')
    }
    const requested = Number(asRecord(body.additionalData)?.RequestedTestAcquirerResponseCode)
    const forced = Number.isInteger(requested) ? testResponse(requested) : undefined

    let card: CardSummary
    let outcome: Outcome
    let threeDS: TestCard['threeDS']
    let refundFails = false
    if (typeof method.storedPaymentMethodId === 'string') {
      const stored = this.findToken(method.storedPaymentMethodId, shopperReference)
      if (!stored.ok) return stored.reply
      const ecommerce = (body.shopperInteraction ?? 'Ecommerce') === 'Ecommerce'
      if (ecommerce && !method.cvc) return apiError(422, '000', 'CVC is required for OneClick card payments.', 'validation')
      card = stored.token.card
      refundFails = stored.token.refundFails
      outcome = forced ?? AUTHORISED
    } else {
      const number = String(method.number ?? '').replace(/\s+/g, '')
      if (!/^\d{12,19}$/.test(number) || !luhn(number)) return apiError(422, '101', 'Invalid card number', 'validation')
      const testCard = TEST_CARDS[number]
      const cvc = method.cvc === undefined ? undefined : String(method.cvc)
      if (cvc !== undefined && !/^\d{3,4}$/.test(cvc)) return apiError(422, '103', 'CVC is not the right length', 'validation')
      const holderName = typeof method.holderName === 'string' ? method.holderName : undefined
      card = {
        brand: testCard?.brand ?? 'visa',
        last4: number.slice(-4),
        ...(typeof method.expiryMonth === 'string' && { expiryMonth: method.expiryMonth }),
        ...(typeof method.expiryYear === 'string' && { expiryYear: method.expiryYear }),
        ...(holderName && { holderName }),
      }
      const byHolder = TEST_RESPONSES.findIndex(([name]) => name === holderName)
      outcome = forced ?? (byHolder >= 0 ? testResponse(byHolder)! : testCard ? AUTHORISED : UNKNOWN_CARD)
      threeDS = testCard?.threeDS
      refundFails = holderName === REFUND_FAILS_HOLDER
    }

    const payment: Payment = {
      pspReference: pspReference(),
      reference: body.reference as string,
      merchantAccount: this.merchantAccount,
      status: 'Received',
      amount: { ...(body.amount as Amount) },
      refunds: [],
      card,
      ...(shopperReference && { shopperReference }),
      storePaymentMethod,
      ...(typeof body.returnUrl === 'string' && { returnUrl: body.returnUrl }),
      refundFails,
    }
    this.ledger.set(payment.pspReference, payment)
    if (threeDS) return { status: 200, body: this.askForAuthentication(payment, threeDS, outcome) }
    return { status: 200, body: this.decide(payment, outcome) }
  }

  private askForAuthentication(payment: Payment, method: 'GET' | 'POST', then: Outcome): Body {
    const session = randomBase32(32)
    payment.status = 'RedirectShopper'
    payment.threeDS = { method, session, then }
    const action =
      method === 'GET'
        ? { type: 'redirect', method, url: `${this.url}/3ds/${payment.pspReference}?session=${session}`, paymentMethodType: 'scheme' }
        : {
            type: 'redirect',
            method,
            url: `${this.url}/3ds/${payment.pspReference}`,
            data: { MD: session, PaReq: Buffer.from(randomBytes(24)).toString('base64'), TermUrl: payment.returnUrl ?? '' },
            paymentMethodType: 'scheme',
          }
    return { pspReference: payment.pspReference, resultCode: 'RedirectShopper', merchantReference: payment.reference, action }
  }

  /** Settles the payment: its status, its token, its AUTHORISATION webhook and the answer. */
  private decide(payment: Payment, outcome: Outcome): Body {
    delete payment.threeDS
    const authorised = outcome.resultCode === 'Authorised' || outcome.resultCode === 'Received'
    payment.status = authorised ? 'Authorised' : outcome.resultCode
    const tokenData = authorised && payment.storePaymentMethod ? this.tokenize(payment) : {}
    this.notify({
      eventCode: 'AUTHORISATION',
      success: authorised ? 'true' : 'false',
      pspReference: payment.pspReference,
      merchantReference: payment.reference,
      amount: payment.amount,
      paymentMethod: payment.card.brand,
      ...(authorised ? { operations: ['CANCEL', 'CAPTURE', 'REFUND'] } : { reason: outcome.reason ?? '' }),
      additionalData: tokenData,
    })
    payment.answer = {
      pspReference: payment.pspReference,
      resultCode: outcome.resultCode,
      merchantReference: payment.reference,
      amount: payment.amount,
      paymentMethod: { type: 'scheme', brand: payment.card.brand },
      ...(outcome.reason && { refusalReason: outcome.reason, refusalReasonCode: String(outcome.code) }),
      additionalData: { cardSummary: payment.card.last4, ...tokenData },
    }
    return payment.answer
  }

  private tokenize(payment: Payment): Record<string, string> {
    const id = randomBase32(16).toUpperCase()
    const shopperReference = payment.shopperReference!
    const { card, pspReference: firstPspReference, refundFails } = payment
    this.tokens.set(id, { id, shopperReference, card, firstPspReference, refundFails })
    payment.storedPaymentMethodId = id
    return {
      'tokenization.storedPaymentMethodId': id,
      'tokenization.shopperReference': shopperReference,
      'tokenization.store.operationType': 'created',
      'recurring.recurringDetailReference': id,
      'recurring.shopperReference': shopperReference,
    }
  }

  private findToken(id: string, shopperReference: string | undefined): { ok: true; token: StoredCard } | { ok: false; reply: Reply } {
    if (!shopperReference) {
      return { ok: false, reply: apiError(422, '000', 'Recurring payments require a shopperReference', 'validation') }
    }
    const ofShopper = [...this.tokens.values()].filter((t) => t.shopperReference === shopperReference)
    if (ofShopper.length === 0) return { ok: false, reply: apiError(422, '800', 'Contract not found', 'validation') }
    const token = ofShopper.find((t) => t.id === id)
    if (!token) return { ok: false, reply: apiError(422, '803', 'PaymentDetail not found', 'validation') }
    return { ok: true, token }
  }

  // -------------------------------------------------------------------------------------
  // 3-D Secure: the shopper's page and /payments/details

  private threeDSPage(method: string, url: URL, raw: string): Reply {
    const [, , psp, step] = url.pathname.split('/')
    const payment = psp ? this.ledger.get(psp) : undefined
    const form = new URLSearchParams(raw)
    const pending = payment?.threeDS
    if (!payment || !pending) return { status: 404, body: page('No authentication is waiting here.') }

    if (step === 'result' && method === 'POST') {
      const answer = form.get('answer')
      if (form.get('session') !== pending.session || (answer !== 'approve' && answer !== 'decline')) {
        return { status: 400, body: page('This authentication request is not valid.') }
      }
      const redirectResult = randomBytes(32).toString('base64')
      this.redirectResults.set(redirectResult, { psp: payment.pspReference, answer })
      const back = new URL(payment.returnUrl ?? `${this.url}/returned`)
      back.searchParams.set('redirectResult', redirectResult)
      return { status: 302, headers: { location: back.toString() }, body: '' }
    }
    const session = pending.method === 'GET' ? url.searchParams.get('session') : form.get('MD')
    if (step !== undefined || method !== pending.method || session !== pending.session) {
      return { status: 400, body: page('This authentication request is not valid.') }
    }
    return { status: 200, body: challengePage(payment, pending.session) }
  }

  private paymentDetails(body: Body): Reply {
    const redirectResult = asRecord(body.details)?.redirectResult
    const result = typeof redirectResult === 'string' ? this.redirectResults.get(redirectResult) : undefined
    const payment = result && this.ledger.get(result.psp)
    if (!result || !payment) return apiError(422, '000', 'Invalid redirectResult', 'validation')
    if (!payment.threeDS) return { status: 200, body: payment.answer }
    return { status: 200, body: this.decide(payment, result.answer === 'approve' ? payment.threeDS.then : NOT_AUTHENTICATED) }
  }

  // -------------------------------------------------------------------------------------
  // Modifications

  private refund(psp: string, body: Body): Reply {
    const invalid = this.checkMerchant(body) ?? checkAmount(body.amount)
    if (invalid) return invalid
    const payment = this.ledger.get(psp)
    if (!payment) return apiError(422, '167', 'Original pspReference required for this operation', 'validation')
    const amount = { ...(body.amount as Amount) }
    const reference = typeof body.reference === 'string' ? body.reference : undefined
    const refund: FakeRefund = { pspReference: pspReference(), ...(reference && { reference }), amount, status: 'refunded' }
    const refunded = payment.refunds.filter((r) => r.status === 'refunded').reduce((sum, r) => sum + r.amount.value, 0)
    const problem = !['Authorised', 'PartiallyRefunded'].includes(payment.status)
      ? `Payment is ${payment.status}`
      : amount.currency !== payment.amount.currency
        ? 'Currency does not match the payment'
        : refunded + amount.value > payment.amount.value
          ? 'Refund amount exceeds the amount left on the payment'
          : undefined
    const item = {
      pspReference: refund.pspReference,
      originalReference: payment.pspReference,
      merchantReference: reference ?? payment.reference,
      amount,
      paymentMethod: payment.card.brand,
    }
    if (problem) {
      refund.status = 'failed'
      this.notify({ ...item, eventCode: 'REFUND', success: 'false', reason: problem })
    } else {
      this.notify({ ...item, eventCode: 'REFUND', success: 'true' })
      if (payment.refundFails) {
        refund.status = 'failed'
        this.notify({ ...item, eventCode: 'REFUND_FAILED', success: 'true', reason: 'Refund rejected by the card scheme (fake)' })
      }
    }
    payment.refunds.push(refund)
    if (refund.status === 'refunded') {
      payment.status = refunded + amount.value === payment.amount.value ? 'Refunded' : 'PartiallyRefunded'
    }
    const answer = { merchantAccount: this.merchantAccount, paymentPspReference: psp, pspReference: refund.pspReference, amount }
    return { status: 201, body: { ...answer, ...(reference && { reference }), status: 'received' } }
  }

  private cancelByPsp(psp: string, body: Body): Reply {
    const invalid = this.checkMerchant(body)
    if (invalid) return invalid
    const payment = this.ledger.get(psp)
    if (!payment) return apiError(422, '167', 'Original pspReference required for this operation', 'validation')
    const reference = typeof body.reference === 'string' ? body.reference : undefined
    const cancelPsp = pspReference()
    this.cancel(payment, 'CANCELLATION', cancelPsp, reference ?? payment.reference)
    const answer = { merchantAccount: this.merchantAccount, paymentPspReference: psp, pspReference: cancelPsp, status: 'received' }
    return { status: 201, body: { ...answer, ...(reference && { reference }) } }
  }

  private cancelByReference(body: Body): Reply {
    const invalid = this.checkMerchant(body) ?? checkReference(body.paymentReference, 'paymentReference')
    if (invalid) return invalid
    const paymentReference = body.paymentReference as string
    const reference = typeof body.reference === 'string' ? body.reference : undefined
    const cancelPsp = pspReference()
    const payment = [...this.ledger.values()].reverse().find((p) => p.reference === paymentReference)
    if (payment) {
      this.cancel(payment, 'TECHNICAL_CANCEL', cancelPsp, paymentReference)
    } else {
      this.notify({
        eventCode: 'TECHNICAL_CANCEL',
        success: 'false',
        pspReference: cancelPsp,
        merchantReference: paymentReference,
        amount: { value: 0, currency: 'EUR' },
        reason: 'Original payment not found',
      })
    }
    const answer = { merchantAccount: this.merchantAccount, paymentReference, pspReference: cancelPsp, status: 'received' }
    return { status: 201, body: { ...answer, ...(reference && { reference }) } }
  }

  private cancel(payment: Payment, eventCode: 'CANCELLATION' | 'TECHNICAL_CANCEL', psp: string, merchantReference: string): void {
    const cancellable = payment.status === 'Authorised'
    if (cancellable) payment.status = 'Cancelled'
    this.notify({
      eventCode,
      success: cancellable ? 'true' : 'false',
      pspReference: psp,
      originalReference: payment.pspReference,
      merchantReference,
      amount: payment.amount,
      paymentMethod: payment.card.brand,
      ...(!cancellable && { reason: `Payment is ${payment.status}` }),
    })
  }

  // -------------------------------------------------------------------------------------
  // Stored payment methods

  private listTokens(query: URLSearchParams): Reply {
    const invalid = this.checkMerchant({ merchantAccount: query.get('merchantAccount') })
    if (invalid) return invalid
    const shopperReference = query.get('shopperReference') ?? ''
    const storedPaymentMethods = [...this.tokens.values()]
      .filter((t) => t.shopperReference === shopperReference)
      .map((t) => ({
        id: t.id,
        type: 'scheme',
        brand: t.card.brand,
        lastFour: t.card.last4,
        expiryMonth: t.card.expiryMonth,
        expiryYear: t.card.expiryYear,
        holderName: t.card.holderName,
        shopperReference,
        firstPspReference: t.firstPspReference,
        supportedRecurringProcessingModels: ['CardOnFile'],
      }))
    return { status: 200, body: { merchantAccount: this.merchantAccount, shopperReference, storedPaymentMethods } }
  }

  private deleteToken(id: string, query: URLSearchParams): Reply {
    const invalid = this.checkMerchant({ merchantAccount: query.get('merchantAccount') })
    if (invalid) return invalid
    const found = this.findToken(id, query.get('shopperReference') ?? undefined)
    if (!found.ok) return found.reply
    this.tokens.delete(id)
    return { status: 204 }
  }

  // -------------------------------------------------------------------------------------
  // Webhooks

  private notify(fields: Omit<Item, 'merchantAccountCode' | 'eventDate'>): void {
    const item = this.signed({ merchantAccountCode: this.merchantAccount, eventDate: eventDate(), ...fields })
    this.queued.push(webhook([item]))
  }

  /** Signs one item the way Adyen does (HMAC-SHA256 over its fixed fields, base64). */
  private signed(item: Item): NotificationRequestItem {
    const { hmacSignature: _, ...additionalData } = item.additionalData ?? {}
    const unsigned = { ...item, additionalData } as unknown as NotificationRequestItem
    const hmacSignature = this.hmac.calculateHmac(unsigned, this.hmacKey)
    return { ...unsigned, additionalData: { ...additionalData, hmacSignature } }
  }

  private checkMerchant(body: Body): Reply | undefined {
    return body.merchantAccount === this.merchantAccount ? undefined : apiError(403, '901', 'Invalid Merchant Account', 'security')
  }
}

/** A notification item before it is signed; `success` and `eventCode` as Adyen spells them. */
interface Item {
  eventCode: string
  success: 'true' | 'false'
  pspReference: string
  originalReference?: string
  merchantReference: string
  merchantAccountCode: string
  amount: Amount
  eventDate: string
  paymentMethod?: string
  operations?: string[]
  reason?: string
  additionalData?: Record<string, string | undefined>
}

const webhook = (items: NotificationRequestItem[]): NotificationRequest =>
  ({ live: 'false', notificationItems: items.map((NotificationRequestItem) => ({ NotificationRequestItem })) }) as NotificationRequest

// ---------------------------------------------------------------------------------------
// Helpers

function apiError(status: number, errorCode: string, message: string, errorType: string): Reply {
  return { status, body: { status, errorCode, message, errorType } }
}

function checkAmount(amount: unknown): Reply | undefined {
  const a = asRecord(amount)
  if (!a) return apiError(422, '100', "Required object 'amount' is not provided.", 'validation')
  if (!Number.isInteger(a.value) || (a.value as number) < 0 || typeof a.currency !== 'string' || !/^[A-Z]{3}$/.test(a.currency)) {
    return apiError(422, '137', 'Invalid amount specified', 'validation')
  }
  return undefined
}

function checkReference(reference: unknown, field = 'reference'): Reply | undefined {
  if (typeof reference === 'string' && reference.length > 0 && reference.length <= 80) return undefined
  return apiError(422, '130', `Required field '${field}' is not provided.`, 'validation')
}

const asRecord = (v: unknown): Body | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Body) : undefined)

/** Adyen's PSP references are 16 upper-case letters and digits. */
const pspReference = () => randomBase32(16).toUpperCase()

/** ISO 8601 with an offset, as Adyen writes `eventDate`. */
const eventDate = () => new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00')

/** The path with its API version dropped, so v71 and v72 are one endpoint. */
const versionless = (path: string) => path.replace(/^\/checkout\/v\d+\//, '/checkout/')

function luhn(digits: string): boolean {
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return sum % 10 === 0
}

/** The body as the log may keep it: card number and CVC replaced, at any depth. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact)
  const record = asRecord(value)
  if (!record) return value
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, k === 'number' || k === 'cvc' ? 'REDACTED' : redact(v)]),
  )
}

/** The body with object keys sorted, so a retry that orders them differently still matches. */
function canonical(raw: string): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort)
    const record = asRecord(v)
    if (!record) return v
    return Object.fromEntries(Object.keys(record).sort().map((k) => [k, sort(record[k])]))
  }
  try {
    return JSON.stringify(sort(JSON.parse(raw)))
  } catch {
    return raw
  }
}

function parseObject(raw: string): Body | undefined {
  try {
    return asRecord(JSON.parse(raw))
  } catch {
    return undefined
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', () => resolve(''))
  })
}

async function delayed(fault: Fault | undefined, run: () => Reply): Promise<Reply> {
  if (typeof fault === 'object') await new Promise((resolve) => setTimeout(resolve, fault.delayMs))
  return run()
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page(message: string): string {
  return `<!doctype html><html><head><title>3-D Secure (fake)</title></head><body><p>${escapeHtml(message)}</p></body></html>`
}

function challengePage(payment: Payment, session: string): string {
  const amount = `${payment.amount.value} ${payment.amount.currency}`
  const form = (answer: 'approve' | 'decline', label: string) =>
    `<form id="${answer}" method="post" action="/3ds/${payment.pspReference}/result">` +
    `<input type="hidden" name="session" value="${escapeHtml(session)}">` +
    `<input type="hidden" name="answer" value="${answer}">` +
    `<button type="submit">${label}</button></form>`
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>3-D Secure (fake)</title></head><body>' +
    `<h1>Confirm the payment</h1>` +
    `<p>${escapeHtml(amount)} to ${escapeHtml(payment.merchantAccount)}, card ending ${payment.card.last4}</p>` +
    form('approve', 'Approve') +
    form('decline', 'Decline') +
    '</body></html>'
  )
}
