/**
 * `stripe`: cards charged through Stripe PaymentIntents with the official `stripe` SDK
 * (SPEC "Card processors").
 *
 * Order of calls, and why. Stripe scopes an idempotency key to the whole account and
 * replays it only for the same parameters, so each distinct request has its own key derived
 * from paylink's intent id (`pi_…:create`, `pi_…:update`, `pi_…:confirm`, `pi_…:cancel`,
 * `pi_…:customer`), and a request that carries the card is never repeated (the card has
 * left memory by then). So: the PaymentIntent is created without the card, its id is
 * stored by paylink before any money can move, and only then is it confirmed with the
 * card. Whatever happens to the confirm's answer, recovery can retrieve that PaymentIntent
 * by id; a crash before the id was stored left a PaymentIntent nobody can confirm.
 *
 * The create is made when the payment page opens (`prepare`, in the background), as
 * Stripe advises for its own payment forms (create the PaymentIntent as soon as the amount
 * is known, when checkout begins): after Pay, only the confirm is left, one call to Stripe
 * instead of two. It is always the same request
 * (amount, currency, `metadata.payment_intent_id`; no customer), so a page load and a
 * confirm that both make it get one PaymentIntent; a confirm that finds none stored makes
 * it itself and stores it (`attempt.remember`). What depends on the shopper's choice — the
 * Customer of a saved card, or of one being saved, and `setup_future_usage` — is set by an
 * update just before the confirm. A page opened and never paid leaves a PaymentIntent in
 * `requires_payment_method`, which can never be charged without a confirm; once the link
 * has expired paylink cancels it (`cancel`, key `pi_…:cancel`), so Stripe's dashboard shows
 * it cancelled rather than incomplete.
 *
 * What is an outcome and what is not:
 * - a `StripeCardError` (402) is a decline, mapped from `decline_code`/`code` by `DECLINES`;
 * - other 4xx answers (a refused request, bad credentials, raw card data not enabled for the
 *   account) are definite: nothing was charged, `failed` / `processing_error` with Stripe's code;
 * - 5xx answers, connection errors, timeouts and idempotency conflicts are `unknown`.
 * SDK retries are off (`maxNetworkRetries: 0`): paylink decides when to ask again. The card
 * brand and last four shown are paylink's own (written when the payment started), not
 * Stripe's names for them.
 */
import Stripe from 'stripe'
import type {
  Attempt,
  AttemptRef,
  AuthorizeInput,
  CardProcessor,
  Outcome,
  PrepareInput,
  ProcessorEvent,
  ProcessorFailure,
  RefundOutcome,
  Returned,
  SavedCardToken,
} from '../card-processor.js'
import { WebhookSignatureError } from '../card-processor.js'
import type { ProcessorDeps } from '../registry.js'
import type { StripeConfig } from './config.js'

/** Stripe's decline codes and error codes, as paylink's failure codes. Anything else declined is `card_declined`. */
export const DECLINES: Record<string, ProcessorFailure> = {
  card_declined: 'card_declined',
  generic_decline: 'card_declined',
  do_not_honor: 'card_declined',
  insufficient_funds: 'insufficient_funds',
  expired_card: 'expired_card',
  incorrect_cvc: 'incorrect_cvc',
  invalid_cvc: 'incorrect_cvc',
  incorrect_number: 'incorrect_number',
  invalid_number: 'incorrect_number',
  lost_card: 'lost_or_stolen',
  stolen_card: 'lost_or_stolen',
  fraudulent: 'fraudulent',
  merchant_blacklist: 'fraudulent',
  authentication_required: 'authentication_failed',
  payment_intent_authentication_failure: 'authentication_failed',
  processing_error: 'processing_error',
}

type PaymentError = Stripe.PaymentIntent.LastPaymentError

/** How often a create whose key is still running elsewhere (409) is sent, and how far apart. */
const CREATE_TRIES = 5
const CREATE_RETRY_MS = 250

/** The most specific of Stripe's codes: `decline_code` when it names a reason, else `code`. */
function declineOf(e: { code?: string | undefined; decline_code?: string | undefined; message?: string | undefined; type?: string }): Outcome & { kind: 'failed' } {
  const code = (e.decline_code && DECLINES[e.decline_code] ? e.decline_code : e.code) ?? e.decline_code ?? null
  const failureCode: ProcessorFailure = (code ? DECLINES[code] : undefined) ?? (e.type === 'card_error' ? 'card_declined' : 'processing_error')
  return { kind: 'failed', failureCode, processorCode: code, processorMessage: e.message ?? null }
}

