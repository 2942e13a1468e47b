/**
 * A stateful fake of the Stripe API (v1), for tests that run paylink's Stripe adapter —
 * through the official `stripe` SDK — against loopback: one in-process `node:http` server
 * on 127.0.0.1, one account, all state in memory.
 *
 * What it models, as Stripe documents it:
 * - Bearer auth with the account's secret key; form bodies in bracket notation.
 * - Idempotency keys scoped to the account (docs.stripe.com/api/idempotent_requests,
 *   docs.stripe.com/error-low-level): a replay of the same request gets the first answer's
 *   bytes back with `Idempotent-Replayed: true`; the key on another endpoint or with other
 *   parameters is a 400 idempotency_error; a key still in flight is a 409.
 * - PaymentIntents: create (and confirm at once), update (customer, setup_future_usage,
 *   metadata), confirm, retrieve (`expand` of
 *   payment_method, latest_charge, customer), cancel, search by metadata. Outcomes follow
 *   the test card numbers of docs.stripe.com/testing; 3-D Secure is a small page of ours
 *   standing in for the issuer's, reached through `next_action.redirect_to_url`.
 * - Customers; cards saved by `setup_future_usage`, reused without card data, detached;
 *   a card used without a customer, or detached, cannot be used again.
 * - Refunds, partial and full, never more than the charge; 4000000000005126's refund
 *   answers `succeeded` and then fails, as the testing page documents.
 * - Events for those state changes, and signed webhooks made with the SDK's own helper.
 * - Faults for the next matching request: a 500, a hang, an answer lost after the commit,
 *   a delay; and a latency on every answer.
 *
 * What it leaves out: manual capture, SetupIntents, updates of other objects, lists and pagination, amount
 * minimums, rate limits, Connect, API versions (answers have one shape), the 24 h life of
 * idempotency keys, search's indexing delay (Stripe's search is eventually consistent;
 * here it is immediate), and every field the adapter does not read. Any other card number
 * is declined as Stripe declines a live card in test mode.
 *
 * No card number or CVC is kept: a PaymentMethod remembers its last four digits and its
 * test behaviour, `requests` shows both as [REDACTED], and idempotency compares a hash.
 */
import http from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Stripe from 'stripe'

/** What a test can inject into the next request that matches (each is used once). */
export type Fault = 'error500' | 'hang' | 'commit_then_drop' | { delayMs: number }

/** A running fake. Every object it hands out is a copy, shaped as Stripe would send it. */
export interface StripeFake {
  url: string
  host: string
  port: number
  secretKey: string
  webhookSecret: string
  /** A `stripe` SDK client pointed at the fake, with no retries; `config` overrides (e.g. `timeout`). */
  client(config?: Stripe.StripeConfig): Stripe
  /** Every PaymentIntent the fake holds, oldest first. */
  paymentIntents(): Stripe.PaymentIntent[]
  refunds(): Stripe.Refund[]
  /** Requests received, oldest first: GET parameters and POST bodies parsed, card number and CVC redacted. */
  requests: Array<{ method: string; path: string; idempotencyKey?: string; body: Record<string, unknown> }>
  /** Inject `fault` into the next request whose method matches (any, if absent) and whose path starts with `path`. */
  fail(match: { method?: string; path: string }, fault: Fault): void
  /** Delay every answer by `ms` (for a benchmark). */
  setLatency(ms: number): void
  /** A webhook delivery of `object` as an event of `type`, signed with `webhookSecret`. */
  signedEvent(type: string, object: object, opts?: { id?: string }): { payload: string; headers: Record<string, string> }
  /** Events the fake generated on state changes, oldest first; tests deliver them through `signedEvent`. */
  events(): Array<{ id: string; type: string; object: any }>
  close(): Promise<void>
}

