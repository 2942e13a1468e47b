/**
 * The tenant portal's storage: portal links and their sessions (one row each, see migration
 * 0009), the at-a-glance aggregate, and the moments of a payment's timeline.
 *
 * Crossing tenants on purpose: the link's lookup and exchange (its token is all the browser
 * has; the hash is unique across tenants) and the session's lookup by its secret's hash
 * (likewise): `…AcrossTenants`.
 */
import { sql, type Queryable } from '../db.js'
import type { CurrencyCode } from '../../domain/shared/currencies.js'
import type { ClientId, TenantId } from '../../domain/shared/ids.js'

/** A portal link (and, once exchanged, its session) as stored: hashes only. */
export interface PortalSessionRecord {
  id: string
  tenantId: TenantId
  tenantName: string
  /** The tenant's allowed origins: who may frame the portal. */
  allowedOrigins: string[]
  /** Null: made by the operator's CLI. */
  clientId: ClientId | null
  /** False when the client that made it was revoked since. */
  clientActive: boolean
  scopes: string[]
  expiresAt: Date
  exchangedAt: Date | null
}

type SessionRow = {
  id: string
  tenant_id: string
  tenant_name: string
  allowed_origins: string[]
  client_id: string | null
  client_active: boolean
  scopes: string[]
  expires_at: Date
  exchanged_at: Date | null
}

const sessionFrom = (r: SessionRow): PortalSessionRecord => ({
  id: r.id,
  tenantId: r.tenant_id as TenantId,
  tenantName: r.tenant_name,
  allowedOrigins: r.allowed_origins,
  clientId: (r.client_id as ClientId | null) ?? null,
  clientActive: r.client_active,
  scopes: r.scopes,
  expiresAt: new Date(r.expires_at),
  exchangedAt: r.exchanged_at && new Date(r.exchanged_at),
})

const SESSION_COLUMNS = `s.id, s.tenant_id, t.name AS tenant_name, t.allowed_origins, s.client_id, s.scopes, s.expires_at, s.exchanged_at,
  (s.client_id IS NULL OR EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = s.client_id AND c.revoked_at IS NULL)) AS client_active`

