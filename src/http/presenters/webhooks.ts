/** The public JSON of webhook endpoints, events and deliveries. */
import type { Delivery, Endpoint, EventRecord } from '../../domain/webhooks/model.js'

export const endpointJson = (e: Endpoint) => ({
  id: e.id,
  object: 'webhook_endpoint' as const,
  url: e.url,
  description: e.description,
  status: e.status,
  disabled_reason: e.disabledReason,
  created_at: e.createdAt.toISOString(),
  updated_at: e.updatedAt.toISOString(),
})

/** Only on create and rotate: the secret is shown then and never again. */
export const endpointWithSecretJson = (e: Endpoint, secret: string) => ({ ...endpointJson(e), secret })

export const eventJson = (e: EventRecord) => ({
  id: e.id,
  object: 'event' as const,
  type: e.type,
  payment_intent_id: e.paymentIntentId,
  data: e.body,
  created_at: e.createdAt.toISOString(),
})

export const deliveryJson = (d: Delivery) => ({
  id: d.id,
  object: 'delivery' as const,
  event_id: d.eventId,
  endpoint_id: d.endpointId,
  status: d.status,
  attempts: d.attempts,
  // Only a pending delivery has a next attempt.
  next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  attempt_log: d.attemptLog.map((a) => ({
    attempt: a.attempt,
    attempted_at: a.attemptedAt.toISOString(),
    status_code: a.statusCode,
    duration_ms: a.durationMs,
    error: a.error,
  })),
  created_at: d.createdAt.toISOString(),
  updated_at: d.updatedAt.toISOString(),
})

export const redeliveryJson = (eventId: string, queued: number) => ({ event_id: eventId, deliveries_queued: queued })