export async function startStripeFake(
  opts: { secretKey?: string; webhookSecret?: string; latencyMs?: number } = {},
): Promise<StripeFake> {
  const secretKey = opts.secretKey ?? `sk_test_fake_${token(12)}`
  const webhookSecret = opts.webhookSecret ?? `whsec_${token(16)}`
  let latencyMs = opts.latencyMs ?? 0
  const faults: Array<{ method?: string; path: string; fault: Fault }> = []
  const requests: StripeFake['requests'] = []
  const keys = new IdempotencyKeys()

  const server = http.createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) send(res, json(500, { error: { type: 'api_error', message: 'The fake failed.' } }, false))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const host = '127.0.0.1'
  const { port } = server.address() as AddressInfo
  const url = `http://${host}:${port}`
  const account = new Account(url)

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', url)
    const method = req.method ?? 'GET'
    const path = target.pathname
    const body = await readBody(req)
    const params = parseForm(method === 'POST' ? body : target.search.slice(1))
    const idempotencyKey = method === 'POST' ? headerOf(req, 'idempotency-key') : undefined
    requests.push({ method, path, ...(idempotencyKey && { idempotencyKey }), body: redact(params) })

    const fault = takeFault(method, path)
    // A hang and a 500 model failures in front of the endpoint: nothing runs, no key is taken.
    if (fault === 'hang') return // the socket stays open until the client gives up or close()
    if (fault === 'error500') return send(res, json(500, { error: { type: 'api_error', message: 'An unknown error occurred.' } }, false))

    let answer: Answer
    let release = () => {}
    const unauthorized = authError(req.headers.authorization, secretKey)
    if (path.startsWith('/3ds/')) answer = account.threeDS(method, path) // the customer's browser: no key
    else if (unauthorized) answer = unauthorized
    else if (!idempotencyKey) answer = account.run(method, path, params)
    else {
      const claim = keys.claim(idempotencyKey, method, path, params)
      if ('answer' in claim) answer = claim.answer
      else {
        answer = account.run(method, path, params)
        claim.commit(answer)
        release = claim.release
      }
    }
    try {
      if (fault === 'commit_then_drop') return void req.socket.destroy()
      const delay = latencyMs + (typeof fault === 'object' ? fault.delayMs : 0)
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      send(res, answer, idempotencyKey, headerOf(req, 'stripe-version'))
    } finally {
      release()
    }
  }

  function takeFault(method: string, path: string): Fault | undefined {
    const i = faults.findIndex((f) => (!f.method || f.method === method) && path.startsWith(f.path))
    return i < 0 ? undefined : faults.splice(i, 1)[0]!.fault
  }

  return {
    url,
    host,
    port,
    secretKey,
    webhookSecret,
    client: (config = {}) => new Stripe(secretKey, { host, port, protocol: 'http', maxNetworkRetries: 0, ...config }),
    paymentIntents: () => [...account.intents.values()].map((i) => copy(i.json)),
    refunds: () => [...account.refunds.values()].map(copy),
    requests,
    fail: (match, fault) => void faults.push({ ...match, fault }),
    setLatency: (ms) => void (latencyMs = ms),
    signedEvent(type, object, { id } = {}) {
      const event = {
        id: id ?? newId('evt'),
        object: 'event',
        api_version: Stripe.API_VERSION,
        created: now(),
        data: { object },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type,
      }
      const payload = JSON.stringify(event, null, 2)
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret })
      return { payload, headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signature } }
    },
    events: () => account.events.map(copy),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections() // hung requests included
      }),
  }
}

// ---------------------------------------------------------------------------------------
// Answers and errors

/** An answer, serialised once, so that a replay sends the same bytes. */
interface Answer {
  status: number
  body: string
  headers?: Record<string, string>
  /** Whether an idempotency key keeps this answer for replay. */
  saved: boolean
  replayed?: boolean
}

const json = (status: number, value: unknown, saved = true): Answer => ({ status, body: JSON.stringify(value, null, 2), saved })
const ok = (value: unknown): Answer => json(200, value)

/** An error answer from an endpoint; see `refused` and `failed` for which of them a key keeps. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: Obj,
    readonly saved: boolean,
  ) {
    super(error.message)
  }
}

/**
 * Refused while reading the parameters (missing, malformed, naming nothing usable): nothing
 * changed. "If incoming parameters fail validation … no idempotent result is saved", so a
 * key is free to be used again.
 */
const refused = (message: string, extra: Obj = {}, status = 400) =>
  new ApiError(status, { type: 'invalid_request_error', message, ...extra }, false)

/** Answered by an endpoint that ran (a decline, a state conflict, an over-refund): saved. */
const failed = (status: number, error: Obj) => new ApiError(status, error, true)

const missing = (label: string, id: string, param?: string): never => {
  throw refused(`No such ${label}: '${id}'`, { code: 'resource_missing', ...(param && { param }) }, param ? 400 : 404)
}

const docUrl = (code: string) => `https://docs.stripe.com/error-codes/${code.replace(/_/g, '-')}`

function authError(authorization: string | undefined, secretKey: string): Answer | undefined {
  const [scheme, key] = (authorization ?? '').split(' ')
  if (scheme === 'Bearer' && key === secretKey) return undefined
  const message = key
    ? `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`
    : "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
  return json(401, { error: { type: 'invalid_request_error', message } }, false)
}

function send(res: http.ServerResponse, answer: Answer, idempotencyKey?: string, version?: string): void {
  if (res.destroyed) return
  res.writeHead(answer.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(answer.body),
    'request-id': newId('req'),
    'stripe-version': version ?? Stripe.API_VERSION,
    ...(idempotencyKey && { 'idempotency-key': idempotencyKey }),
    ...(answer.replayed && { 'idempotent-replayed': 'true' }),
    ...answer.headers,
  })
  res.end(answer.body)
}

// ---------------------------------------------------------------------------------------
// Idempotency

