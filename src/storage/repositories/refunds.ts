/**
 * Refunds and the intent totals they move. A refund is reserved `pending` under the intent's
 * row lock (so that whatever arrives at once, the reserved sum never passes the intent's
 * amount), then settles once: `succeed` adds it to what was refunded, `fail` gives its
 * amount back to what can be refunded. Each settles with one conditional update whose
 * source state comes from REFUND_TRANSITIONS (src/domain/payments/state.ts).
 */
import { sql, type Queryable } from '../db.js'
import type { CurrencyCode } from '../../domain/shared/currencies.js'
import type { AccountId, PaymentIntentId, RefundId, TenantId } from '../../domain/shared/ids.js'
import { REFUND_TRANSITIONS, type RefundState } from '../../domain/payments/state.js'
import type { Refund, RefundReason } from '../../domain/payments/refunds.js'
import type { FailureCode } from '../../domain/payments/intents.js'

const COLUMNS =
  'tenant_id, id, payment_intent_id, account_id, amount_minor, currency, status, reason, failure_code, processor_reference, processor_code, processor_message, created_at, updated_at'

function refundFrom(r: Record<string, unknown>): Refund {
  return {
    id: r.id as RefundId,
    tenantId: r.tenant_id as TenantId,
    paymentIntentId: r.payment_intent_id as PaymentIntentId,
    accountId: r.account_id as AccountId,
    amountMinor: Number(r.amount_minor),
    currency: r.currency as CurrencyCode,
    status: r.status as RefundState,
    reason: (r.reason as RefundReason | null) ?? null,
    failureCode: (r.failure_code as FailureCode | null) ?? null,
    processorRef: (r.processor_reference as string | null) ?? null,
    processorCode: (r.processor_code as string | null) ?? null,
    processorMessage: (r.processor_message as string | null) ?? null,
    createdAt: new Date(r.created_at as Date),
    updatedAt: new Date(r.updated_at as Date),
  }
}

/** The intent as a refund needs it, read under its row lock. */
export interface RefundableIntent {
  status: string
  amountMinor: number
  reservedMinor: number
  currency: CurrencyCode
  accountId: AccountId
  userId: string
}

