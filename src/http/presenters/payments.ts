/** The public JSON of payment intents. */
import type { PaymentIntent } from '../../domain/payments/intents.js'
import { formatMajor } from '../../domain/shared/money.js'

export const intentJson = (i: PaymentIntent) => ({
  id: i.id,
  object: 'payment_intent' as const,
  user_id: i.userId,
  card_processing_id: i.accountId,
  amount: formatMajor(i.amountMinor, i.currency),
  amount_minor: i.amountMinor,
  currency: i.currency,
  status: i.status,
  failure_code: i.failureCode,
  failure_message: i.failureMessage,
  card: i.card ? { brand: i.card.brand, last4: i.card.last4, exp_month: i.card.expMonth, exp_year: i.card.expYear } : null,
  saved_card_id: i.savedCardId,
  expires_at: i.expiresAt.toISOString(),
  created_at: i.createdAt.toISOString(),
  updated_at: i.updatedAt.toISOString(),
})
