/**
 * Webhook endpoints (the secret shown once, on create and rotate; after a rotation the old
 * secret keeps signing for 24 hours), the event log, every delivery attempt, and replay.
 */
import type { Db } from '../../storage/db.js'
import type { Clock } from '../shared/clock.js'
import type { Sealer } from '../shared/crypto.js'
import { AppError, invalid, notFound } from '../shared/errors.js'
import { newId, type TenantId } from '../shared/ids.js'
import { decodeCursor, pageOf } from '../shared/pagination.js'
import { urlProblem } from './addresses.js'
import { newWebhookSecret } from './signing.js'

export const ROTATION_OVERLAP_MS = 24 * 3_600_000

export interface Endpoint {
  id: string
  url: string
  description: string | null
  status: 'enabled' | 'disabled'
  disabledReason: string | null
  createdAt: Date
  updatedAt: Date
}

const endpointFrom = (r: Record<string, unknown>): Endpoint => ({
  id: r.id as string,
  url: r.url as string,
  description: (r.description as string | null) ?? null,
  status: r.status as Endpoint['status'],
  disabledReason: (r.disabled_reason as string | null) ?? null,
  createdAt: new Date(r.created_at as Date),
  updatedAt: new Date(r.updated_at as Date),
})

const ENDPOINT_COLUMNS = 'id, url, description, status, disabled_reason, created_at, updated_at'

export interface EventRecord {
  id: string
  type: string
  paymentIntentId: string | null
  body: unknown
  createdAt: Date
}