const LOCK_INTENT = sql(
  'refund_lock_intent',
  `SELECT status, amount_minor, amount_reserved_minor, currency, account_id, user_id FROM payment_intents WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
)
const RESERVE = sql('refund_reserve', `UPDATE payment_intents SET amount_reserved_minor = amount_reserved_minor + $3 WHERE tenant_id = $1 AND id = $2`)
const INSERT = sql(
  'refund_insert',
  `INSERT INTO refunds (tenant_id, id, payment_intent_id, account_id, amount_minor, currency, status, reason, created_at, updated_at)
   VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8) RETURNING ${COLUMNS}`,
)
const GET = sql('refund_get', `SELECT ${COLUMNS} FROM refunds WHERE tenant_id = $1 AND id = $2`)
/**
 * `succeed` or `fail` (its source states are $9, from the table), with the intent's totals in
 * the same statement: a success adds to what was refunded; a failure gives the amount back
 * to what can be refunded, and takes it off what was refunded if it had succeeded.
 */
const SETTLE = sql(
  'refund_settle',
  `WITH old AS (
     SELECT status FROM refunds WHERE tenant_id = $1 AND id = $2 AND status = ANY ($9::text[]) FOR UPDATE
   ), r AS (
     UPDATE refunds SET status = $3, failure_code = $4, processor_reference = COALESCE($5, processor_reference), processor_code = $6, processor_message = $7, updated_at = $8
       FROM old WHERE refunds.tenant_id = $1 AND refunds.id = $2
      RETURNING ${COLUMNS.split(', ')
        .map((c) => `refunds.${c}`)
        .join(', ')}, old.status AS old_status
   ), totals AS (
     UPDATE payment_intents i
        SET amount_refunded_minor = i.amount_refunded_minor
              + CASE WHEN r.status = 'succeeded' THEN r.amount_minor WHEN r.old_status = 'succeeded' THEN -r.amount_minor ELSE 0 END,
            amount_reserved_minor = i.amount_reserved_minor - CASE WHEN r.status = 'failed' THEN r.amount_minor ELSE 0 END
       FROM r WHERE i.tenant_id = r.tenant_id AND i.id = r.payment_intent_id
   )
   SELECT * FROM r`,
)

export class RefundRepository {
  constructor(private readonly q: Queryable) {}

  /** Locks the intent's row until the transaction ends and reads what a refund needs. */
  async lockIntent(tenantId: TenantId, intentId: PaymentIntentId): Promise<RefundableIntent | undefined> {
    const [row] = await this.q.query(LOCK_INTENT, [tenantId, intentId])
    if (!row) return undefined
    return {
      status: row.status as string,
      amountMinor: Number(row.amount_minor),
      reservedMinor: Number(row.amount_reserved_minor),
      currency: row.currency as CurrencyCode,
      accountId: row.account_id as AccountId,
      userId: row.user_id as string,
    }
  }

  /** Reserves `amountMinor` of a locked intent and writes the refund `pending`. */
  async reserve(tenantId: TenantId, r: { id: RefundId; intentId: PaymentIntentId; accountId: AccountId; amountMinor: number; currency: CurrencyCode; reason: RefundReason | null; at: Date }): Promise<Refund> {
    await this.q.run(RESERVE, [tenantId, r.intentId, r.amountMinor])
    const [row] = await this.q.query(INSERT, [tenantId, r.id, r.intentId, r.accountId, r.amountMinor, r.currency, r.reason, r.at])
    return refundFrom(row!)
  }

  async get(tenantId: TenantId, id: string): Promise<Refund | undefined> {
    const [row] = await this.q.query(GET, [tenantId, id])
    return row ? refundFrom(row) : undefined
  }

  /** An intent's refunds, newest first, `limit` rows after the cursor's (created_at, id). */
  async listForIntent(tenantId: TenantId, intentId: string, page: { after?: { createdAt: Date; id: string }; limit: number }): Promise<Refund[]> {
    const rows = await this.q.query(
      `SELECT ${COLUMNS} FROM refunds WHERE tenant_id = $1 AND payment_intent_id = $2
          AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::text))
        ORDER BY created_at DESC, id DESC LIMIT $5`,
      [tenantId, intentId, page.after?.createdAt ?? null, page.after?.id ?? null, page.limit],
    )
    return rows.map(refundFrom)
  }

  /** `succeed` or `fail` a refund (from the states REFUND_TRANSITIONS allows), moving the intent's totals with it; undefined when it cannot move so. */
  async settle(
    tenantId: TenantId,
    id: RefundId,
    s: { status: 'succeeded' | 'failed'; failureCode: FailureCode | null; processorRef: string | null; processorCode: string | null; processorMessage: string | null },
    at: Date,
  ): Promise<Refund | undefined> {
    const from = REFUND_TRANSITIONS[s.status === 'succeeded' ? 'succeed' : 'fail'].from
    const [row] = await this.q.query(SETTLE, [tenantId, id, s.status, s.failureCode, s.processorRef, s.processorCode, s.processorMessage, at, from])
    return row ? refundFrom(row) : undefined
  }

  /** Keeps what is known of a refund still pending (an asynchronous processor's id), and when it was last asked about. */
  async stillPending(tenantId: TenantId, id: RefundId, processorRef: string | null, at: Date): Promise<void> {
    await this.q.run(`UPDATE refunds SET processor_reference = COALESCE($3, processor_reference), updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`, [
      tenantId,
      id,
      processorRef,
      at,
    ])
  }

  async findByProcessorRef(tenantId: TenantId, accountId: AccountId, processorRef: string): Promise<Refund | undefined> {
    const [row] = await this.q.query(`SELECT ${COLUMNS} FROM refunds WHERE tenant_id = $1 AND account_id = $2 AND processor_reference = $3`, [tenantId, accountId, processorRef])
    return row ? refundFrom(row) : undefined
  }

  /** Refunds still pending since before `staleBefore`, with their intent's processor, for recovery. */
  async pendingAcrossTenants(staleBefore: Date, limit: number): Promise<(Refund & { processor: string; configSealed: string | null; intentProcessorRef: string | null })[]> {
    const rows = await this.q.query(
      `SELECT ${COLUMNS.split(', ')
        .map((c) => `r.${c}`)
        .join(', ')}, a.processor, a.config_encrypted, i.processor_reference AS intent_processor_reference
         FROM refunds r
         JOIN card_processing_accounts a ON a.tenant_id = r.tenant_id AND a.id = r.account_id
         JOIN payment_intents i ON i.tenant_id = r.tenant_id AND i.id = r.payment_intent_id
        WHERE r.status = 'pending' AND r.updated_at <= $1
        ORDER BY r.updated_at LIMIT $2`,
      [staleBefore, limit],
    )
    return rows.map((r) => ({
      ...refundFrom(r),
      processor: r.processor as string,
      configSealed: (r.config_encrypted as string | null) ?? null,
      intentProcessorRef: (r.intent_processor_reference as string | null) ?? null,
    }))
  }
}
