/**
 * Adyen's wire, as paylink's outcomes: its result codes, refusal reasons, error answers and
 * webhook notification items. The calls themselves are in `adyen.ts`.
 *
 * - `resultCode` is the outcome: `Authorised`, `Refused` / `Cancelled` (mapped from
 *   `refusalReasonCode` by `REFUSALS`), `RedirectShopper` (3-D Secure by redirect: paylink
 *   never asks for native 3DS2), `Received` / `Pending` (the AUTHORISATION webhook will
 *   say), `Error` (unknown: recovery finds out); a code paylink does not know is pending.
 * - An HTTP 4xx with Adyen's error JSON (a validation error, bad credentials, a foreign
 *   merchant account) is definite: Adyen did nothing, `failed` with Adyen's `errorCode`,
 *   except `704` (the same key in flight, or reused with another body), which is unknown.
 * - A 5xx, a timeout or a lost connection (our client's status 500) is unknown.
 * Reasons for `unknown` are built from codes and class names only: a request carries the card.
 */
import adyen from '@adyen/api-library'
import type { Types } from '@adyen/api-library'
import type { AuthorizeInput, Outcome, ProcessorEvent, ProcessorFailure, SavedCardToken } from '../card-processor.js'
import { AdyenConnectionError } from './http-client.js'

const { HttpClientException } = adyen
type PaymentRequest = Types.checkout.PaymentRequest
type PaymentResponse = Types.checkout.PaymentResponse
type PaymentDetailsResponse = Types.checkout.PaymentDetailsResponse
export type NotificationItem = Types.notification.NotificationRequestItem

/**
 * Adyen's refusal reasons (docs.adyen.com/development-resources/refusal-reasons), by
 * `refusalReasonCode`, as paylink's failure codes. A code not listed is `card_declined`.
 * `reason` is Adyen's `refusalReason` text, which is all a failed AUTHORISATION webhook
 * carries (its `reason` field), so the webhook maps through the same rows.
 */
export const REFUSALS: Record<string, { reason: string; failureCode: ProcessorFailure }> = {
  '2': { reason: 'Refused', failureCode: 'card_declined' },
  '3': { reason: 'Referral', failureCode: 'card_declined' },
  // The acquirer failed, not the card.
  '4': { reason: 'Acquirer Error', failureCode: 'processing_error' },
  // "Blocked, therefore unusable": the issuer has stopped the card, which is what a lost or
  // stolen card is to the shopper (use another card). paylink has no closer code.
  '5': { reason: 'Blocked Card', failureCode: 'lost_or_stolen' },
  '6': { reason: 'Expired Card', failureCode: 'expired_card' },
  // An amount mismatch in processing: nothing the shopper did.
  '7': { reason: 'Invalid Amount', failureCode: 'processing_error' },
  '8': { reason: 'Invalid Card Number', failureCode: 'incorrect_number' },
  // The issuer could not be reached: a later try may pass.
  '9': { reason: 'Issuer Unavailable', failureCode: 'processing_error' },
  '10': { reason: 'Not supported', failureCode: 'card_declined' },
  '11': { reason: '3D Not Authenticated', failureCode: 'authentication_failed' },
  '12': { reason: 'Not enough balance', failureCode: 'insufficient_funds' },
  '14': { reason: 'Acquirer Fraud', failureCode: 'fraudulent' },
  '15': { reason: 'Cancelled', failureCode: 'processing_error' },
  '16': { reason: 'Shopper Cancelled', failureCode: 'processing_error' },
  // 17 to 19 are PIN refusals (in person); online they can only mean a decline.
  '17': { reason: 'Invalid Pin', failureCode: 'card_declined' },
  '18': { reason: 'Pin tries exceeded', failureCode: 'card_declined' },
  '19': { reason: 'Pin validation not possible', failureCode: 'card_declined' },
  // Adyen's own risk checks scored the payment as fraud (before, and before or after, authorisation).
  '20': { reason: 'FRAUD', failureCode: 'fraudulent' },
  '21': { reason: 'Not Submitted', failureCode: 'processing_error' },
  '22': { reason: 'FRAUD-CANCELLED', failureCode: 'fraudulent' },
  '23': { reason: 'Transaction Not Permitted', failureCode: 'card_declined' },
  '24': { reason: 'CVC Declined', failureCode: 'incorrect_cvc' },
  '25': { reason: 'Restricted Card', failureCode: 'card_declined' },
  '26': { reason: 'Revocation Of Auth', failureCode: 'card_declined' },
  '27': { reason: 'Declined Non Generic', failureCode: 'card_declined' },
  '28': { reason: 'Withdrawal amount exceeded', failureCode: 'card_declined' },
  '29': { reason: 'Withdrawal count exceeded', failureCode: 'card_declined' },
  '31': { reason: 'Issuer Suspected Fraud', failureCode: 'fraudulent' },
  '32': { reason: 'AVS Declined', failureCode: 'card_declined' },
  // The issuer wants strong customer authentication (a soft decline), as Stripe's authentication_required.
  '38': { reason: 'Authentication required', failureCode: 'authentication_failed' },
  '42': { reason: '3DS Authentication Error', failureCode: 'authentication_failed' },
}