/**
 * Idempotency keys of the account (the fake has one, so the map is the account's scope,
 * shared by every endpoint). A key names one request: method, path and a hash of its
 * parameters. A request that reuses a key whose first request is still running gets a 409
 * at once rather than waiting: Stripe documents that such a conflicting request saves
 * nothing and can be retried, and the SDK retries 409s when retries are enabled.
 */
interface KeyEntry {
  method: string
  path: string
  hash: string
  running: boolean
  saved?: Answer
}

class IdempotencyKeys {
  private readonly entries = new Map<string, KeyEntry>()

  claim(key: string, method: string, path: string, params: Obj): { answer: Answer } | { commit(a: Answer): void; release(): void } {
    const hash = createHash('sha256').update(canonical(params)).digest('hex')
    const entry = this.entries.get(key)
    const error = (status: number, message: string, code?: string) => ({
      answer: json(status, { error: { type: 'idempotency_error', message, ...(code && { code }) } }, false),
    })
    if (entry) {
      if (entry.method !== method || entry.path !== path)
        return error(400, `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${entry.method} ${entry.path}' vs '${method} ${path}'). Try using a key other than '${key}' if you meant to execute a different request.`)
      if (entry.hash !== hash)
        return error(400, `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`)
      if (entry.running || !entry.saved)
        return error(409, `There is currently another in-progress request using this idempotent key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`, 'idempotency_key_in_use')
      return { answer: { ...entry.saved, replayed: true } }
    }
    const fresh: KeyEntry = { method, path, hash, running: true }
    this.entries.set(key, fresh)
    return {
      // Saved at the commit, before the answer leaves: an answer lost on the way is replayed.
      commit: (answer) => void (answer.saved && (fresh.saved = answer)),
      release: () => {
        fresh.running = false
        if (!fresh.saved) this.entries.delete(key)
      },
    }
  }
}

// ---------------------------------------------------------------------------------------
// The account: its objects and endpoints

/** A Stripe object as JSON, as the API sends it; the SDK's types describe these. */
type Obj = Record<string, any>

interface Intent {
  json: Obj
  returnUrl: string | null
}
interface Method {
  json: Obj
  outcome: Outcome
  /** Used without being attached to a customer, or detached: Stripe refuses it from then on. */
  spent: boolean
}
interface Charge {
  json: Obj
  refundFails: boolean
}

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action']
const CANCELABLE = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing']
const SPENT_METHOD =
  'The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.'

class Account {
  readonly intents = new Map<string, Intent>()
  readonly methods = new Map<string, Method>()
  readonly charges = new Map<string, Charge>()
  readonly refunds = new Map<string, Obj>()
  readonly customers = new Map<string, Obj>()
  readonly events: Array<{ id: string; type: string; object: Obj }> = []

  constructor(private readonly base: string) {}

  private readonly routes: Array<[string, RegExp, (p: Obj, id: string) => Answer]> = [
    ['POST', /^\/v1\/customers$/, (p) => this.createCustomer(p)],
    ['GET', /^\/v1\/customers\/([^/]+)$/, (_, id) => ok(this.customers.get(id) ?? missing('customer', id))],
    ['POST', /^\/v1\/payment_intents$/, (p) => this.createIntent(p)],
    ['GET', /^\/v1\/payment_intents\/search$/, (p) => this.searchIntents(p)],
    ['GET', /^\/v1\/payment_intents\/([^/]+)$/, (p, id) => ok(this.present(this.intent(id), p.expand))],
    ['POST', /^\/v1\/payment_intents\/([^/]+)$/, (p, id) => this.updateIntent(this.intent(id), p)],
    ['POST', /^\/v1\/payment_intents\/([^/]+)\/confirm$/, (p, id) => this.confirm(this.intent(id), p)],
    ['POST', /^\/v1\/payment_intents\/([^/]+)\/cancel$/, (p, id) => this.cancel(this.intent(id), p)],
    ['GET', /^\/v1\/payment_methods\/([^/]+)$/, (_, id) => ok(this.method(id).json)],
    ['POST', /^\/v1\/payment_methods\/([^/]+)\/detach$/, (_, id) => this.detach(this.method(id))],
    ['POST', /^\/v1\/refunds$/, (p) => this.createRefund(p)],
    ['GET', /^\/v1\/refunds\/([^/]+)$/, (_, id) => ok(this.refunds.get(id) ?? missing('refund', id))],
  ]

  run(method: string, path: string, params: Obj): Answer {
    try {
      for (const [verb, pattern, endpoint] of this.routes) {
        const match = verb === method ? pattern.exec(path) : null
        if (match) return endpoint(params, decodeURIComponent(match[1] ?? ''))
      }
      throw refused(`Unrecognized request URL (${method}: ${path}).`, {}, 404)
    } catch (e) {
      if (e instanceof ApiError) return json(e.status, { error: e.error }, e.saved)
      throw e
    }
  }