const withRef = <T extends Outcome>(o: T, processorRef: string): T => ({ ...o, processorRef })

/** Whether Stripe refused the request itself (nothing was done), as opposed to not answering. */
const isDefiniteRefusal = (err: unknown): err is Stripe.errors.StripeError =>
  err instanceof Stripe.errors.StripeError &&
  typeof err.statusCode === 'number' &&
  err.statusCode >= 400 &&
  err.statusCode < 500 &&
  err.statusCode !== 409 &&
  !(err instanceof Stripe.errors.StripeIdempotencyError) &&
  err.type !== 'StripeIdempotencyError'

/** A call's failure as an outcome: a decline, a definite refusal, or unknown. */
function failureOf(err: unknown, processorRef?: string): Outcome {
  if (err instanceof Stripe.errors.StripeCardError) {
    const ref = err.payment_intent?.id ?? processorRef
    const o = declineOf({ code: err.code, decline_code: err.decline_code, message: err.message, type: 'card_error' })
    return ref ? withRef(o, ref) : o
  }
  if (isDefiniteRefusal(err)) {
    const o: Outcome = { kind: 'failed', failureCode: 'processing_error', processorCode: err.code ?? err.type, processorMessage: err.message }
    return processorRef ? withRef(o, processorRef) : o
  }
  return { kind: 'unknown', ...(processorRef ? { processorRef } : {}), reason: err instanceof Error ? err.constructor.name : 'error' }
}

/** A PaymentIntent as an outcome. `saving` says whether a succeeded one leaves a reusable card. */
export function outcomeOfIntent(pi: Stripe.PaymentIntent): Outcome {
  switch (pi.status) {
    case 'succeeded': {
      const pm = typeof pi.payment_method === 'string' ? pi.payment_method : pi.payment_method?.id
      const customer = typeof pi.customer === 'string' ? pi.customer : pi.customer?.id
      const saved: SavedCardToken | undefined = pi.setup_future_usage && pm ? { token: pm, ...(customer ? { customerRef: customer } : {}) } : undefined
      return { kind: 'succeeded', processorRef: pi.id, ...(saved ? { savedCard: saved } : {}) }
    }
    case 'requires_action': {
      const url = pi.next_action?.redirect_to_url?.url
      if (url) return { kind: 'requires_action', processorRef: pi.id, redirect: { url, method: 'GET' } }
      // Any other next action (an SDK-only one) cannot be done in paylink's frame.
      return { kind: 'unknown', processorRef: pi.id, reason: `next_action ${pi.next_action?.type ?? 'none'}` }
    }
    case 'processing':
      return { kind: 'pending', processorRef: pi.id }
    case 'canceled':
      return { kind: 'failed', processorRef: pi.id, failureCode: 'processing_error', processorCode: 'canceled', processorMessage: pi.cancellation_reason ?? null }
    case 'requires_payment_method': {
      const last: PaymentError | null = pi.last_payment_error
      // Created and never confirmed (or not yet): nothing was charged, nothing is under way.
      if (!last) return { kind: 'unknown', processorRef: pi.id, reason: 'not confirmed' }
      return withRef(declineOf({ code: last.code, decline_code: last.decline_code, message: last.message, type: last.type }), pi.id)
    }
    default:
      return { kind: 'unknown', processorRef: pi.id, reason: `status ${pi.status}` }
  }
}

export class StripeProcessor implements CardProcessor {
  readonly name = 'stripe'
  private readonly stripe: Stripe