const REFUSAL_BY_REASON = new Map(Object.entries(REFUSALS).map(([code, row]) => [row.reason.toLowerCase(), code]))

/**
 * Adyen's validation `errorCode`s that are about the card the shopper typed, so the page can
 * say so; any other 4xx is `processing_error`. (docs.adyen.com/development-resources/error-codes)
 */
export const CARD_ERRORS: Record<string, ProcessorFailure> = {
  '101': 'incorrect_number', // Invalid card number
  '103': 'incorrect_cvc', // CVC is not the right length
}

/** Adyen's `errorCode` for "request already processed or in progress": the first may still land. */
const IN_PROGRESS = '704'
/** Adyen's `errorCode`s for a token or shopper it does not hold: a deleted card is gone already. */
export const TOKEN_GONE = new Set(['800', '803'])

type Failed = Extract<Outcome, { kind: 'failed' }>

/** A refusal as an outcome, by code when Adyen gave one, else by its reason text. */
function refusal(code: string | undefined, reason: string | undefined, processorRef?: string): Failed {
  const known = code && REFUSALS[code] ? code : reason ? REFUSAL_BY_REASON.get(reason.toLowerCase()) : undefined
  return {
    kind: 'failed',
    ...(processorRef ? { processorRef } : {}),
    failureCode: (known && REFUSALS[known]?.failureCode) || 'card_declined',
    processorCode: code ?? known ?? 'refused',
    processorMessage: reason || null,
  }
}

export const cancelled = (processorRef?: string | null): Failed => ({
  kind: 'failed',
  ...(processorRef ? { processorRef } : {}),
  failureCode: 'processing_error',
  processorCode: 'cancelled',
  processorMessage: null,
})

/** The token a stored card got, from a payment's (or a webhook's) additionalData. */
function tokenIn(data: Record<string, string | undefined> | undefined): string | undefined {
  return data?.['tokenization.storedPaymentMethodId'] || data?.['recurring.recurringDetailReference'] || undefined
}

function shopperIn(data: Record<string, string | undefined> | undefined): string | undefined {
  return data?.['tokenization.shopperReference'] || data?.['recurring.shopperReference'] || data?.shopperReference || undefined
}

/**
 * A `/payments` or `/payments/details` answer as an outcome. `shopperReference` is given when
 * the payment was asked to store the card (a token in the answer is then the new saved card).
 */
