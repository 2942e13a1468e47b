/** Core objects → the public JSON of the API. Nothing reaches a client except through here. */
import type { PaymentIntent } from '../domain/payments/intents.js'
import type { User } from '../domain/users/service.js'
import type { UserAccount } from '../domain/tenants/card-processing.js'
import { formatMajor } from '../domain/shared/money.js'

export const userJson = (u: User) => ({
  id: u.id,
  object: 'user' as const,
  external_id: u.externalId,
  email: u.email,
  name: u.name,
  created_at: u.createdAt.toISOString(),
})

export const userAccountJson = (a: UserAccount) => ({
  card_processing_id: a.id,
  object: 'card_processing_account' as const,
  name: a.name,
  processor: a.processor,
  currencies: a.currencies,
  status: a.status,
  is_default: a.isDefault,
  created_at: a.createdAt.toISOString(),
})

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
