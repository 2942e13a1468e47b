/**
 * The transactional outbox. When an intent becomes `succeeded` or `failed`, its event and
 * one delivery per enabled endpoint are written by the same transaction that changes the
 * intent, in one statement: the outcome and its webhook commit together or not at all.
 * The body is stored as the exact bytes every attempt will send and sign.
 */
import type { Queryable } from '../storage/db.js'
import { sql } from '../storage/db.js'
import { newId } from '../domain/shared/ids.js'
import type { PaymentIntent } from '../domain/payments/intents.js'
import { eventBody, type EventType } from '../domain/webhooks/events.js'

const WRITE_EVENT = sql(
  'outbox_write_event',
  `WITH ev AS (
     INSERT INTO events (tenant_id, id, type, payment_intent_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, payment_intent_id, type) WHERE payment_intent_id IS NOT NULL DO NOTHING
     RETURNING tenant_id, id, created_at
   )
   INSERT INTO deliveries (tenant_id, id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at)
   SELECT ev.tenant_id, 'dlv_' || replace(gen_random_uuid()::text, '-', ''), ev.id, e.id, 'pending', 0, ev.created_at, ev.created_at, ev.created_at
     FROM ev JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.status = 'enabled' AND e.deleted_at IS NULL`,
)

/** Writes the event of a final intent and its deliveries, in the caller's transaction. */
export async function writeOutcomeEvent(tx: Queryable, intent: PaymentIntent, at: Date): Promise<void> {
  if (intent.status !== 'succeeded' && intent.status !== 'failed') return
  const type: EventType = intent.status === 'succeeded' ? 'payment_intent.succeeded' : 'payment_intent.failed'
  await tx.query(WRITE_EVENT, [intent.tenantId, newId('event'), type, intent.id, JSON.stringify(eventBody(type, intent, at)), at])
}
