/**
 * `adyen`: cards charged through Adyen's Checkout API with the official `@adyen/api-library`
 * SDK, over our `AdyenHttpClient` (SPEC "Card processors"). How Adyen's answers become
 * outcomes is in `transformers.ts`.
 *
 * Idempotency. Adyen scopes an Idempotency-Key to the whole company account (every endpoint,
 * at most 64 characters) and replays it only for the same body, so each distinct request
 * has its own key derived from paylink's intent id: `pi_…:payments`, `pi_…:details`,
 * `pi_…:cancel`; a refund's key is the refund id. The intent id is also the payment's
 * `reference`, which is all recovery has to go on: Adyen gives its pspReference only with
 * the answer, so there is nothing to store before the card is sent (no `remember`).
 * Nothing thrown leaves `authorize`, `completeAction`, `cancel` or `refund`.
 *
 * Recovery. Checkout has no way to look a payment up by reference, so `lookup` can only
 * say "later" (the AUTHORISATION webhook brings the outcome) and `cancel` closes the
 * attempt by paylink's reference (a technical cancel), whether or not Adyen ever saw it.
 *
 * Saved cards. Adyen keeps a token (`storedPaymentMethodId`) per `shopperReference`, and
 * charging or deleting one needs both. paylink keeps the shopperReference in the saved
 * card's `customerRef`: a succeeded save answers `savedCard: {token, customerRef:
 * shopperReference}`, and reuse reads it back from `input.savedCard.customerRef`.
 */
import adyen from '@adyen/api-library'
import type { CheckoutAPI, Types } from '@adyen/api-library'
import type { Attempt, AttemptRef, AuthorizeInput, CardProcessor, Outcome, ProcessorEvent, RefundOutcome, Returned, SavedCardToken } from '../card-processor.js'
import { WebhookSignatureError } from '../card-processor.js'
import type { ProcessorDeps } from '../registry.js'
import type { AdyenConfig } from './config.js'
import { AdyenConnectionError, AdyenHttpClient } from './http-client.js'
import {
  browserInfo,
  cancelled,
  errorCodeOf,
  eventOfItem,
  expiry,
  failureOf,
  isDefiniteRefusal,
  isItem,
  outcomeOfPayment,
  TOKEN_GONE,
  unknownReason,
  type NotificationItem,
} from './transformers.js'

export { REFUSALS, CARD_ERRORS } from './transformers.js'

const { HttpClientException } = adyen
const Checkout = adyen.Types.checkout
type PaymentRequest = Types.checkout.PaymentRequest

export class AdyenProcessor implements CardProcessor {
  readonly name = 'adyen'
  /** Adyen reads this body back as the acknowledgement of a notification (anything else is retried). */
  readonly webhookAck = { contentType: 'text/plain; charset=utf-8', body: '[accepted]' }
  private readonly checkout: CheckoutAPI
  private readonly hmac = new adyen.hmacValidator()

  constructor(
    private readonly config: AdyenConfig,
    deps: ProcessorDeps,
  ) {
    const client = new adyen.Client(
      {
        apiKey: config.api_key,
        environment: config.environment === 'live' ? adyen.EnvironmentEnum.LIVE : adyen.EnvironmentEnum.TEST,
        ...(config.live_url_prefix ? { liveEndpointUrlPrefix: config.live_url_prefix } : {}),
        applicationName: 'paylink',
      },
      // The SDK makes one attempt per call (it has no retries of its own): paylink decides when to ask again.
      new AdyenHttpClient({ ...(config.api_base ? { apiBase: config.api_base } : {}), timeoutMs: deps.timeoutMs }),
    )
    this.checkout = new adyen.CheckoutAPI(client)
  }

