/** The payment intent as the core sees it. Its states and their transitions: ./state.ts. */
import type { CurrencyCode } from '../shared/currencies.js'
import type { AccountId, PaymentIntentId, TenantId, UserId } from '../shared/ids.js'
import type { IntentState } from './state.js'

export type { IntentState, IntentStatus } from './state.js'

export type FailureCode =
  | 'card_declined'
  | 'insufficient_funds'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'incorrect_number'
  | 'lost_or_stolen'
  | 'fraudulent'
  | 'processing_error'
  | 'authentication_failed'
  | 'link_expired'

export interface PaymentIntent {
  id: PaymentIntentId
  tenantId: TenantId
  userId: UserId
  accountId: AccountId
  amountMinor: number
  currency: CurrencyCode
  /** What succeeded refunds have given back, in minor units. */
  amountRefundedMinor: number
  /** The state machine's state; `publicStatus(status)` is what a tenant sees. */
  status: IntentState
  failureCode: FailureCode | null
  failureMessage: string | null
  /** The processor's own code and message for a failure, for the tenant; never shown to the shopper. */
  processorCode: string | null
  processorMessage: string | null
  card: { brand: string; last4: string; expMonth: number; expYear: number } | null
  savedCardId: string | null
  /** The processor's id for the attempt, once known (internal: not shown to tenants). */
  processorRef: string | null
  expiresAt: Date
  createdAt: Date
  updatedAt: Date
}
