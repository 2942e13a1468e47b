/** The payment intent as the core sees it, and how a database row becomes one. */
import type { CurrencyCode } from '../shared/currencies.js'
import type { AccountId, PaymentIntentId, TenantId, UserId } from '../shared/ids.js'

export type IntentStatus = 'pending' | 'processing' | 'succeeded' | 'failed'

export type FailureCode =
  | 'card_declined'
  | 'insufficient_funds'
  | 'expired_card'
  | 'incorrect_cvc'
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
  status: IntentStatus
  failureCode: FailureCode | null
  failureMessage: string | null
  card: { brand: string; last4: string; expMonth: number; expYear: number } | null
  savedCardId: string | null
  expiresAt: Date
  createdAt: Date
  updatedAt: Date
}

export const INTENT_COLUMNS =
  'tenant_id, id, user_id, account_id, amount_minor, currency, status, failure_code, failure_message, card_brand, card_last4, card_exp_month, card_exp_year, saved_card_id, expires_at, created_at, updated_at'

export function intentFrom(r: Record<string, unknown>): PaymentIntent {
  return {
    id: r.id as PaymentIntentId,
    tenantId: r.tenant_id as TenantId,
    userId: r.user_id as UserId,
    accountId: r.account_id as AccountId,
    amountMinor: Number(r.amount_minor),
    currency: r.currency as CurrencyCode,
    status: r.status as IntentStatus,
    failureCode: (r.failure_code as FailureCode | null) ?? null,
    failureMessage: (r.failure_message as string | null) ?? null,
    card: r.card_brand
      ? { brand: r.card_brand as string, last4: r.card_last4 as string, expMonth: r.card_exp_month as number, expYear: r.card_exp_year as number }
      : null,
    savedCardId: (r.saved_card_id as string | null) ?? null,
    expiresAt: new Date(r.expires_at as Date),
    createdAt: new Date(r.created_at as Date),
    updatedAt: new Date(r.updated_at as Date),
  }
}
