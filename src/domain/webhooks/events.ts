/**
 * The events paylink sends (SPEC "Webhooks"): an intent's final outcome. The body is made
 * once, when the outcome commits, and kept as the exact bytes every attempt sends and signs:
 * it is the webhook's public contract, like an API answer, and changes only with the SPEC.
 */
import { newId } from '../shared/ids.js'
import { formatMajor } from '../shared/money.js'
import type { PaymentIntent } from '../payments/intents.js'
import type { Refund } from '../payments/refunds.js'
import { isFinal } from '../payments/state.js'
import type { NewEvent } from './model.js'

export type EventType = 'payment_intent.succeeded' | 'payment_intent.failed' | 'refund.succeeded' | 'refund.failed'

/** The webhook body of an intent's final outcome. */
export function eventBody(type: EventType, intent: PaymentIntent, at: Date) {
  return {
    type,
    timestamp: at.toISOString(),
    data: {
      payment_intent_id: intent.id,
      user_id: intent.userId,
      card_processing_id: intent.accountId,
      amount: formatMajor(intent.amountMinor, intent.currency),
      amount_minor: intent.amountMinor,
      currency: intent.currency,
      status: intent.status,
      failure_code: intent.failureCode,
      amount_refunded: formatMajor(intent.amountRefundedMinor, intent.currency),
      amount_refunded_minor: intent.amountRefundedMinor,
      processor_code: intent.processorCode,
      processor_message: intent.processorMessage,
      card: intent.card ? { brand: intent.card.brand, last4: intent.card.last4 } : null,
      saved_card_id: intent.savedCardId,
      created_at: intent.createdAt.toISOString(),
      updated_at: intent.updatedAt.toISOString(),
    },
  }
}

/** The event of an intent's outcome at `at`, or undefined while the intent is not final. */
export function outcomeEvent(intent: PaymentIntent, at: Date): NewEvent | undefined {
  if (!isFinal(intent.status)) return undefined
  const type: EventType = intent.status === 'succeeded' ? 'payment_intent.succeeded' : 'payment_intent.failed'
  return { id: newId('event'), type, paymentIntentId: intent.id, body: JSON.stringify(eventBody(type, intent, at)), createdAt: at }
}

/** The webhook body of a refund's outcome: the refund object and the intent's user. */
export function refundEventBody(type: EventType, refund: Refund, userId: string, at: Date) {
  return {
    type,
    timestamp: at.toISOString(),
    data: {
      id: refund.id,
      object: 'refund',
      payment_intent_id: refund.paymentIntentId,
      user_id: userId,
      amount: formatMajor(refund.amountMinor, refund.currency),
      amount_minor: refund.amountMinor,
      currency: refund.currency,
      status: refund.status,
      failure_code: refund.failureCode,
      reason: refund.reason,
      created_at: refund.createdAt.toISOString(),
      updated_at: refund.updatedAt.toISOString(),
    },
  }
}

/** The event of a refund's outcome at `at`, or undefined while it is pending. */
export function refundOutcomeEvent(refund: Refund, userId: string, at: Date): NewEvent | undefined {
  if (refund.status === 'pending') return undefined
  const type: EventType = refund.status === 'succeeded' ? 'refund.succeeded' : 'refund.failed'
  return { id: newId('event'), type, paymentIntentId: refund.paymentIntentId, refundId: refund.id, body: JSON.stringify(refundEventBody(type, refund, userId, at)), createdAt: at }
}
