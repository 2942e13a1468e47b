/**
 * The contract every card processor adapter fulfils (SPEC "Card processors"). The core calls
 * only this interface, through the registry, never an adapter. An adapter owns its wire
 * types and maps its processor's answers onto these outcomes with tables of its own.
 *
 * - Every call carries an attempt reference: `key` is the payment intent id (the merchant
 *   reference and the root of every idempotency key the adapter derives), `processorRef`
 *   the processor's own id once paylink has stored it.
 * - One adapter instance per account configuration (credentials differ per account); an
 *   adapter never sees paylink's database and keeps no state but what the processor keeps.
 * - A throw, a timeout, a 5xx or a dropped connection is `unknown`, never `failed`: the core
 *   turns any throw into `unknown` and recovery finds out (`lookup`, the processor's
 *   webhook, or `cancel`).
 */
import type { FailureCode } from '../domain/payments/intents.js'

/** A card as typed into the page. Lives only in memory for the length of one processor call. */
export interface CardInput {
  number: string
  expMonth: number
  expYear: number
  cvc: string
  name?: string
}

/** What may be shown of a card: never its number or CVC. */
export interface CardDetails {
  brand: string
  last4: string
  expMonth: number
  expYear: number
}

/** Which attempt a call is about. */
export interface AttemptRef {
  /** The payment intent id. */
  key: string
  /** The processor's id for the attempt (a Stripe PaymentIntent, an Adyen pspReference), once known. */
  processorRef?: string
}

export interface Attempt extends AttemptRef {
  /**
   * Stores the processor's id for this attempt before the card is sent, where the processor
   * gives one first (Stripe: the PaymentIntent is created without the card). Resolves once
   * it is committed; the adapter must not send the card before.
   */
  remember(processorRef: string): Promise<void>
}

/** The user a card is saved for, at this account (a Stripe Customer, an Adyen shopperReference). */
export interface SaveFor {
  /** Stable per (tenant, user, account): `usr_…` scoped by the tenant. */
  shopperReference: string
  /** The processor's customer id for this shopper at this account, when paylink has one. */
  customerRef?: string
}

/** What an attempt is for, known before the card: what `prepare` may send. */
export interface PrepareInput {
  amountMinor: number
  currency: string
}

export interface AuthorizeInput {
  /** Exactly one of `card` and `savedCard`. */
  card?: CardInput
  savedCard?: { token: string; customerRef?: string }
  amountMinor: number
  currency: string
  /** Ask for a reusable token when the charge succeeds. */
  saveFor?: SaveFor
  /** Where the processor sends the shopper back after a redirect (3-D Secure). */
  returnUrl: string
  /** What the browser told us, for 3-D Secure (origin, user agent, language). */
  browser?: { userAgent?: string; acceptHeader?: string; language?: string; origin?: string }
}

/** A 3-D Secure challenge the page shows in the frame (the sandbox's). */
export interface Challenge {
  id: string
  /** What the cardholder is asked, in plain words. */
  prompt: string
}

/** Where the frame goes for 3-D Secure: a GET to `url`, or a POST of `fields` to it. */
export interface Redirect {
  url: string
  method: 'GET' | 'POST'
  fields?: Record<string, string>
}

/** The paylink failure codes a processor can answer (`link_expired` is paylink's own). */
export type ProcessorFailure = Exclude<FailureCode, 'link_expired'>

/** The processor's answer about an attempt. */
export type Outcome =
  | { kind: 'succeeded'; processorRef: string; card?: CardDetails; savedCard?: SavedCardToken }
  | { kind: 'failed'; processorRef?: string; failureCode: ProcessorFailure; processorCode: string | null; processorMessage: string | null; card?: CardDetails }
  | { kind: 'requires_action'; processorRef: string; redirect: Redirect; card?: CardDetails }
  | { kind: 'challenge'; processorRef: string; challenge: Challenge; card?: CardDetails }
  /** The processor will say later, by webhook or lookup. */
  | { kind: 'pending'; processorRef?: string; card?: CardDetails }
  /** Nobody can tell yet (a timeout, a 5xx, a lost connection): never shown as a failure. */
  | { kind: 'unknown'; processorRef?: string; reason: string }

export interface SavedCardToken {
  token: string
  /** The processor's customer id the token belongs to (Stripe), kept with the card. */
  customerRef?: string
}

/** What came back with the shopper from a redirect: the query string or form fields, as sent. */
export type Returned = Record<string, string>

export type RefundOutcome =
  | { kind: 'succeeded'; processorRef: string }
  | { kind: 'pending'; processorRef?: string }
  | { kind: 'failed'; processorRef?: string; failureCode: ProcessorFailure; processorCode: string | null; processorMessage: string | null }
  | { kind: 'unknown'; reason: string }

/** A verified event from the processor's webhook. */
export type ProcessorEvent =
  | { id: string; type: 'payment'; key: string | null; processorRef: string | null; outcome: Outcome }
  | { id: string; type: 'refund'; refundKey: string | null; processorRef: string | null; outcome: RefundOutcome }
  /** A saved card's token that arrived after the payment (Adyen's stored payment method). */
  | { id: string; type: 'saved_card'; key: string | null; savedCard: SavedCardToken }
  | { id: string; type: 'ignored' }

export interface CardProcessor {
  readonly name: string
  /**
   * Optional: makes ready, before the shopper has typed a card, what an `authorize` of this
   * attempt would first ask the processor for without the card (Stripe: the PaymentIntent),
   * and answers its id. paylink calls it when the page opens, in the background, and stores
   * the id; `authorize` then gets it as `attempt.processorRef` and skips that step, so the
   * shopper's wait after Pay is one call to the processor, not two. It must be the very
   * request `authorize` would make (same idempotency key, same parameters), so that either
   * may run first, or both: the processor answers the second with the first's object.
   * Nothing is charged by it. A throw is ignored (`authorize` makes the request itself).
   */
  prepare?(ref: AttemptRef, input: PrepareInput): Promise<string>
  /** Charges once per attempt key, however often it is asked. */
  authorize(attempt: Attempt, input: AuthorizeInput): Promise<Outcome>
  /**
   * Finishes an attempt that needed the shopper: the sandbox's challenge answer
   * (`{answer: 'approve' | 'decline'}`) or what a redirect returned with.
   */
  completeAction(ref: AttemptRef, returned: Returned): Promise<Outcome>
  /** The processor's latest answer for the attempt; `not_found` when it never saw it. */
  lookup(ref: AttemptRef): Promise<Outcome | { kind: 'not_found' }>
  /**
   * Closes an attempt whose outcome will never be known otherwise, so that nothing can be
   * charged under it later. Answers what stands: `failed` when it is closed, `succeeded`
   * when a charge got there first, `unknown` when the processor could not be asked.
   */
  cancel(ref: AttemptRef): Promise<Outcome>
  /** Gives money back: `refundKey` (the refund id) is the idempotency key. */
  refund(input: { ref: AttemptRef; refundKey: string; amountMinor: number; currency: string }): Promise<RefundOutcome>
  /** Verifies and reads a webhook from the processor; a bad signature throws `WebhookSignatureError`. */
  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): Promise<ProcessorEvent[]>
  deleteSavedCard(card: SavedCardToken & { shopperReference: string }): Promise<void>
  /** What the processor expects to read back from a webhook it sent (Adyen: `[accepted]`); the envelope otherwise. */
  readonly webhookAck?: { contentType: string; body: string }
}

/** A webhook whose signature does not verify: answered 400, nothing applied. */
export class WebhookSignatureError extends Error {}
