/**
 * Payment links and the payment intents behind them.
 *
 * Minting is one statement writing one row: it picks the card-processing account and
 * writes the `pending` intent, whose row also holds its link (the token's hash and, once
 * the page is opened, the claim), atomically and in one round trip. Only when it writes
 * nothing does a second query find out why (no such user, no fitting account, a pinned
 * account without the currency). The link token is 32 random bytes; only its SHA-256 is
 * kept, and the pay_url is nothing but PUBLIC_BASE_URL/pay/<token>.
 */
import type { Db, Queryable } from '../../storage/db.js'
import { sql } from '../../storage/db.js'
import type { Clock } from '../shared/clock.js'
import { sha256, type Sealer } from '../shared/crypto.js'
import { toCurrency, type CurrencyCode } from '../shared/currencies.js'
import { AppError, invalid, notFound } from '../shared/errors.js'
import { newId, type TenantId } from '../shared/ids.js'
import { requestHash, withIdempotency } from '../shared/idempotency.js'
import { AMOUNT_PROBLEMS, parseAmount } from '../shared/money.js'
import { decodeCursor, pageOf } from '../shared/pagination.js'
import { randomToken } from '../shared/random.js'
import { DEFAULT_ACCOUNT_ORDER } from '../../storage/repositories/accounts.js'
import { INTENT_COLUMNS, intentFrom, type IntentStatus, type PaymentIntent } from './intents.js'

export interface MintInput {
  user_id: string
  amount: number | string
  currency?: string
  card_processing_id?: string
}

export interface MintedLink {
  payment_intent_id: string
  pay_url: string
  expires_at: string
}

const MINT = sql(
  'payment_link_mint',
  `WITH account AS (
     SELECT a.id FROM card_processing_enrolments e
       JOIN card_processing_accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
      WHERE e.tenant_id = $1 AND e.user_id = $3 AND e.status = 'approved'
        AND $6::text = ANY (a.currencies) AND ($7::text IS NULL OR a.id = $7)
      ORDER BY ${DEFAULT_ACCOUNT_ORDER} LIMIT 1
   )
   INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, expires_at, created_at, updated_at, link_token_hash)
   SELECT $1, $2, $3, account.id, $5, $6, 'pending', $8, $9, $9, $4 FROM account`,
)

const WHY_NOT_MINTED = sql(
  'payment_link_why_not',
  `SELECT EXISTS (SELECT 1 FROM end_users WHERE tenant_id = $1 AND id = $2) AS user_ok,
          EXISTS (SELECT 1 FROM card_processing_enrolments WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3 AND status = 'approved') AS pinned_approved`,
)

const GET_INTENT = sql('payment_intent_get', `SELECT ${INTENT_COLUMNS} FROM payment_intents WHERE tenant_id = $1 AND id = $2`)

export interface PaymentServiceOptions {
  publicBaseUrl: string
  linkTtlSeconds: number
}