  private intent = (id: string): Intent => this.intents.get(id) ?? missing('payment_intent', id)
  private method = (id: string): Method => this.methods.get(id) ?? missing('PaymentMethod', id)

  private emit(type: string, object: Obj): void {
    this.events.push({ id: newId('evt'), type, object: copy(object) })
  }

  private createCustomer(p: Obj): Answer {
    const customer = {
      id: newId('cus'),
      object: 'customer',
      created: now(),
      description: p.description ?? null,
      email: p.email ?? null,
      livemode: false,
      metadata: p.metadata ?? {},
      name: p.name ?? null,
    }
    this.customers.set(customer.id, customer)
    this.emit('customer.created', customer)
    return ok(customer)
  }

  // --- PaymentIntents

  private createIntent(p: Obj): Answer {
    const amount = positiveInt(p.amount, 'amount')
    const currency = currencyOf(p.currency)
    if (p.customer && !this.customers.has(p.customer)) missing('customer', p.customer, 'customer')
    const customer: string | null = p.customer || null
    const setupFutureUsage = oneOf(p.setup_future_usage, ['on_session', 'off_session'], 'setup_future_usage')
    const method = this.methodFor(p, customer)
    const confirm = p.confirm === 'true'
    if (confirm && !method) throw refused("You cannot confirm this PaymentIntent because it's missing a payment method.", { code: 'payment_intent_unexpected_state' })
    const id = newId('pi')
    const intent: Intent = {
      returnUrl: p.return_url || null,
      json: {
        id,
        object: 'payment_intent',
        amount,
        amount_capturable: 0,
        amount_received: 0,
        canceled_at: null,
        cancellation_reason: null,
        capture_method: 'automatic',
        client_secret: `${id}_secret_${token(12)}`,
        confirmation_method: 'automatic',
        created: now(),
        currency,
        customer,
        description: p.description ?? null,
        last_payment_error: null,
        latest_charge: null,
        livemode: false,
        metadata: p.metadata ?? {},
        next_action: null,
        payment_method: method?.json.id ?? null,
        payment_method_types: ['card'],
        setup_future_usage: setupFutureUsage,
        status: method ? 'requires_confirmation' : 'requires_payment_method',
      },
    }
    this.intents.set(id, intent)
    this.emit('payment_intent.created', intent.json)
    return confirm ? this.attempt(intent, method!, p) : ok(this.present(intent, p.expand))
  }

  /**
   * Update (docs.stripe.com/api/payment_intents/update), of the fields paylink sets:
   * `customer`, `setup_future_usage`, `metadata`; only while the PaymentIntent waits for a
   * payment method or its confirmation, as Stripe allows them.
   */
  private updateIntent(intent: Intent, p: Obj): Answer {
    const pi = intent.json
    if (!['requires_payment_method', 'requires_confirmation'].includes(pi.status))
      throw failed(400, {
        type: 'invalid_request_error',
        code: 'payment_intent_unexpected_state',
        message: `You cannot update this PaymentIntent because it has a status of ${pi.status}.`,
        payment_intent: pi,
      })
    const unknown = Object.keys(p).filter((k) => !['customer', 'setup_future_usage', 'metadata', 'expand'].includes(k))
    if (unknown.length) throw refused(`Received unknown parameter: ${unknown[0]}`, { param: unknown[0] })
    if (p.customer !== undefined) {
      if (p.customer && !this.customers.has(p.customer)) missing('customer', p.customer, 'customer')
      pi.customer = p.customer || null
    }
    const setupFutureUsage = oneOf(p.setup_future_usage, ['on_session', 'off_session'], 'setup_future_usage')
    if (setupFutureUsage) pi.setup_future_usage = setupFutureUsage
    if (p.metadata) pi.metadata = { ...pi.metadata, ...p.metadata }
    return ok(this.present(intent, p.expand))
  }

  private confirm(intent: Intent, p: Obj): Answer {
    const pi = intent.json
    if (!CONFIRMABLE.includes(pi.status))
      throw failed(400, {
        type: 'invalid_request_error',
        code: 'payment_intent_unexpected_state',
        message: `You cannot confirm this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${CONFIRMABLE.join(', ')}.`,
        payment_intent: pi,
      })
    const setupFutureUsage = oneOf(p.setup_future_usage, ['on_session', 'off_session'], 'setup_future_usage')
    const method = this.methodFor(p, pi.customer) ?? (pi.payment_method ? this.methods.get(pi.payment_method) : undefined)
    if (!method) throw refused("You cannot confirm this PaymentIntent because it's missing a payment method.", { code: 'payment_intent_unexpected_state' })
    if (p.return_url) intent.returnUrl = p.return_url
    if (setupFutureUsage) pi.setup_future_usage = setupFutureUsage
    return this.attempt(intent, method, p)
  }

