/**
 * The transactional outbox. When an intent becomes `succeeded` or `failed`, its event and
 * one delivery per enabled endpoint are written by the same transaction that changes the
 * intent: the outcome and its webhook commit together or not at all. The body is stored as
 * the exact bytes every attempt will send and sign.
 */
import type { Repositories } from '../storage/store.js'
import type { PaymentIntent } from '../domain/payments/intents.js'
import type { Refund } from '../domain/payments/refunds.js'
import { outcomeEvent, refundOutcomeEvent } from '../domain/webhooks/events.js'

/** Writes the event of a final intent and its deliveries, in the caller's transaction. */
export async function writeOutcomeEvent(tx: Repositories, intent: PaymentIntent, at: Date): Promise<void> {
  const event = outcomeEvent(intent, at)
  if (event) await tx.webhooks.writeEvent(intent.tenantId, event)
}

/** Writes the event of a settled refund and its deliveries, in the caller's transaction. */
export async function writeRefundEvent(tx: Repositories, refund: Refund, at: Date): Promise<void> {
  const intent = await tx.intents.get(refund.tenantId, refund.paymentIntentId)
  const event = intent && refundOutcomeEvent(refund, intent.userId, at)
  if (event) await tx.webhooks.writeEvent(refund.tenantId, event)
}