  async authorize(attempt: Attempt, input: AuthorizeInput): Promise<Outcome> {
    const shopperReference = input.saveFor?.shopperReference ?? input.savedCard?.customerRef
    if (input.savedCard && !shopperReference) {
      // Adyen holds a token under its shopperReference: without it the token cannot be charged.
      return { kind: 'failed', failureCode: 'processing_error', processorCode: 'no_shopper_reference', processorMessage: null }
    }
    let paymentMethod: PaymentRequest['paymentMethod']
    if (input.card) {
      paymentMethod = {
        type: Checkout.CardDetails.TypeEnum.Scheme,
        number: input.card.number,
        ...expiry(input.card.expMonth, input.card.expYear),
        cvc: input.card.cvc,
        ...(input.card.name ? { holderName: input.card.name } : {}),
      }
    } else if (input.savedCard) {
      paymentMethod = { type: Checkout.CardDetails.TypeEnum.Scheme, storedPaymentMethodId: input.savedCard.token }
    } else {
      return { kind: 'failed', failureCode: 'processing_error', processorCode: 'no_card', processorMessage: null }
    }
    const { RecurringProcessingModelEnum, ShopperInteractionEnum, ChannelEnum } = Checkout.PaymentRequest
    const request: PaymentRequest = {
      merchantAccount: this.config.merchant_account,
      amount: { value: input.amountMinor, currency: input.currency },
      reference: attempt.key,
      paymentMethod,
      returnUrl: input.returnUrl,
      channel: ChannelEnum.Web,
      // A stored card is charged without the shopper typing it (no CVC): Adyen's ContAuth.
      shopperInteraction: input.savedCard ? ShopperInteractionEnum.ContAuth : ShopperInteractionEnum.Ecommerce,
      ...(input.saveFor || input.savedCard ? { recurringProcessingModel: RecurringProcessingModelEnum.CardOnFile, shopperReference } : {}),
      ...(input.saveFor ? { storePaymentMethod: true } : {}),
      ...browserInfo(input.browser),
    }
    try {
      const res = await this.checkout.PaymentsApi.payments(request, { idempotencyKey: `${attempt.key}:payments` })
      return outcomeOfPayment(res, input.saveFor ? { shopperReference: input.saveFor.shopperReference } : {})
    } catch (err) {
      return failureOf(err)
    }
  }

  /**
   * Back from 3-D Secure: `/payments/details` with what the shopper came back with, the
   * `redirectResult` of a GET return or the `MD` / `PaRes` of a POST one (3-D Secure 1).
   */
  async completeAction(ref: AttemptRef, returned: Returned): Promise<Outcome> {
    const details = returned.redirectResult
      ? { redirectResult: returned.redirectResult }
      : returned.MD && returned.PaRes
        ? { MD: returned.MD, PaRes: returned.PaRes }
        : undefined
    // Nothing Adyen could check came back: the webhook or recovery will tell.
    if (!details) return { kind: 'unknown', ...(ref.processorRef ? { processorRef: ref.processorRef } : {}), reason: 'nothing came back from the redirect' }
    try {
      const res = await this.checkout.PaymentsApi.paymentsDetails({ details }, { idempotencyKey: `${ref.key}:details` })
      return outcomeOfPayment(res, {})
    } catch (err) {
      return failureOf(err, ref.processorRef)
    }
  }

  /**
   * Checkout cannot look a payment up, so: `not_found` when paylink holds no pspReference
   * (Adyen's answer never arrived), and `pending` when it does — the AUTHORISATION webhook
   * brings the outcome. Either way, after PROCESSING_RECOVERY_SECONDS without that webhook,
   * recovery calls `cancel`.
   */
  async lookup(ref: AttemptRef): Promise<Outcome | { kind: 'not_found' }> {
    return ref.processorRef ? { kind: 'pending', processorRef: ref.processorRef } : { kind: 'not_found' }
  }

  /**
   * A technical cancel by paylink's reference (`POST /cancels`), which works without a
   * pspReference. Adyen answers `received` and confirms later with a TECHNICAL_CANCEL
   * webhook: a payment it authorised is voided (the hold is released, nothing is taken),
   * and one it refused or never saw stays so. Either way nothing is charged under this
   * attempt, so the answer is `failed`. The caveat: a cancel cannot undo a capture, so on
   * an account that captures at once the authorisation must have been cancelled before
   * the capture ran (its TECHNICAL_CANCEL then says `success: false`).
   */
  async cancel(ref: AttemptRef): Promise<Outcome> {
    try {
      await this.checkout.ModificationsApi.cancelAuthorisedPayment(
        { merchantAccount: this.config.merchant_account, paymentReference: ref.key, reference: `${ref.key}:cancel` },
        { idempotencyKey: `${ref.key}:cancel` },
      )
      return cancelled(ref.processorRef)
    } catch (err) {
      return { kind: 'unknown', ...(ref.processorRef ? { processorRef: ref.processorRef } : {}), reason: unknownReason(err) }
    }
  }