  /** One attempt to charge `method`; `authenticated` once the 3-D Secure page approved it. */
  private attempt(intent: Intent, method: Method, p: Obj, authenticated = false): Answer {
    const pi = intent.json
    const outcome = method.outcome
    pi.payment_method = method.json.id
    if (outcome.kind === 'authenticate' && !authenticated) {
      pi.status = 'requires_action'
      pi.next_action = { type: 'redirect_to_url', redirect_to_url: { url: `${this.base}/3ds/${pi.id}`, return_url: intent.returnUrl } }
      this.emit('payment_intent.requires_action', pi)
      return ok(this.present(intent, p.expand))
    }
    pi.next_action = null
    const charge = this.charge(pi, method)
    pi.latest_charge = charge.id
    if (outcome.kind === 'decline') {
      const error = {
        type: 'card_error',
        code: outcome.code,
        ...(outcome.decline_code && { decline_code: outcome.decline_code }),
        message: outcome.message,
        ...(outcome.param && { param: outcome.param }),
        charge: charge.id,
        doc_url: docUrl(outcome.code),
        payment_method: copy(method.json),
      }
      this.fail(pi, method, error)
      return json(402, { error: { ...error, payment_intent: pi } })
    }
    pi.status = 'succeeded'
    pi.amount_received = pi.amount
    pi.last_payment_error = null
    this.settle(pi, method, true)
    this.emit('payment_intent.succeeded', pi)
    return ok(this.present(intent, p.expand))
  }

  /** The attempt failed: the intent asks for a new payment method and keeps the error. */
  private fail(pi: Obj, method: Method, error: Obj): void {
    pi.status = 'requires_payment_method'
    pi.payment_method = null
    pi.next_action = null
    pi.last_payment_error = error
    this.settle(pi, method, false)
    this.emit('payment_intent.payment_failed', pi)
  }

  /**
   * After an attempt: a card that succeeded for a customer with `setup_future_usage` is
   * attached to them ("after the PaymentIntent is confirmed and any required actions from
   * the user are complete"); a card not attached to anyone is spent.
   */
  private settle(pi: Obj, method: Method, succeeded: boolean): void {
    if (succeeded && pi.customer && pi.setup_future_usage && !method.json.customer) {
      method.json.customer = pi.customer
      this.emit('payment_method.attached', method.json)
    }
    if (!method.json.customer) method.spent = true
  }

  private charge(pi: Obj, method: Method): Obj {
    const declined = method.outcome.kind === 'decline' ? method.outcome : undefined
    const card = method.json.card
    const charge = {
      id: newId('ch'),
      object: 'charge',
      amount: pi.amount,
      amount_captured: declined ? 0 : pi.amount,
      amount_refunded: 0,
      captured: !declined,
      created: now(),
      currency: pi.currency,
      customer: pi.customer,
      failure_code: declined?.code ?? null,
      failure_message: declined?.message ?? null,
      livemode: false,
      metadata: {},
      outcome: declined
        ? { type: declined.decline_code === 'fraudulent' ? 'blocked' : 'issuer_declined', reason: declined.decline_code ?? null }
        : { type: 'authorized', reason: null },
      paid: !declined,
      payment_intent: pi.id,
      payment_method: method.json.id,
      payment_method_details: { type: 'card', card: { brand: card.brand, last4: card.last4, exp_month: card.exp_month, exp_year: card.exp_year } },
      refunded: false,
      status: declined ? 'failed' : 'succeeded',
    }
    this.charges.set(charge.id, { json: charge, refundFails: method.outcome.kind === 'succeed' && !!method.outcome.refundFails })
    this.emit(declined ? 'charge.failed' : 'charge.succeeded', charge)
    return charge
  }

  private cancel(intent: Intent, p: Obj): Answer {
    const pi = intent.json
    if (!CANCELABLE.includes(pi.status))
      throw failed(400, {
        type: 'invalid_request_error',
        code: 'payment_intent_unexpected_state',
        message: `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
        payment_intent: pi,
      })
    pi.cancellation_reason = oneOf(p.cancellation_reason, ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'], 'cancellation_reason')
    pi.status = 'canceled'
    pi.canceled_at = now()
    pi.next_action = null
    this.emit('payment_intent.canceled', pi)
    return ok(this.present(intent, p.expand))
  }

  /** Search Query Language, the part the adapter uses: `metadata['k']:'v'` and `status|customer|currency:'v'`, joined by AND. */
  private searchIntents(p: Obj): Answer {
    if (!p.query) throw refused('Missing required param: query.', { code: 'parameter_missing', param: 'query' })
    const tests = String(p.query)
      .split(/\s+AND\s+/i)
      .map((clause): ((pi: Obj) => boolean) => {
        const meta = /^metadata\[(['"])(.+?)\1\]:(['"])(.*)\3$/.exec(clause.trim())
        if (meta) return (pi) => pi.metadata[meta[2]!] === meta[4]
        const field = /^(status|customer|currency):(['"])(.*)\2$/.exec(clause.trim())
        if (field) return (pi) => pi[field[1]!] === field[3]
        throw refused(`The fake's search understands metadata['key']:'value' and status|customer|currency:'value' clauses joined by AND, not: ${clause}`, { param: 'query' })
      })
    const limit = p.limit === undefined ? 10 : positiveInt(p.limit, 'limit')
    const found = [...this.intents.values()].filter((i) => tests.every((test) => test(i.json))).reverse()
    return ok({
      object: 'search_result',
      data: found.slice(0, limit).map((i) => this.present(i, p.expand)),
      has_more: found.length > limit, // the fake serves the first page only
      next_page: null,
      url: '/v1/payment_intents/search',
    })
  }