  constructor(
    private readonly config: StripeConfig,
    deps: ProcessorDeps,
  ) {
    const base = config.api_base ? new URL(config.api_base) : undefined
    this.stripe = new Stripe(config.secret_key, {
      maxNetworkRetries: 0,
      timeout: deps.timeoutMs,
      telemetry: false,
      appInfo: { name: 'paylink' },
      ...(base
        ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'http:' ? ('http' as const) : ('https' as const) }
        : {}),
    })
  }

  /** The PaymentIntent, without the card, made when the page opens: the same request as `authorize`'s first. */
  async prepare(ref: AttemptRef, input: PrepareInput): Promise<string> {
    return (await this.createIntent(ref.key, input)).id
  }

  /**
   * Creates the attempt's PaymentIntent: always these parameters under `<intent>:create`, so
   * that `prepare` (at page load) and `authorize` (at Pay) make one PaymentIntent whichever
   * runs first. While another request with the key is still running at Stripe (a page load
   * served by another paylink process), Stripe answers 409: asked again a few times, a
   * quarter second apart, then the 409 stands (an `unknown` outcome; recovery ends it).
   */
  private async createIntent(key: string, input: PrepareInput): Promise<Stripe.PaymentIntent> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.stripe.paymentIntents.create(
          { amount: input.amountMinor, currency: input.currency.toLowerCase(), metadata: { payment_intent_id: key } },
          { idempotencyKey: `${key}:create` },
        )
      } catch (err) {
        if (tries >= CREATE_TRIES || !(err instanceof Stripe.errors.StripeError) || err.statusCode !== 409) throw err
        await new Promise((resolve) => setTimeout(resolve, CREATE_RETRY_MS))
      }
    }
  }

  async authorize(attempt: Attempt, input: AuthorizeInput): Promise<Outcome> {
    let piId = attempt.processorRef
    try {
      if (!piId) {
        piId = (await this.createIntent(attempt.key, input)).id
        // Stored before any money can move: whatever happens next, recovery can retrieve it.
        await attempt.remember(piId)
      }
      // A saved card is used, or one is saved, through the shopper's Customer, set on the PaymentIntent before the confirm.
      const customer = input.savedCard?.customerRef ?? input.saveFor?.customerRef ?? (input.saveFor ? await this.newCustomer(attempt.key, input.saveFor.shopperReference) : undefined)
      if (customer) {
        await this.stripe.paymentIntents.update(
          piId,
          { customer, ...(input.saveFor ? { setup_future_usage: 'on_session' as const } : {}) },
          { idempotencyKey: `${attempt.key}:update` },
        )
      }
      const confirmed = await this.stripe.paymentIntents.confirm(
        piId,
        {
          return_url: input.returnUrl,
          ...(input.card
            ? {
                // Raw card data: the account must be enabled for it by Stripe (README). The SDK's types leave `card` out.
                payment_method_data: {
                  type: 'card',
                  card: { number: input.card.number, exp_month: input.card.expMonth, exp_year: input.card.expYear, cvc: input.card.cvc },
                  ...(input.card.name ? { billing_details: { name: input.card.name } } : {}),
                } as unknown as Stripe.PaymentIntentConfirmParams.PaymentMethodData,
              }
            : { payment_method: input.savedCard!.token }),
        },
        { idempotencyKey: `${attempt.key}:confirm` },
      )
      return outcomeOfIntent(confirmed)
    } catch (err) {
      return failureOf(err, piId)
    }
  }

  /** A Customer for a shopper whose first card at this account is being saved. */
  private async newCustomer(key: string, shopperReference: string): Promise<string> {
    const customer = await this.stripe.customers.create({ metadata: { paylink_user_id: shopperReference } }, { idempotencyKey: `${key}:customer` })
    return customer.id
  }

  /** Back from 3-D Secure: what the PaymentIntent now says (the query string is not trusted). */
  async completeAction(ref: AttemptRef, _returned: Returned): Promise<Outcome> {
    if (!ref.processorRef) return { kind: 'unknown', reason: 'no PaymentIntent id' }
    try {
      return outcomeOfIntent(await this.stripe.paymentIntents.retrieve(ref.processorRef))
    } catch (err) {
      return failureOf(err, ref.processorRef)
    }
  }

  /** By the stored id; without one, by a search on `metadata.payment_intent_id` (which may lag by up to a minute). */
  async lookup(ref: AttemptRef): Promise<Outcome | { kind: 'not_found' }> {
    const pi = await this.find(ref)
    return pi ? outcomeOfIntent(pi) : { kind: 'not_found' }
  }

  private async find(ref: AttemptRef): Promise<Stripe.PaymentIntent | undefined> {
    if (ref.processorRef) return this.stripe.paymentIntents.retrieve(ref.processorRef)
    const found = await this.stripe.paymentIntents.search({ query: `metadata['payment_intent_id']:'${ref.key.replace(/[^A-Za-z0-9_]/g, '')}'`, limit: 1 })
    return found.data[0]
  }

  /**
   * Cancels the PaymentIntent so that it can never be charged. A PaymentIntent that
   * succeeded first stands; one still `processing` cannot be cancelled yet (`unknown`).
   * Without a PaymentIntent there is nothing to cancel: paylink stores its id before the
   * card is sent, so an unstored one was never confirmed.
   */
  async cancel(ref: AttemptRef): Promise<Outcome> {
    try {
      const pi = await this.find(ref)
      if (!pi) return { kind: 'failed', failureCode: 'processing_error', processorCode: 'not_found', processorMessage: null }
      if (pi.status === 'succeeded' || pi.status === 'canceled' || pi.status === 'processing') return outcomeOfIntent(pi)
      try {
        const cancelled = await this.stripe.paymentIntents.cancel(pi.id, { cancellation_reason: 'abandoned' }, { idempotencyKey: `${ref.key}:cancel` })
        return outcomeOfIntent(cancelled)
      } catch (err) {
        // It moved on meanwhile (it succeeded, or is processing): what it is now stands.
        if (isDefiniteRefusal(err)) return outcomeOfIntent(await this.stripe.paymentIntents.retrieve(pi.id))
        throw err
      }
    } catch (err) {
      const o = failureOf(err, ref.processorRef)
      return o.kind === 'failed' && o.failureCode !== 'processing_error' ? o : { kind: 'unknown', reason: 'cancel failed' }
    }
  }

  async refund(input: { ref: AttemptRef; refundKey: string; amountMinor: number; currency: string }): Promise<RefundOutcome> {
    if (!input.ref.processorRef) return { kind: 'failed', failureCode: 'processing_error', processorCode: 'no_payment_intent', processorMessage: null }
    try {
      const refund = await this.stripe.refunds.create(
        { payment_intent: input.ref.processorRef, amount: input.amountMinor, metadata: { refund_id: input.refundKey, payment_intent_id: input.ref.key } },
        { idempotencyKey: input.refundKey },
      )
      return refundOutcome(refund)
    } catch (err) {
      if (isDefiniteRefusal(err)) return { kind: 'failed', failureCode: 'processing_error', processorCode: err.code ?? err.type, processorMessage: err.message }
      return { kind: 'unknown', reason: err instanceof Error ? err.constructor.name : 'error' }
    }
  }

  /** `Stripe-Signature` checked by the SDK with the account's webhook secret. */
  async parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): Promise<ProcessorEvent[]> {
    const signature = headers['stripe-signature']
    let event: Stripe.Event
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, typeof signature === 'string' ? signature : '', this.config.webhook_secret)
    } catch {
      throw new WebhookSignatureError('The Stripe-Signature header does not verify.')
    }
    switch (event.type) {
      case 'payment_intent.succeeded':
      case 'payment_intent.payment_failed':
      case 'payment_intent.canceled':
      case 'payment_intent.processing': {
        const pi = event.data.object
        return [{ id: event.id, type: 'payment', key: pi.metadata?.payment_intent_id ?? null, processorRef: pi.id, outcome: outcomeOfIntent(pi) }]
      }
      case 'refund.created':
      case 'refund.updated':
      case 'refund.failed': {
        const r = event.data.object
        return [{ id: event.id, type: 'refund', refundKey: r.metadata?.refund_id ?? null, processorRef: r.id, outcome: refundOutcome(r) }]
      }
      default:
        return [{ id: event.id, type: 'ignored' }]
    }
  }

  /** Detaches the PaymentMethod from its Customer: it can never be charged again. */
  async deleteSavedCard(card: SavedCardToken): Promise<void> {
    try {
      await this.stripe.paymentMethods.detach(card.token)
    } catch (err) {
      // Detached already (a retry, or done at Stripe): the card is gone either way.
      if (!(err instanceof Stripe.errors.StripeInvalidRequestError)) throw err
    }
  }
}

function refundOutcome(r: Stripe.Refund): RefundOutcome {
  if (r.status === 'succeeded') return { kind: 'succeeded', processorRef: r.id }
  if (r.status === 'failed' || r.status === 'canceled') return { kind: 'failed', processorRef: r.id, failureCode: 'processing_error', processorCode: r.failure_reason ?? r.status, processorMessage: null }
  return { kind: 'pending', processorRef: r.id }
}