export function outcomeOfPayment(res: PaymentResponse | PaymentDetailsResponse, saving: { shopperReference?: string }): Outcome {
  const psp = res.pspReference
  if (!psp) return { kind: 'unknown', reason: `resultCode ${res.resultCode ?? 'none'} without a pspReference` }
  switch (res.resultCode) {
    case 'Authorised': {
      const token = tokenIn(res.additionalData)
      const customerRef = saving.shopperReference ?? shopperIn(res.additionalData)
      // No token yet (Adyen may send it later, by webhook): the card shows once it comes.
      const savedCard: SavedCardToken | undefined = token ? { token, ...(customerRef ? { customerRef } : {}) } : undefined
      return { kind: 'succeeded', processorRef: psp, ...(savedCard ? { savedCard } : {}) }
    }
    case 'Refused':
      return refusal(res.refusalReasonCode, res.refusalReason, psp)
    case 'Cancelled':
      return res.refusalReasonCode || res.refusalReason ? refusal(res.refusalReasonCode, res.refusalReason, psp) : cancelled(psp)
    case 'RedirectShopper': {
      const action = res.action as Types.checkout.CheckoutRedirectAction | null | undefined
      if (action?.type !== 'redirect' || !action.url) return { kind: 'unknown', processorRef: psp, reason: `action ${action?.type ?? 'none'}` }
      const method = action.method?.toUpperCase() === 'POST' ? 'POST' : 'GET'
      const fields = action.data && Object.keys(action.data).length ? { fields: { ...action.data } } : {}
      return { kind: 'requires_action', processorRef: psp, redirect: { url: action.url, method, ...fields } }
    }
    case 'Received':
    case 'Pending':
      return { kind: 'pending', processorRef: psp }
    case 'Error':
      return { kind: 'unknown', processorRef: psp, reason: `resultCode Error (${res.refusalReasonCode ?? 'no code'})` }
    // Steps paylink never asks for (native 3DS2, partial authorisation, vouchers): it cannot finish them.
    case 'IdentifyShopper':
    case 'ChallengeShopper':
    case 'PresentToShopper':
    case 'PartiallyAuthorised':
    case 'AuthenticationFinished':
    case 'AuthenticationNotRequired':
      return { kind: 'unknown', processorRef: psp, reason: `resultCode ${res.resultCode}` }
    default:
      // A status Adyen may add later: wait for its word rather than guess.
      return { kind: 'pending', processorRef: psp }
  }
}

type AdyenError = InstanceType<typeof HttpClientException>

/**
 * Whether Adyen refused the request itself (an HTTP 4xx with an answer: nothing was done),
 * as opposed to not answering or answering "in progress".
 */
export function isDefiniteRefusal(err: unknown): err is AdyenError {
  if (!(err instanceof HttpClientException) || err instanceof AdyenConnectionError) return false
  const status = err.statusCode
  return status >= 400 && status < 500 && status !== 409 && errorCodeOf(err) !== IN_PROGRESS
}

export const errorCodeOf = (err: AdyenError) => err.errorCode ?? err.apiError?.errorCode

/** Why a call has no outcome, from codes only (never a message: it may quote the request). */
export function unknownReason(err: unknown): string {
  if (err instanceof AdyenConnectionError) return err.code
  if (err instanceof HttpClientException) return `http ${err.statusCode}${errorCodeOf(err) ? ` ${errorCodeOf(err)}` : ''}`
  return err instanceof Error ? err.constructor.name : 'error'
}

/** A call's failure as an outcome: a definite refusal, or unknown. */
export function failureOf(err: unknown, processorRef?: string): Outcome {
  if (isDefiniteRefusal(err)) {
    const code = errorCodeOf(err)
    return {
      kind: 'failed',
      ...(processorRef ? { processorRef } : {}),
      failureCode: (code && CARD_ERRORS[code]) || 'processing_error',
      processorCode: code ?? `http_${err.statusCode}`,
      processorMessage: err.apiError?.message ?? null,
    }
  }
  return { kind: 'unknown', ...(processorRef ? { processorRef } : {}), reason: unknownReason(err) }
}

/** Adyen wants a two-digit month and a four-digit year, as strings. */
export const expiry = (month: number, year: number) => ({
  expiryMonth: String(month).padStart(2, '0'),
  expiryYear: String(year < 100 ? 2000 + year : year),
})

/**
 * What the browser told paylink, for 3-D Secure. paylink sends the shopper to Adyen's
 * redirect page, which collects the rest of the device data itself; userAgent and
 * acceptHeader are what Adyen asks for to route a payment to a redirect.
 */
