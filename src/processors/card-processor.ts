/**
 * The contract every card processor adapter fulfils. The core calls only this interface
 * (through the registry), never an adapter. An adapter owns its wire types and maps its
 * processor's statuses to these outcomes; anything it cannot map is `processing_error`
 * for a failed call, never a success.
 */
import type { FailureCode } from '../domain/payments/intents.js'

/** A card as typed into the page. Lives only in memory for the length of one charge call. */
export interface CardInput {
  number: string
  expMonth: number
  expYear: number
  cvc: string
  name?: string
}

export interface CardDetails {
  brand: string
  last4: string
  expMonth: number
  expYear: number
}

export interface ChargeInput {
  /** The payment intent id: the processor charges at most once per key. */
  idempotencyKey: string
  amountMinor: number
  currency: string
  /** Exactly one of `card` and `savedToken`. */
  card?: CardInput
  savedToken?: string
  /** Ask for a reusable token when the charge succeeds. */
  saveCard: boolean
  /** The account's own configuration (credentials), decrypted. */
  accountConfig: Record<string, unknown>
}

/** A 3-D Secure challenge the page shows in the frame. */
export interface Challenge {
  id: string
  /** What the cardholder is asked, in plain words. */
  prompt: string
}

export type ChargeOutcome = 'succeeded' | 'failed' | 'requires_authentication'

export interface ChargeResult {
  outcome: ChargeOutcome
  /** Set when the outcome is `failed`. */
  failureCode?: Exclude<FailureCode, 'link_expired'>
  /** The processor's own id for the charge. */
  reference: string
  /** A reusable token, when `saveCard` was asked and the charge succeeded. */
  savedToken?: string
  challenge?: Challenge
  card: CardDetails
}

export interface CardProcessor {
  readonly name: string
  /** Enrolments in accounts of this processor are approved at once (the sandbox). */
  readonly autoApprove: boolean
  charge(input: ChargeInput): Promise<ChargeResult>
  /** Finishes a charge that asked for authentication; `answer` is what the cardholder chose. */
  completeAuthentication(idempotencyKey: string, answer: 'approve' | 'decline'): Promise<ChargeResult>
  /** The latest outcome for an idempotency key, or undefined when the processor never saw it. */
  retrieve(idempotencyKey: string): Promise<ChargeResult | undefined>
  /**
   * Optional: makes sure no charge will ever be made under this key. Returns the charge
   * if one was made first (then it stands), undefined when the key is now closed. Recovery
   * calls it before failing a payment the processor never saw, so a charge request still
   * in flight cannot land after the payment was failed. Without it, recovery relies on
   * PROCESSING_RECOVERY_SECONDS being longer than any charge call.
   */
  void?(idempotencyKey: string): Promise<ChargeResult | undefined>
}