  /** The intent as the API answers it, with the `expand` fields the fake knows replaced by their objects. */
  private present(intent: Intent, expand: unknown): Obj {
    const pi = copy(intent.json)
    const lookup: Record<string, (id: string) => Obj | undefined> = {
      payment_method: (id) => this.methods.get(id)?.json,
      latest_charge: (id) => this.charges.get(id)?.json,
      customer: (id) => this.customers.get(id),
    }
    for (const field of [expand ?? []].flat() as string[]) {
      const find = lookup[field]
      if (!find) throw refused(`This property cannot be expanded (${field}).`, { param: 'expand' })
      if (typeof pi[field] === 'string') pi[field] = copy(find(pi[field]) ?? null)
    }
    return pi
  }

  // --- PaymentMethods

  /** The payment method a create or confirm names, made from `payment_method_data` or found by id. */
  private methodFor(p: Obj, customer: string | null): Method | undefined {
    if (p.payment_method_data) return this.createMethod(p.payment_method_data)
    if (!p.payment_method) return undefined
    const method = this.methods.get(p.payment_method) ?? missing('PaymentMethod', p.payment_method, 'payment_method')
    if (method.spent) throw refused(SPENT_METHOD, { code: 'payment_method_unexpected_state', param: 'payment_method' })
    if (method.json.customer && method.json.customer !== customer)
      // The wording is the fake's: Stripe documents the rule, not this message.
      throw refused(`The PaymentMethod ${method.json.id} is attached to customer ${method.json.customer}; pass that customer to use it.`, { param: 'payment_method' })
    return method
  }

  /**
   * A card PaymentMethod. Unlike Stripe, which refuses a Luhn-invalid number before any
   * charge, the fake makes the method and lets the attempt decline with incorrect_number,
   * so every declined test card reaches the intent the same way.
   */
  private createMethod(data: Obj): Method {
    if (data.type !== 'card') throw refused('The fake models card payment methods only.', { param: 'payment_method_data[type]' })
    const card = data.card ?? {}
    for (const field of ['number', 'exp_month', 'exp_year'])
      if (!card[field]) throw refused(`Missing required param: payment_method_data[card][${field}].`, { code: 'parameter_missing', param: `payment_method_data[card][${field}]` })
    const number = String(card.number).replace(/[\s-]/g, '')
    const json = {
      id: newId('pm'),
      object: 'payment_method',
      billing_details: { address: null, email: null, name: null, phone: null },
      card: {
        brand: brandOf(number),
        country: 'US',
        exp_month: positiveInt(card.exp_month, 'payment_method_data[card][exp_month]'),
        exp_year: positiveInt(card.exp_year, 'payment_method_data[card][exp_year]'),
        funding: 'credit',
        last4: number.slice(-4),
      },
      created: now(),
      customer: null,
      livemode: false,
      metadata: {},
      type: 'card',
    }
    const method = { json, outcome: outcomeOf(number), spent: false }
    this.methods.set(json.id, method)
    return method
  }

  private detach(method: Method): Answer {
    if (!method.json.customer)
      throw failed(400, {
        type: 'invalid_request_error',
        code: 'payment_method_unexpected_state',
        message: 'The payment method you provided is not attached to a customer so detachment is impossible.',
      })
    method.json.customer = null
    method.spent = true
    this.emit('payment_method.detached', method.json)
    return ok(method.json)
  }

  // --- 3-D Secure