export function browserInfo(browser: AuthorizeInput['browser']): { browserInfo?: PaymentRequest['browserInfo'] } {
  if (!browser?.userAgent || !browser.acceptHeader) return {}
  const info = { userAgent: browser.userAgent, acceptHeader: browser.acceptHeader, ...(browser.language ? { language: browser.language } : {}) }
  return { browserInfo: info as Types.checkout.BrowserInfo }
}

/** A notification item with the fields the HMAC covers, before its signature is checked. */
export function isItem(item: unknown): item is NotificationItem {
  if (typeof item !== 'object' || item === null) return false
  const i = item as Record<string, unknown>
  const amount = i.amount as Record<string, unknown> | undefined
  return (
    typeof i.pspReference === 'string' &&
    typeof i.eventCode === 'string' &&
    typeof i.success === 'string' &&
    typeof i.merchantAccountCode === 'string' &&
    typeof amount === 'object' &&
    amount !== null &&
    typeof i.additionalData === 'object' &&
    i.additionalData !== null
  )
}

/**
 * A verified notification item as a processor event. Adyen gives no event id and may send
 * the same notification again, so an event's id is `pspReference:eventCode:success`: a
 * resend is the same event (kept once), while a REFUND and the REFUND_FAILED that follows
 * it stay two.
 */
export function eventOfItem(item: NotificationItem, merchantAccount: string): ProcessorEvent {
  const id = `${item.pspReference}:${item.eventCode}:${item.success}`
  // Signed, but for another merchant account of the company: not this account's business.
  if (item.merchantAccountCode !== merchantAccount) return { id, type: 'ignored' }
  const success = item.success === 'true'
  const data = item.additionalData as Record<string, string | undefined> | undefined
  const reference = item.merchantReference || null
  switch (item.eventCode) {
    case 'AUTHORISATION': {
      if (!success) return { id, type: 'payment', key: reference, processorRef: item.pspReference, outcome: refusal(data?.refusalReasonCode, item.reason, item.pspReference) }
      const token = tokenIn(data)
      const customerRef = shopperIn(data)
      const savedCard = token ? { savedCard: { token, ...(customerRef ? { customerRef } : {}) } } : {}
      return { id, type: 'payment', key: reference, processorRef: item.pspReference, outcome: { kind: 'succeeded', processorRef: item.pspReference, ...savedCard } }
    }
    case 'CANCELLATION':
    case 'TECHNICAL_CANCEL':
      // A cancel that did not happen changes nothing: the AUTHORISATION says what stands.
      if (!success) return { id, type: 'ignored' }
      return { id, type: 'payment', key: reference, processorRef: item.originalReference ?? null, outcome: cancelled(item.originalReference) }
    case 'REFUND':
      return {
        id,
        type: 'refund',
        refundKey: reference,
        processorRef: item.pspReference,
        outcome: success
          ? { kind: 'succeeded', processorRef: item.pspReference }
          : { kind: 'failed', processorRef: item.pspReference, failureCode: 'processing_error', processorCode: 'refund_refused', processorMessage: item.reason || null },
      }
    case 'REFUND_FAILED':
      // The scheme turned down a refund Adyen had accepted.
      return {
        id,
        type: 'refund',
        refundKey: reference,
        processorRef: item.pspReference,
        outcome: { kind: 'failed', processorRef: item.pspReference, failureCode: 'processing_error', processorCode: 'refund_failed', processorMessage: item.reason || null },
      }
    case 'RECURRING_CONTRACT': {
      // The token: in additionalData, else the event's pspReference (Adyen's recurringDetailReference).
      const token = tokenIn(data) ?? item.pspReference
      if (!success || !token) return { id, type: 'ignored' }
      const customerRef = shopperIn(data)
      return { id, type: 'saved_card', key: reference, savedCard: { token, ...(customerRef ? { customerRef } : {}) } }
    }
    default:
      return { id, type: 'ignored' }
  }
}