export class PaymentService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
    private readonly options: PaymentServiceOptions,
    /** Expires a pending intent past its expiry on read (with its webhook); identity when absent. */
    private readonly expireIfDue: (intent: PaymentIntent) => Promise<PaymentIntent> = async (i) => i,
  ) {}

  /** `POST /v1/platform/card/payment-link`, with an optional Idempotency-Key. */
  async mintLink(tenantId: TenantId, input: MintInput, idempotencyKey?: string) {
    const currency = toCurrency(input.currency ?? 'USD')
    if (!currency) throw invalid('currency', 'must be a current ISO 4217 currency code, such as USD')
    const amount = parseAmount(input.amount, currency)
    if (!amount.ok) throw invalid('amount', AMOUNT_PROBLEMS[amount.problem])
    const mint = (q: Queryable) => this.insertLink(q, tenantId, input, amount.amountMinor, currency)
    if (!idempotencyKey) return { status: 201, body: await mint(this.db), replayed: false }
    return withIdempotency(this.db, this.sealer, this.clock, { tenantId, key: idempotencyKey, requestHash: requestHash('payment-link', input) }, async (tx) => ({
      status: 201,
      body: await mint(tx),
    }))
  }

  private async insertLink(q: Queryable, tenantId: TenantId, input: MintInput, amountMinor: number, currency: CurrencyCode): Promise<MintedLink> {
    const id = newId('paymentIntent')
    const token = randomToken(32)
    const now = this.clock.now()
    const expiresAt = new Date(now.getTime() + this.options.linkTtlSeconds * 1000).toISOString()
    const pinned = input.card_processing_id ?? null
    // Times go to the database as UTC ISO text: `pg` formats a Date by hand in local time.
    const written = await q.run(MINT, [tenantId, id, input.user_id, sha256(token), amountMinor, currency, pinned, expiresAt, now.toISOString()])
    if (written === 0) {
      const [why] = await q.query<{ user_ok: boolean; pinned_approved: boolean }>(WHY_NOT_MINTED, [tenantId, input.user_id, pinned])
      if (!why?.user_ok) throw new AppError('not_found', 'No such user.', [{ field: 'user_id', issue: 'is not a user of yours' }])
      if (pinned && why.pinned_approved) {
        throw new AppError('currency_not_supported', `The card-processing account ${pinned} does not support ${currency}.`, [
          { field: 'currency', issue: `is not supported by ${pinned}` },
        ])
      }
      throw new AppError(
        'card_processing_unavailable',
        pinned ? `The card-processing account ${pinned} is not approved for this user.` : `The user has no approved card-processing account for ${currency}.`,
        [pinned ? { field: 'card_processing_id', issue: 'is not approved for this user' } : { field: 'user_id', issue: `has no approved card-processing account for ${currency}` }],
      )
    }
    return { payment_intent_id: id, pay_url: `${this.options.publicBaseUrl}/pay/${token}`, expires_at: expiresAt }
  }

  async get(tenantId: TenantId, id: string): Promise<PaymentIntent> {
    const [row] = await this.db.query(GET_INTENT, [tenantId, id])
    if (!row) throw notFound('payment intent')
    return this.expireIfDue(intentFrom(row))
  }

  async list(tenantId: TenantId, q: { limit: number; cursor?: string; user_id?: string; status?: IntentStatus; created_gte?: string; created_lt?: string }) {
    const after = decodeCursor(q.cursor)
    // RFC 3339 allows two times PostgreSQL refuses (a 500): the year 0000 and offsets beyond ±15:59.
    for (const field of ['created_gte', 'created_lt'] as const) {
      const t = q[field]
      const offsetHours = t && /[+-](\d{2}):\d{2}$/.exec(t)?.[1]
      if (t && (t.startsWith('0000') || Number(offsetHours ?? 0) > 15)) throw invalid(field, 'must be a date-time from the year 0001 on, with a UTC offset within ±15:59')
    }
    const rows = await this.db.query(
      sql(
        'payment_intent_list',
        `SELECT ${INTENT_COLUMNS} FROM payment_intents
          WHERE tenant_id = $1 AND ($2::text IS NULL OR user_id = $2) AND ($3::text IS NULL OR status = $3)
            AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
            AND ($6::timestamptz IS NULL OR (created_at, id) < ($6::timestamptz, $7::text))
          ORDER BY created_at DESC, id DESC LIMIT $8`,
      ),
      [tenantId, q.user_id ?? null, q.status ?? null, q.created_gte ?? null, q.created_lt ?? null, after?.createdAt ?? null, after?.id ?? null, q.limit + 1],
    )
    const now = this.clock.now()
    const intents = await Promise.all(rows.map(intentFrom).map((i) => (i.status === 'pending' && i.expiresAt <= now ? this.expireIfDue(i) : i)))
    return pageOf(intents, q.limit, (i) => i)
  }
}