  /** Refunds are asynchronous at Adyen: `pending` until the REFUND (or REFUND_FAILED) webhook. */
  async refund(input: { ref: AttemptRef; refundKey: string; amountMinor: number; currency: string }): Promise<RefundOutcome> {
    if (!input.ref.processorRef) return { kind: 'failed', failureCode: 'processing_error', processorCode: 'no_psp_reference', processorMessage: null }
    try {
      const res = await this.checkout.ModificationsApi.refundCapturedPayment(
        input.ref.processorRef,
        { merchantAccount: this.config.merchant_account, amount: { value: input.amountMinor, currency: input.currency }, reference: input.refundKey },
        { idempotencyKey: input.refundKey },
      )
      return { kind: 'pending', ...(res.pspReference ? { processorRef: res.pspReference } : {}) }
    } catch (err) {
      if (isDefiniteRefusal(err)) {
        return { kind: 'failed', failureCode: 'processing_error', processorCode: errorCodeOf(err) ?? `http_${err.statusCode}`, processorMessage: err.apiError?.message ?? null }
      }
      return { kind: 'unknown', reason: unknownReason(err) }
    }
  }

  /**
   * Adyen's standard webhook: every notification item carries its own HMAC signature, and
   * every one must verify under the account's HMAC key or the whole body is refused. The
   * events' ids are `pspReference:eventCode:success` (see `eventOfItem`).
   */
  async parseWebhook(rawBody: Buffer, _headers: Record<string, string | string[] | undefined>): Promise<ProcessorEvent[]> {
    const items = this.verifiedItems(rawBody)
    return items.map((item) => eventOfItem(item, this.config.merchant_account))
  }

  private verifiedItems(rawBody: Buffer): NotificationItem[] {
    let body: unknown
    try {
      body = JSON.parse(rawBody.toString('utf8'))
    } catch {
      throw new WebhookSignatureError('The Adyen webhook is not JSON.')
    }
    const wrappers = (body as { notificationItems?: unknown } | null)?.notificationItems
    if (!Array.isArray(wrappers) || wrappers.length === 0) throw new WebhookSignatureError('The Adyen webhook has no notification items.')
    return wrappers.map((wrapper: unknown) => {
      const item = (wrapper as { NotificationRequestItem?: unknown } | null)?.NotificationRequestItem
      if (!isItem(item) || !this.verifies(item)) throw new WebhookSignatureError('An Adyen notification item does not verify with the HMAC key.')
      return item
    })
  }

  private verifies(item: NotificationItem): boolean {
    try {
      return this.hmac.validateHMAC(item, this.config.hmac_key)
    } catch {
      return false // no hmacSignature, or one that is not base64
    }
  }

  /** Deletes the token at Adyen; one Adyen no longer holds (deleted already) is fine. */
  async deleteSavedCard(card: SavedCardToken & { shopperReference: string }): Promise<void> {
    // The token lives under the shopperReference it was stored with, which paylink keeps as its customerRef.
    const shopperReference = card.customerRef ?? card.shopperReference
    try {
      await this.checkout.RecurringApi.deleteTokenForStoredPaymentDetails(card.token, shopperReference, this.config.merchant_account)
    } catch (err) {
      if (err instanceof HttpClientException && !(err instanceof AdyenConnectionError)) {
        const code = errorCodeOf(err)
        if (err.statusCode === 404 || (code && TOKEN_GONE.has(code))) return
      }
      throw new Error(`Adyen did not delete the stored card (${unknownReason(err)}).`)
    }
  }
}
