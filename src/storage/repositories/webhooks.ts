/**
 * Webhook endpoints, the event log and deliveries with their attempts (the outbox). An
 * outcome's event and its deliveries are written in the outcome's transaction; workers claim
 * due deliveries across tenants (`claimDueDeliveriesAcrossTenants`), every other finder is
 * scoped to one tenant.
 */
import type { Queryable } from '../db.js'
import { sql } from '../db.js'
import { newId, type DeliveryId, type EventId, type PaymentIntentId, type TenantId, type WebhookEndpointId } from '../../domain/shared/ids.js'
import type {
  ClaimedDelivery,
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  DeliveryTarget,
  Endpoint,
  EndpointStatus,
  EventRecord,
  NewEvent,
} from '../../domain/webhooks/model.js'

type Row = Record<string, unknown>

const ENDPOINT_COLUMNS = 'id, url, description, status, disabled_reason, created_at, updated_at'
const endpointFrom = (r: Row): Endpoint => ({
  id: r.id as WebhookEndpointId,
  url: r.url as string,
  description: (r.description as string | null) ?? null,
  status: r.status as EndpointStatus,
  disabledReason: (r.disabled_reason as string | null) ?? null,
  createdAt: new Date(r.created_at as Date),
  updatedAt: new Date(r.updated_at as Date),
})

const EVENT_COLUMNS = 'id, type, payment_intent_id, body, created_at'
const eventFrom = (r: Row): EventRecord => ({
  id: r.id as EventId,
  type: r.type as string,
  paymentIntentId: (r.payment_intent_id as PaymentIntentId | null) ?? null,
  body: JSON.parse(r.body as string),
  createdAt: new Date(r.created_at as Date),
})

const attemptFrom = (r: Row): DeliveryAttempt => ({
  attempt: r.attempt as number,
  attemptedAt: new Date(r.attempted_at as Date),
  statusCode: (r.status_code as number | null) ?? null,
  durationMs: r.duration_ms as number,
  error: (r.error as string | null) ?? null,
})

/**
 * Delivery ids are made here (ids never come from the database) before the statement knows
 * how many enabled endpoints there are: an outcome's statement brings this many, enough for
 * nearly every tenant, and a tenant with more gets the rest by a second statement.
 */
const DELIVERY_IDS_PER_EVENT = 4
const deliveryIds = (n: number) => Array.from({ length: n }, () => newId('delivery'))
/** Delivery ids for an outcome's event written in one statement: enough for most tenants' endpoints. */
export const eventDeliveryIds = () => deliveryIds(DELIVERY_IDS_PER_EVENT)

/**
 * The event and a delivery per enabled endpoint (the first DELIVERY_IDS_PER_EVENT, by id),
 * in one statement; nothing when the outcome's event was written before (one event per
 * intent and outcome, or per refund and outcome: `conflict` names the unique index).
 */
const writeEventSql = (name: string, conflict: string) =>
  sql(
    name,
    `WITH ev AS (
     INSERT INTO events (tenant_id, id, type, payment_intent_id, refund_id, body, created_at) VALUES ($1, $2, $3, $4, $8, $5, $6)
     ON CONFLICT ${conflict} DO NOTHING
     RETURNING tenant_id, id, created_at
   ), endpoint AS (
     SELECT e.id, row_number() OVER (ORDER BY e.id) AS n
       FROM ev JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.status = 'enabled' AND e.deleted_at IS NULL
   )
   INSERT INTO deliveries (tenant_id, id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at)
   SELECT ev.tenant_id, ($7::text[])[endpoint.n], ev.id, endpoint.id, 'pending', 0, ev.created_at, ev.created_at, ev.created_at
     FROM ev, endpoint WHERE endpoint.n <= cardinality($7::text[])`,
  )
const WRITE_EVENT = writeEventSql('outbox_write_event', '(tenant_id, payment_intent_id, type) WHERE payment_intent_id IS NOT NULL AND refund_id IS NULL')
const WRITE_REFUND_EVENT = writeEventSql('outbox_write_refund_event', '(tenant_id, refund_id, type) WHERE refund_id IS NOT NULL')
const QUEUE_DELIVERIES = `INSERT INTO deliveries (tenant_id, id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at)
  SELECT e.tenant_id, d.id, $2, e.id, 'pending', 0, $3, $3, $3
    FROM unnest($4::text[], $5::text[]) AS d (id, endpoint_id)
    JOIN webhook_endpoints e ON e.tenant_id = $1 AND e.id = d.endpoint_id AND e.status = 'enabled' AND e.deleted_at IS NULL`

