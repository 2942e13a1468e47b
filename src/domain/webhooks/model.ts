/**
 * The webhook objects: endpoints, the event log, and the outbox of deliveries with every
 * attempt. The storage layer reads and writes these; the HTTP layer presents them.
 */
import type { DeliveryId, EventId, PaymentIntentId, TenantId, WebhookEndpointId, RefundId } from '../shared/ids.js'

export type EndpointStatus = 'enabled' | 'disabled'

/** Where a tenant's webhooks go. Its secrets never leave the storage layer unsealed. */
export interface Endpoint {
  id: WebhookEndpointId
  url: string
  description: string | null
  status: EndpointStatus
  disabledReason: string | null
  createdAt: Date
  updatedAt: Date
}

/** An event as it was written: `body` is what every delivery of it sends. */
export interface EventRecord {
  id: EventId
  type: string
  paymentIntentId: PaymentIntentId | null
  body: unknown
  createdAt: Date
}

/** A new event and the exact bytes every attempt will send and sign. */
export interface NewEvent {
  id: EventId
  type: string
  paymentIntentId: PaymentIntentId | null
  /** A refund's event: one per refund and outcome (a payment's: one per intent and outcome). */
  refundId?: RefundId
  body: string
  createdAt: Date
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed'

/** One HTTP attempt of a delivery. */
export interface DeliveryAttempt {
  attempt: number
  attemptedAt: Date
  statusCode: number | null
  durationMs: number
  error: string | null
}

/** One event on its way to one endpoint, with every attempt so far, oldest first. */
export interface Delivery {
  id: DeliveryId
  eventId: EventId
  endpointId: WebhookEndpointId
  status: DeliveryStatus
  attempts: number
  nextAttemptAt: Date
  lastStatusCode: number | null
  lastError: string | null
  attemptLog: DeliveryAttempt[]
  createdAt: Date
  updatedAt: Date
}

/** A delivery a worker has leased; `attempts` already counts the attempt about to be made. */
export interface ClaimedDelivery {
  tenantId: TenantId
  id: DeliveryId
  eventId: EventId
  endpointId: WebhookEndpointId
  attempts: number
}

/** What one attempt needs: the event's bytes and where and with which secrets to send them. */
export interface DeliveryTarget {
  body: string
  eventCreatedAt: Date
  url: string
  endpointStatus: EndpointStatus
  endpointDeleted: boolean
  /** Sealed with `secretContext`; the previous one while a rotation's overlap lasts. */
  sealedSecret: string
  sealedPreviousSecret: string | null
  previousSecretExpiresAt: Date | null
}