  /** The issuer's challenge, reduced to two buttons; both come back to the intent's return_url. */
  threeDS(verb: string, path: string): Answer {
    const [, , id = '', action] = path.split('/')
    const intent = this.intents.get(id)
    if (!intent) return page(404, '<p>No such payment.</p>')
    const pi = intent.json
    if (verb === 'GET' && !action)
      return page(
        200,
        `<h1>3D Secure 2 test page</h1><p>Authenticate ${pi.amount} ${pi.currency.toUpperCase()} for ${pi.id}.</p>` +
          `<form method="post" action="/3ds/${pi.id}/approve"><button id="approve" type="submit">Complete authentication</button></form>` +
          `<form method="post" action="/3ds/${pi.id}/decline"><button id="decline" type="submit">Fail authentication</button></form>`,
      )
    if (verb !== 'POST' || (action !== 'approve' && action !== 'decline')) return page(404, '<p>Not found.</p>')
    if (pi.status !== 'requires_action') return page(409, `<p>${pi.id} is not waiting for authentication (${pi.status}).</p>`)
    const method = this.methods.get(pi.payment_method)!
    if (action === 'approve') this.attempt(intent, method, {}, true)
    else
      this.fail(pi, method, {
        type: 'invalid_request_error',
        code: 'payment_intent_authentication_failure',
        message:
          'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
        doc_url: docUrl('payment_intent_authentication_failure'),
        payment_method: copy(method.json),
      })
    if (!intent.returnUrl) return page(200, '<p>Authentication finished. Return to the merchant.</p>')
    const back = new URL(intent.returnUrl)
    back.searchParams.set('payment_intent', pi.id)
    back.searchParams.set('payment_intent_client_secret', pi.client_secret)
    back.searchParams.set('redirect_status', pi.status === 'succeeded' ? 'succeeded' : 'failed')
    return { status: 302, body: '', headers: { location: back.href }, saved: false }
  }

  // --- Refunds

  private createRefund(p: Obj): Answer {
    if (!p.payment_intent && !p.charge)
      throw refused('One of the following params should be provided for this request: payment_intent or charge.', { code: 'parameter_missing' })
    const intent = p.payment_intent ? (this.intents.get(p.payment_intent) ?? missing('payment_intent', p.payment_intent, 'payment_intent')) : undefined
    const chargeId: string | null = p.charge ?? intent?.json.latest_charge
    const charge = chargeId ? this.charges.get(chargeId) : undefined
    if (p.charge && !charge) missing('charge', p.charge, 'charge')
    const reason = oneOf(p.reason, ['duplicate', 'fraudulent', 'requested_by_customer'], 'reason')
    const amount = p.amount === undefined ? undefined : positiveInt(p.amount, 'amount')
    if (!charge || charge.json.status !== 'succeeded')
      throw failed(400, { type: 'invalid_request_error', message: `This PaymentIntent (${p.payment_intent}) does not have a successful charge to refund.` })
    const c = charge.json
    const remaining = c.amount - c.amount_refunded
    if (remaining === 0) throw failed(400, { type: 'invalid_request_error', code: 'charge_already_refunded', message: `Charge ${c.id} has already been refunded.` })
    if (amount !== undefined && amount > remaining)
      throw failed(400, {
        type: 'invalid_request_error',
        code: 'amount_too_large',
        param: 'amount',
        message: `Refund amount (${money(amount, c.currency)}) is greater than unrefunded amount on charge (${money(remaining, c.currency)})`,
      })
    const refund: Obj = {
      id: newId('re'),
      object: 'refund',
      amount: amount ?? remaining,
      charge: c.id,
      created: now(),
      currency: c.currency,
      metadata: p.metadata ?? {},
      payment_intent: c.payment_intent,
      reason,
      status: 'succeeded',
    }
    this.refunds.set(refund.id, refund)
    this.refundOnCharge(c, refund.amount)
    this.emit('refund.created', refund)
    this.emit('charge.refunded', c)
    const answer = ok(refund)
    // 4000000000005126: "its status begins as `succeeded`. Some time later, its status
    // transitions to `failed` and sends a `refund.failed` event" (docs.stripe.com/testing).
    // The fake has no clock: "later" is as soon as this answer is made, so the next fetch
    // sees `failed` and the amount is refundable again.
    if (charge.refundFails) {
      refund.status = 'failed'
      refund.failure_reason = 'expired_or_canceled_card'
      this.refundOnCharge(c, -refund.amount)
      this.emit('refund.failed', refund)
    }
    return answer
  }

  private refundOnCharge(charge: Obj, amount: number): void {
    charge.amount_refunded += amount
    charge.refunded = charge.amount_refunded === charge.amount
  }
}

// ---------------------------------------------------------------------------------------
// Test cards (docs.stripe.com/testing)

type Outcome =
  | { kind: 'succeed'; refundFails?: true }
  | { kind: 'authenticate' }
  | { kind: 'decline'; code: string; decline_code?: string; message: string; param?: string }

const declined = (decline_code: string, message = 'Your card was declined.'): Outcome => ({ kind: 'decline', code: 'card_declined', decline_code, message })