const CLAIM = sql(
  'deliveries_claim',
  `WITH due AS (
     SELECT tenant_id, id FROM deliveries
      WHERE status = 'pending' AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until <= $1)
      ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
   )
   UPDATE deliveries d SET leased_until = $3, attempts = d.attempts + 1, updated_at = $1
     FROM due WHERE d.tenant_id = due.tenant_id AND d.id = due.id
   RETURNING d.tenant_id, d.id, d.event_id, d.endpoint_id, d.attempts`,
)
const TARGET = sql(
  'delivery_load',
  `SELECT ev.body, ev.created_at, e.url, e.status AS endpoint_status, e.deleted_at, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at
     FROM events ev JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.id = $3
    WHERE ev.tenant_id = $1 AND ev.id = $2`,
)
const RECORD_ATTEMPT = sql(
  'delivery_attempt_insert',
  `INSERT INTO delivery_attempts (tenant_id, id, delivery_id, event_id, endpoint_id, attempt, attempted_at, status_code, duration_ms, error)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
)
const SET_DELIVERY = sql(
  'delivery_set_state',
  `UPDATE deliveries SET status = $3, next_attempt_at = COALESCE($4, next_attempt_at), leased_until = NULL, last_status_code = $5, last_error = $6, updated_at = $7
    WHERE tenant_id = $1 AND id = $2`,
)
const CLEAR_FAILING = sql('endpoint_clear_failing', 'UPDATE webhook_endpoints SET failing_since = NULL WHERE tenant_id = $1 AND id = $2 AND failing_since IS NOT NULL')
const MARK_FAILING = sql(
  'endpoint_mark_failing',
  'UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $3) WHERE tenant_id = $1 AND id = $2 RETURNING failing_since',
)
const DISABLE = `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`

/** One attempt, as the worker records it. */
export interface AttemptRecord {
  id: string
  deliveryId: DeliveryId
  eventId: EventId
  endpointId: WebhookEndpointId
  attempt: number
  attemptedAt: Date
  statusCode: number | null
  durationMs: number
  error: string | null
}

export class WebhookRepository {
  constructor(private readonly q: Queryable) {}

  // ---------------------------------------------------------------- endpoints

  async createEndpoint(
    tenantId: TenantId,
    e: { id: WebhookEndpointId; url: string; description: string | null; sealedSecret: string; at: Date },
  ): Promise<Endpoint> {
    const [row] = await this.q.query(
      `INSERT INTO webhook_endpoints (tenant_id, id, url, description, status, secret_encrypted, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'enabled', $5, $6, $6) RETURNING ${ENDPOINT_COLUMNS}`,
      [tenantId, e.id, e.url, e.description, e.sealedSecret, e.at],
    )
    return endpointFrom(row!)
  }

  /** The tenant's endpoints that are not deleted, newest first. */
  async listEndpoints(tenantId: TenantId): Promise<Endpoint[]> {
    const rows = await this.q.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC`, [tenantId])
    return rows.map(endpointFrom)
  }

  async findEndpoint(tenantId: TenantId, id: WebhookEndpointId): Promise<Endpoint | undefined> {
    const [row] = await this.q.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, [tenantId, id])
    return row && endpointFrom(row)
  }

  /**
   * Changes what is given (`description: null` clears it). Enabling clears the failure record;
   * disabling records that the tenant did it.
   */
  async updateEndpoint(
    tenantId: TenantId,
    id: WebhookEndpointId,
    change: { url?: string; description?: string | null; status?: EndpointStatus },
    at: Date,
  ): Promise<Endpoint | undefined> {
    const [row] = await this.q.query(
      `UPDATE webhook_endpoints SET url = COALESCE($3, url),
              description = CASE WHEN $4::boolean THEN $5 ELSE description END,
              status = COALESCE($6, status),
              disabled_reason = CASE WHEN $6 = 'enabled' THEN NULL WHEN $6 = 'disabled' THEN 'disabled by the tenant' ELSE disabled_reason END,
              failing_since = CASE WHEN $6 = 'enabled' THEN NULL ELSE failing_since END,
              updated_at = $7
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [tenantId, id, change.url ?? null, change.description !== undefined, change.description ?? null, change.status ?? null, at],
    )
    return row && endpointFrom(row)
  }

  /** Deletes softly: the endpoint stops receiving and disappears, its deliveries stay on record. */
  async deleteEndpoint(tenantId: TenantId, id: WebhookEndpointId, at: Date): Promise<Endpoint | undefined> {
    const [row] = await this.q.query(
      `UPDATE webhook_endpoints SET deleted_at = $3, status = 'disabled', disabled_reason = 'deleted', updated_at = $3
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [tenantId, id, at],
    )
    return row && endpointFrom(row)
  }

  /** Puts a new sealed secret in place; the current one becomes the previous one until `previousExpiresAt`. */
  async rotateEndpointSecret(tenantId: TenantId, id: WebhookEndpointId, sealedSecret: string, previousExpiresAt: Date, at: Date): Promise<Endpoint | undefined> {
    const [row] = await this.q.query(
      `UPDATE webhook_endpoints SET previous_secret_encrypted = secret_encrypted, previous_secret_expires_at = $4, secret_encrypted = $3, updated_at = $5
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [tenantId, id, sealedSecret, previousExpiresAt, at],
    )
    return row && endpointFrom(row)
  }

  // ---------------------------------------------------------------- events

  /**
   * Writes an outcome's event and one due delivery per enabled endpoint (the outbox), in the
   * caller's transaction. An event already written for the same intent and type is kept and
   * nothing is queued again.
   */
  async writeEvent(tenantId: TenantId, event: NewEvent): Promise<void> {
    const ids = eventDeliveryIds()
    const queued = await this.q.run(event.refundId ? WRITE_REFUND_EVENT : WRITE_EVENT, [tenantId, event.id, event.type, event.paymentIntentId, event.body, event.createdAt, ids, event.refundId ?? null])
    if (queued < ids.length) return
    // Every id was used: the tenant may have more endpoints, which have no delivery yet.
    const rest = await this.q.query<{ id: WebhookEndpointId }>(
      `SELECT e.id FROM webhook_endpoints e
        WHERE e.tenant_id = $1 AND e.status = 'enabled' AND e.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.tenant_id = $1 AND d.event_id = $2 AND d.endpoint_id = e.id)`,
      [tenantId, event.id],
    )
    await this.queueFor(tenantId, event.id, event.createdAt, rest.map((r) => r.id))
  }

  /** A page of the tenant's events, newest first: `limit` rows after the cursor's (created_at, id). */
  async listEvents(
    tenantId: TenantId,
    filter: { type?: string; paymentIntentId?: string; after?: { createdAt: Date; id: string }; limit: number },
  ): Promise<EventRecord[]> {
    const rows = await this.q.query(
      `SELECT ${EVENT_COLUMNS} FROM events
        WHERE tenant_id = $1 AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR payment_intent_id = $3)
          AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::text))
        ORDER BY created_at DESC, id DESC LIMIT $6`,
      [tenantId, filter.type ?? null, filter.paymentIntentId ?? null, filter.after?.createdAt ?? null, filter.after?.id ?? null, filter.limit],
    )
    return rows.map(eventFrom)
  }

  async findEvent(tenantId: TenantId, id: EventId): Promise<EventRecord | undefined> {
    const [row] = await this.q.query(`SELECT ${EVENT_COLUMNS} FROM events WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
    return row && eventFrom(row)
  }

  // ---------------------------------------------------------------- deliveries

  /** Every delivery of an event with every attempt, oldest first. */
  async deliveriesOfEvent(tenantId: TenantId, eventId: EventId): Promise<Delivery[]> {
    const deliveries = await this.q.query(
      `SELECT id, endpoint_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at
         FROM deliveries WHERE tenant_id = $1 AND event_id = $2 ORDER BY created_at, id`,
      [tenantId, eventId],
    )
    const attempts = await this.q.query(
      `SELECT delivery_id, attempt, attempted_at, status_code, duration_ms, error FROM delivery_attempts
        WHERE tenant_id = $1 AND event_id = $2 ORDER BY attempted_at, attempt`,
      [tenantId, eventId],
    )
    return deliveries.map((d) => ({
      id: d.id as DeliveryId,
      eventId,
      endpointId: d.endpoint_id as WebhookEndpointId,
      status: d.status as DeliveryStatus,
      attempts: d.attempts as number,
      nextAttemptAt: new Date(d.next_attempt_at as Date),
      lastStatusCode: (d.last_status_code as number | null) ?? null,
      lastError: (d.last_error as string | null) ?? null,
      attemptLog: attempts.filter((a) => a.delivery_id === d.id).map(attemptFrom),
      createdAt: new Date(d.created_at as Date),
      updatedAt: new Date(d.updated_at as Date),
    }))
  }

  /** Queues the event again, due at `at`, for every endpoint enabled now; answers how many deliveries were queued. */
  async queueDeliveries(tenantId: TenantId, eventId: EventId, at: Date): Promise<number> {
    const endpoints = await this.q.query<{ id: WebhookEndpointId }>(
      `SELECT id FROM webhook_endpoints WHERE tenant_id = $1 AND status = 'enabled' AND deleted_at IS NULL`,
      [tenantId],
    )
    return this.queueFor(tenantId, eventId, at, endpoints.map((e) => e.id))
  }

  private async queueFor(tenantId: TenantId, eventId: EventId, at: Date, endpointIds: WebhookEndpointId[]): Promise<number> {
    if (endpointIds.length === 0) return 0
    return this.q.run(QUEUE_DELIVERIES, [tenantId, eventId, at, deliveryIds(endpointIds.length), endpointIds])
  }

  /**
   * Leases up to `limit` due deliveries of every tenant until `leasedUntil` and counts the
   * attempt about to be made. `FOR UPDATE SKIP LOCKED`: workers running this at the same time
   * never claim the same delivery.
   */
  async claimDueDeliveriesAcrossTenants(now: Date, limit: number, leasedUntil: Date): Promise<ClaimedDelivery[]> {
    const rows = await this.q.query(CLAIM, [now, limit, leasedUntil])
    return rows.map((r) => ({
      tenantId: r.tenant_id as TenantId,
      id: r.id as DeliveryId,
      eventId: r.event_id as EventId,
      endpointId: r.endpoint_id as WebhookEndpointId,
      attempts: r.attempts as number,
    }))
  }

  /** The event's body and the endpoint it goes to, deleted or not; undefined when either is gone. */
  async deliveryTarget(tenantId: TenantId, eventId: EventId, endpointId: WebhookEndpointId): Promise<DeliveryTarget | undefined> {
    const [row] = await this.q.query(TARGET, [tenantId, eventId, endpointId])
    if (!row) return undefined
    return {
      body: row.body as string,
      eventCreatedAt: new Date(row.created_at as Date),
      url: row.url as string,
      endpointStatus: row.endpoint_status as EndpointStatus,
      endpointDeleted: row.deleted_at != null,
      sealedSecret: row.secret_encrypted as string,
      sealedPreviousSecret: (row.previous_secret_encrypted as string | null) ?? null,
      previousSecretExpiresAt: row.previous_secret_expires_at ? new Date(row.previous_secret_expires_at as Date) : null,
    }
  }

  async recordAttempt(tenantId: TenantId, a: AttemptRecord): Promise<void> {
    await this.q.run(RECORD_ATTEMPT, [tenantId, a.id, a.deliveryId, a.eventId, a.endpointId, a.attempt, a.attemptedAt, a.statusCode, a.durationMs, a.error])
  }

  /** Ends the lease with the delivery's new state; `nextAttemptAt` null keeps the one it had. */
  async setDeliveryState(
    tenantId: TenantId,
    id: DeliveryId,
    s: { status: DeliveryStatus; nextAttemptAt: Date | null; lastStatusCode: number | null; lastError: string | null; at: Date },
  ): Promise<void> {
    await this.q.run(SET_DELIVERY, [tenantId, id, s.status, s.nextAttemptAt, s.lastStatusCode, s.lastError, s.at])
  }

  /** A success: the endpoint is failing no more. */
  async clearEndpointFailing(tenantId: TenantId, id: WebhookEndpointId): Promise<void> {
    await this.q.run(CLEAR_FAILING, [tenantId, id])
  }

  /** A failure: answers since when the endpoint has failed without a success (`at`, if it was not failing). */
  async markEndpointFailing(tenantId: TenantId, id: WebhookEndpointId, at: Date): Promise<Date | undefined> {
    const [row] = await this.q.query(MARK_FAILING, [tenantId, id, at])
    return row ? new Date(row.failing_since as Date) : undefined
  }

  /** Disables the endpoint for `reason`; with `onlyIfEnabled`, an endpoint disabled already keeps its reason. */
  async disableEndpoint(tenantId: TenantId, id: WebhookEndpointId, reason: string, at: Date, { onlyIfEnabled = false } = {}): Promise<void> {
    await this.q.run(onlyIfEnabled ? `${DISABLE} AND status = 'enabled'` : DISABLE, [tenantId, id, reason, at])
  }
}
