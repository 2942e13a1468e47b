/** The public JSON of payment intents, their links and the page's payment results. */
import type { PaymentIntent } from '../../domain/payments/intents.js'
import type { Refund } from '../../domain/payments/refunds.js'
import type { Confirmation, MintedLink } from '../../domain/payments/model.js'
import { isFinal, publicStatus } from '../../domain/payments/state.js'
import { formatMajor } from '../../domain/shared/money.js'
import type { PaymentResult } from '../schemas/objects.js'

export const intentJson = (i: PaymentIntent) => ({
  id: i.id,
  object: 'payment_intent' as const,
  user_id: i.userId,
  card_processing_id: i.accountId,
  amount: formatMajor(i.amountMinor, i.currency),
  amount_minor: i.amountMinor,
  currency: i.currency,
  status: publicStatus(i.status),
  failure_code: i.failureCode,
  failure_message: i.failureMessage,
  amount_refunded: formatMajor(i.amountRefundedMinor, i.currency),
  amount_refunded_minor: i.amountRefundedMinor,
  processor_code: i.processorCode,
  processor_message: i.processorMessage,
  card: i.card ? { brand: i.card.brand, last4: i.card.last4, exp_month: i.card.expMonth, exp_year: i.card.expYear } : null,
  saved_card_id: i.savedCardId,
  expires_at: i.expiresAt.toISOString(),
  created_at: i.createdAt.toISOString(),
  updated_at: i.updatedAt.toISOString(),
})

export const paymentLinkJson = (l: MintedLink) => ({
  payment_intent_id: l.paymentIntentId,
  pay_url: l.payUrl,
  expires_at: l.expiresAt,
})

/** What the page's script is told: the outcome, or the 3-D Secure to go through (a challenge in the frame, or a redirect); a payment not yet final is `processing`. */
export function paymentResultJson(c: Confirmation): PaymentResult {
  const i = c.intent
  const card = c.challenge?.card ?? (i.card ? { brand: i.card.brand, last4: i.card.last4 } : null)
  const base = { payment_intent_id: i.id, card, saved_card_id: c.challenge?.savedCardId ?? i.savedCardId }
  if (c.challenge) return { ...base, status: 'requires_authentication', failure_code: null, failure_message: null, challenge: c.challenge.prompt }
  if (c.redirect) return { ...base, status: 'requires_authentication', failure_code: null, failure_message: null, redirect: { url: c.redirect.url, method: c.redirect.method } }
  return { ...base, status: isFinal(i.status) ? i.status : 'processing', failure_code: i.failureCode, failure_message: i.failureMessage }
}

export const refundJson = (r: Refund) => ({
  id: r.id,
  object: 'refund' as const,
  payment_intent_id: r.paymentIntentId,
  amount: formatMajor(r.amountMinor, r.currency),
  amount_minor: r.amountMinor,
  currency: r.currency,
  status: r.status,
  failure_code: r.failureCode,
  reason: r.reason,
  created_at: r.createdAt.toISOString(),
  updated_at: r.updatedAt.toISOString(),
})