const INSERT_LINK = sql(
  'portal_link_insert',
  `INSERT INTO portal_sessions (tenant_id, id, link_hash, client_id, scopes, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
)
const LINK_BY_HASH = sql('portal_link_by_hash', `SELECT ${SESSION_COLUMNS} FROM portal_sessions s JOIN tenants t ON t.id = s.tenant_id WHERE s.link_hash = $1`)
/**
 * The exchange: one conditional update decides. Of concurrent exchanges of one link, the
 * first takes the row lock and sets `exchanged_at`; the others wait, re-read the row and no
 * longer match. A link whose client was revoked exchanges for nothing.
 */
const EXCHANGE = sql(
  'portal_link_exchange',
  `UPDATE portal_sessions s SET exchanged_at = $2, secret_hash = $3
     FROM tenants t
    WHERE s.link_hash = $1 AND s.exchanged_at IS NULL AND s.expires_at > $2 AND t.id = s.tenant_id
      AND (s.client_id IS NULL OR EXISTS (SELECT 1 FROM oauth_clients c WHERE c.id = s.client_id AND c.revoked_at IS NULL))
   RETURNING s.id, s.tenant_id, t.name AS tenant_name, t.allowed_origins, s.client_id, true AS client_active, s.scopes, s.expires_at, s.exchanged_at`,
)
const SESSION_BY_SECRET = sql('portal_session_by_secret', `SELECT ${SESSION_COLUMNS} FROM portal_sessions s JOIN tenants t ON t.id = s.tenant_id WHERE s.secret_hash = $1`)

/**
 * The at-a-glance figures in one statement: every bucket of the range (generate_series),
 * joined to the tenant's final intents in the currency grouped by the bucket their
 * `created_at` falls in. The range condition on (tenant_id, created_at) is what the index
 * `payment_intents_created` (tenant_id, created_at DESC, id DESC) serves; currency and
 * status are checked on the rows it finds. Buckets are UTC hours or UTC days: the step is
 * an interval of hours, so a session time zone with daylight saving cannot shift them.
 */
const STATS = sql(
  'portal_payment_stats',
  `WITH final AS (
     SELECT date_trunc($5, created_at, 'UTC') AS start,
            count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            COALESCE(sum(amount_minor) FILTER (WHERE status = 'succeeded'), 0)::bigint AS collected
       FROM payment_intents
      WHERE tenant_id = $1 AND created_at >= $3 AND created_at < $4 AND currency = $2 AND status IN ('succeeded', 'failed')
      GROUP BY 1
   )
   SELECT b.start, COALESCE(f.succeeded, 0) AS succeeded, COALESCE(f.failed, 0) AS failed, COALESCE(f.collected, 0) AS collected
     FROM generate_series($3::timestamptz, $4::timestamptz - $6::interval, $6::interval) AS b (start)
     LEFT JOIN final f ON f.start = b.start
    ORDER BY b.start`,
)

/** One bucket of the figures: final intents created in [start, start + step). */
export interface StatsBucket {
  start: Date
  succeeded: number
  failed: number
  /** Minor units of the currency, succeeded intents only. */
  collectedMinor: number
}

/** The moments an intent's own row keeps. */
export interface IntentMoments {
  createdAt: Date
  pageOpenedAt: Date | null
  confirmedAt: Date | null
  actionRequiredAt: Date | null
  finishedAt: Date | null
  /** The last change, for a final intent written before `finished_at` existed. */
  updatedAt: Date
}

/** A refund or a webhook event of an intent, for its timeline. */
export type IntentHappening =
  | { what: 'refund'; id: string; amountMinor: number; status: 'pending' | 'succeeded' | 'failed'; failureCode: string | null; createdAt: Date; updatedAt: Date }
  | { what: 'event'; id: string; type: string; createdAt: Date }

const MOMENTS = sql(
  'portal_intent_moments',
  `SELECT created_at, link_claimed_at, confirmed_at, action_required_at, finished_at, updated_at FROM payment_intents WHERE tenant_id = $1 AND id = $2`,
)
/** An intent's refunds, its own events and its refunds' events (each by an index leading with tenant_id). */
const HAPPENINGS = sql(
  'portal_intent_happenings',
  `SELECT 'refund' AS what, id, NULL AS type, amount_minor, status, failure_code, created_at, updated_at
     FROM refunds WHERE tenant_id = $1 AND payment_intent_id = $2
   UNION ALL
   SELECT 'event', id, type, NULL, NULL, NULL, created_at, created_at
     FROM events WHERE tenant_id = $1 AND payment_intent_id = $2 AND refund_id IS NULL
   UNION ALL
   SELECT 'event', e.id, e.type, NULL, NULL, NULL, e.created_at, e.created_at
     FROM refunds r JOIN events e ON e.tenant_id = r.tenant_id AND e.refund_id = r.id
    WHERE r.tenant_id = $1 AND r.payment_intent_id = $2`,
)

export class PortalRepository {
  constructor(private readonly q: Queryable) {}

  async insertLink(tenantId: TenantId, l: { id: string; linkHash: Buffer; clientId: ClientId | null; scopes: readonly string[]; expiresAt: Date; now: Date }): Promise<void> {
    await this.q.run(INSERT_LINK, [tenantId, l.id, l.linkHash, l.clientId, [...l.scopes], l.expiresAt, l.now])
  }

  /** The link behind a token's hash, exchanged or not. Crosses tenants: the token is all the browser has. */
  async findLinkAcrossTenants(linkHash: Buffer): Promise<PortalSessionRecord | undefined> {
    const [row] = await this.q.query<SessionRow>(LINK_BY_HASH, [linkHash])
    return row && sessionFrom(row)
  }

  /** Exchanges the link for a session whose secret hashes to `secretHash`; undefined when it was used, expired, revoked or unknown. */
  async exchangeAcrossTenants(linkHash: Buffer, secretHash: Buffer, now: Date): Promise<PortalSessionRecord | undefined> {
    const [row] = await this.q.query<SessionRow>(EXCHANGE, [linkHash, now, secretHash])
    return row && sessionFrom(row)
  }

  /** The session a secret's hash opens, with its client's standing now. Crosses tenants: the secret is all the caller has. */
  async findSessionAcrossTenants(secretHash: Buffer): Promise<PortalSessionRecord | undefined> {
    const [row] = await this.q.query<SessionRow>(SESSION_BY_SECRET, [secretHash])
    return row && sessionFrom(row)
  }

  /** Deletes up to `limit` links and sessions that expired at or before `before`, oldest first; answers how many. Crosses tenants: a sweep. */
  async deleteExpiredAcrossTenants(before: Date, limit: number): Promise<number> {
    return this.q.run(
      `DELETE FROM portal_sessions WHERE (tenant_id, id) IN (SELECT tenant_id, id FROM portal_sessions WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)`,
      [before, limit],
    )
  }

  /** Every bucket from `from` (inclusive) to `to` (exclusive), `stepHours` apart; `unit` is the date_trunc unit of that step. */
  async stats(tenantId: TenantId, currency: CurrencyCode, range: { from: Date; to: Date; unit: 'hour' | 'day'; stepHours: number }): Promise<StatsBucket[]> {
    const rows = await this.q.query<{ start: Date; succeeded: number; failed: number; collected: number | string }>(STATS, [
      tenantId,
      currency,
      range.from,
      range.to,
      range.unit,
      `${range.stepHours} hours`,
    ])
    return rows.map((r) => ({ start: new Date(r.start), succeeded: Number(r.succeeded), failed: Number(r.failed), collectedMinor: Number(r.collected) }))
  }

  async moments(tenantId: TenantId, intentId: string): Promise<IntentMoments | undefined> {
    const [r] = await this.q.query<Record<string, Date | null>>(MOMENTS, [tenantId, intentId])
    if (!r) return undefined
    const at = (v: Date | null | undefined) => (v ? new Date(v) : null)
    return {
      createdAt: new Date(r.created_at!),
      pageOpenedAt: at(r.link_claimed_at),
      confirmedAt: at(r.confirmed_at),
      actionRequiredAt: at(r.action_required_at),
      finishedAt: at(r.finished_at),
      updatedAt: new Date(r.updated_at!),
    }
  }

  async happenings(tenantId: TenantId, intentId: string): Promise<IntentHappening[]> {
    const rows = await this.q.query<Record<string, unknown>>(HAPPENINGS, [tenantId, intentId])
    return rows.map((r): IntentHappening =>
      r.what === 'refund'
        ? {
            what: 'refund',
            id: r.id as string,
            amountMinor: Number(r.amount_minor),
            status: r.status as 'pending' | 'succeeded' | 'failed',
            failureCode: (r.failure_code as string | null) ?? null,
            createdAt: new Date(r.created_at as Date),
            updatedAt: new Date(r.updated_at as Date),
          }
        : { what: 'event', id: r.id as string, type: r.type as string, createdAt: new Date(r.created_at as Date) },
    )
  }
}