const CARDS: Record<string, Outcome> = {
  '4242424242424242': { kind: 'succeed' },
  '5555555555554444': { kind: 'succeed' },
  '378282246310005': { kind: 'succeed' },
  '4000000000005126': { kind: 'succeed', refundFails: true },
  '4000000000000002': declined('generic_decline'),
  '4000000000009995': declined('insufficient_funds', 'Your card has insufficient funds.'),
  '4000000000009987': declined('lost_card'),
  '4000000000009979': declined('stolen_card'),
  '4100000000000019': declined('fraudulent'), // "Always blocked" by Radar
  '4000000000000069': { kind: 'decline', code: 'expired_card', message: 'Your card has expired.', param: 'exp_month' },
  '4000000000000127': { kind: 'decline', code: 'incorrect_cvc', message: "Your card's security code is incorrect.", param: 'cvc' },
  '4000000000000119': { kind: 'decline', code: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' },
  '4000002760003184': { kind: 'authenticate' }, // "Always authenticate"
  '4000000000003220': { kind: 'authenticate' }, // "3DS Required"
}

function outcomeOf(number: string): Outcome {
  if (!luhn(number)) return { kind: 'decline', code: 'incorrect_number', message: 'Your card number is incorrect.', param: 'number' }
  return (
    CARDS[number] ??
    declined('test_mode_live_card', 'Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.')
  )
}

function luhn(number: string): boolean {
  if (!/^\d{12,19}$/.test(number)) return false
  let sum = 0
  for (let i = 0; i < number.length; i++) {
    let digit = Number(number[number.length - 1 - i])
    if (i % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2
    sum += digit
  }
  return sum % 10 === 0
}

function brandOf(number: string): string {
  if (/^4/.test(number)) return 'visa'
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'mastercard'
  if (/^3[47]/.test(number)) return 'amex'
  return 'unknown'
}

// ---------------------------------------------------------------------------------------
// The wire

/** `a[b][0]=x&a[c]=y` → `{ a: { b: ['x'], c: 'y' } }`: Stripe's bracket notation, as the SDK writes it. */
function parseForm(text: string): Obj {
  const root: Obj = {}
  for (const [name, value] of new URLSearchParams(text)) {
    const path = name.replace(/\]/g, '').split('[')
    if (path.some((key) => key === '__proto__' || key === 'constructor' || key === 'prototype')) continue
    let node = root
    path.forEach((key, i) => {
      const at = key === '' ? String(Object.keys(node).length) : key // `expand[]=x`
      if (i === path.length - 1) node[at] = value
      else node = typeof node[at] === 'object' ? node[at] : (node[at] = {})
    })
  }
  return arraysIn(root)
}

/** Objects keyed 0…n-1 were arrays on the wire (`expand[0]`, `expand[1]`). */
function arraysIn(value: unknown): any {
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value).map(([k, v]) => [k, arraysIn(v)] as const)
  const isList = entries.length > 0 && entries.every(([k], i) => k === String(i))
  return isList ? entries.map(([, v]) => v) : Object.fromEntries(entries)
}

/** The parameters with every card number and CVC replaced, wherever they sit. */
function redact(value: unknown): any {
  if (Array.isArray(value)) return value.map(redact)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'number' || k === 'cvc' ? '[REDACTED]' : redact(v)]))
}

/** JSON with sorted keys: the same parameters in another order are the same request. */
function canonical(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Obj)[k])}`).join(',')}}`
}

function positiveInt(value: unknown, param: string): number {
  if (value === undefined || value === '') throw refused(`Missing required param: ${param}.`, { code: 'parameter_missing', param })
  if (!/^\d+$/.test(String(value)) || Number(value) < 1)
    throw refused(`Invalid positive integer: ${String(value)}`, { code: 'parameter_invalid_integer', param })
  return Number(value)
}

function currencyOf(value: unknown): string {
  if (value === undefined || value === '') throw refused('Missing required param: currency.', { code: 'parameter_missing', param: 'currency' })
  if (!/^[a-zA-Z]{3}$/.test(String(value))) throw refused(`Invalid currency: ${String(value)}.`, { code: 'parameter_invalid_string', param: 'currency' })
  return String(value).toLowerCase()
}

function oneOf(value: unknown, allowed: string[], param: string): string | null {
  if (value === undefined || value === '') return null
  if (!allowed.includes(String(value)))
    throw refused(`Invalid ${param}: must be one of ${allowed.join(', ')}`, { code: 'parameter_invalid_string', param })
  return String(value)
}

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency.toUpperCase()}`

function headerOf(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function page(status: number, body: string): Answer {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Stripe fake</title></head><body>${body}</body></html>`
  return { status, body: html, headers: { 'content-type': 'text/html; charset=utf-8' }, saved: false }
}

const token = (bytes: number) => randomBytes(bytes).toString('hex')
const newId = (prefix: string) => `${prefix}_${token(12)}`
const now = () => Math.floor(Date.now() / 1000)
/** A deep copy as JSON would carry it (undefined fields dropped). */
const copy = <T = any>(value: unknown): T => JSON.parse(JSON.stringify(value)) as T