export class WebhookService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
    private readonly allowPrivate: boolean,
    /** Called after deliveries are queued, to wake a local worker. */
    private readonly onQueued: () => void = () => {},
  ) {}

  private checkUrl(url: string) {
    const problem = urlProblem(url, this.allowPrivate)
    if (problem) throw invalid('url', problem)
  }

  private seal = (tenantId: string, id: string, secret: string) => this.sealer.seal(secret, `whsec:${tenantId}:${id}`)

  async create(tenantId: TenantId, input: { url: string; description?: string }): Promise<{ endpoint: Endpoint; secret: string }> {
    this.checkUrl(input.url)
    const id = newId('webhookEndpoint')
    const secret = newWebhookSecret()
    const now = this.clock.now()
    const [row] = await this.db.query(
      `INSERT INTO webhook_endpoints (tenant_id, id, url, description, status, secret_encrypted, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 'enabled', $5, $6, $6) RETURNING ${ENDPOINT_COLUMNS}`,
      [tenantId, id, input.url, input.description ?? null, this.seal(tenantId, id, secret), now],
    )
    return { endpoint: endpointFrom(row!), secret }
  }

  async list(tenantId: TenantId): Promise<Endpoint[]> {
    const rows = await this.db.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC`, [tenantId])
    return rows.map(endpointFrom)
  }

  async get(tenantId: TenantId, id: string): Promise<Endpoint> {
    const [row] = await this.db.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`, [tenantId, id])
    if (!row) throw notFound('webhook endpoint')
    return endpointFrom(row)
  }

  /** Changes the URL, description or status; enabling again clears the failure record. */
  async update(tenantId: TenantId, id: string, input: { url?: string; description?: string | null; status?: 'enabled' | 'disabled' }): Promise<Endpoint> {
    if (input.url !== undefined) this.checkUrl(input.url)
    const [row] = await this.db.query(
      `UPDATE webhook_endpoints SET url = COALESCE($3, url),
              description = CASE WHEN $4::boolean THEN $5 ELSE description END,
              status = COALESCE($6, status),
              disabled_reason = CASE WHEN $6 = 'enabled' THEN NULL WHEN $6 = 'disabled' THEN 'disabled by the tenant' ELSE disabled_reason END,
              failing_since = CASE WHEN $6 = 'enabled' THEN NULL ELSE failing_since END,
              updated_at = $7
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [tenantId, id, input.url ?? null, input.description !== undefined, input.description ?? null, input.status ?? null, this.clock.now()],
    )
    if (!row) throw notFound('webhook endpoint')
    return endpointFrom(row)
  }

  async remove(tenantId: TenantId, id: string): Promise<Endpoint> {
    const [row] = await this.db.query(
      `UPDATE webhook_endpoints SET deleted_at = $3, status = 'disabled', disabled_reason = 'deleted', updated_at = $3
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [tenantId, id, this.clock.now()],
    )
    if (!row) throw notFound('webhook endpoint')
    return endpointFrom(row)
  }

  /** A new secret; the current one keeps signing beside it for 24 hours. */
  async rotateSecret(tenantId: TenantId, id: string): Promise<{ endpoint: Endpoint; secret: string }> {
    const secret = newWebhookSecret()
    const now = this.clock.now()
    const [row] = await this.db.query(
      `UPDATE webhook_endpoints SET previous_secret_encrypted = secret_encrypted, previous_secret_expires_at = $4, secret_encrypted = $3, updated_at = $5
        WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING ${ENDPOINT_COLUMNS}`,
      [tenantId, id, this.seal(tenantId, id, secret), new Date(now.getTime() + ROTATION_OVERLAP_MS), now],
    )
    if (!row) throw notFound('webhook endpoint')
    return { endpoint: endpointFrom(row), secret }
  }

  async listEvents(tenantId: TenantId, q: { limit: number; cursor?: string; type?: string; payment_intent_id?: string }) {
    const after = decodeCursor(q.cursor)
    const rows = await this.db.query(
      `SELECT id, type, payment_intent_id, body, created_at FROM events
        WHERE tenant_id = $1 AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR payment_intent_id = $3)
          AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::text))
        ORDER BY created_at DESC, id DESC LIMIT $6`,
      [tenantId, q.type ?? null, q.payment_intent_id ?? null, after?.createdAt ?? null, after?.id ?? null, q.limit + 1],
    )
    return pageOf(rows.map(eventFrom), q.limit, (e) => e)
  }

  async getEvent(tenantId: TenantId, id: string): Promise<EventRecord> {
    const [row] = await this.db.query('SELECT id, type, payment_intent_id, body, created_at FROM events WHERE tenant_id = $1 AND id = $2', [tenantId, id])
    if (!row) throw notFound('event')
    return eventFrom(row)
  }

  /** Every delivery of an event with every attempt, oldest first. */
  async deliveries(tenantId: TenantId, eventId: string) {
    await this.getEvent(tenantId, eventId)
    const deliveries = await this.db.query<Record<string, unknown>>(
      `SELECT id, endpoint_id, status, attempts, next_attempt_at, last_status_code, last_error, created_at, updated_at
         FROM deliveries WHERE tenant_id = $1 AND event_id = $2 ORDER BY created_at, id`,
      [tenantId, eventId],
    )
    const attempts = await this.db.query<Record<string, unknown>>(
      `SELECT delivery_id, attempt, attempted_at, status_code, duration_ms, error FROM delivery_attempts
        WHERE tenant_id = $1 AND event_id = $2 ORDER BY attempted_at, attempt`,
      [tenantId, eventId],
    )
    return deliveries.map((d) => ({ ...d, attempt_log: attempts.filter((a) => a.delivery_id === d.id) }))
  }

  /** Queues the event again for every enabled endpoint; the webhook-id stays the event id. */
  async redeliver(tenantId: TenantId, eventId: string): Promise<number> {
    await this.getEvent(tenantId, eventId)
    const now = this.clock.now()
    const rows = await this.db.query(
      `INSERT INTO deliveries (tenant_id, id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at)
       SELECT e.tenant_id, 'dlv_' || replace(gen_random_uuid()::text, '-', ''), $2, e.id, 'pending', 0, $3, $3, $3
         FROM webhook_endpoints e WHERE e.tenant_id = $1 AND e.status = 'enabled' AND e.deleted_at IS NULL
       RETURNING id`,
      [tenantId, eventId, now],
    )
    if (rows.length === 0) throw new AppError('conflict', 'There is no enabled webhook endpoint to deliver to.')
    this.onQueued()
    return rows.length
  }
}

const eventFrom = (r: Record<string, unknown>): EventRecord => ({
  id: r.id as string,
  type: r.type as string,
  paymentIntentId: (r.payment_intent_id as string | null) ?? null,
  body: JSON.parse(r.body as string),
  createdAt: new Date(r.created_at as Date),
})
