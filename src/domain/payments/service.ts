/**
 * Payment links and the payment intents behind them.
 *
 * Minting is one statement writing one row: it picks the card-processing account and
 * writes the `pending` intent, whose row also holds its link (the token's hash and, once
 * the page is opened, the claim), atomically and in one round trip. Only when it writes
 * nothing does a second query find out why (no such user, no fitting account, a pinned
 * account without the currency). The link token is 32 random bytes; only its SHA-256 is
 * kept, and the pay_url is nothing but PUBLIC_BASE_URL/pay/<token>.
 *
 * Mints without an Idempotency-Key are grouped (src/storage/coalesce.ts): a mint that finds
 * no other running is sent at once, alone; those that arrive while MINT_BATCHES batches are
 * running go together in one statement and one commit, as PostgreSQL groups commits. Under
 * load this spares PostgreSQL most of its per-statement and per-commit work; each caller still
 * answers only once its row is committed, and a failing batch is retried row by row. A mint
 * with a key is written in the key's own transaction, alone.
 */
import type { Repositories, Store } from '../../storage/store.js'
import { storableTimestamp, type TenantMintRow } from '../../storage/repositories/payment-intents.js'
import { Coalescer } from '../../storage/coalesce.js'
import type { Clock } from '../shared/clock.js'
import { sha256 } from '../shared/crypto.js'
import { toCurrency, type CurrencyCode } from '../shared/currencies.js'
import { AppError, invalid, notFound } from '../shared/errors.js'
import { newId, type TenantId } from '../shared/ids.js'
import { AMOUNT_PROBLEMS, parseAmount } from '../shared/money.js'
import { decodeCursor, pageOf } from '../shared/pagination.js'
import { randomToken } from '../shared/random.js'
import type { IntentStatus, PaymentIntent } from './intents.js'
import type { MintedLink, MintInput } from './model.js'

/** GET /v1/platform/payment-intents: a page and its filters, as the query gives them. */
export interface IntentListQuery {
  limit: number
  cursor?: string
  user_id?: string
  status?: IntentStatus
  created_gte?: string
  created_lt?: string
  currency?: string
  amount_gte?: string
  amount_lte?: string
}

/** A mint request that passed its checks: what `mint` writes. */
export interface MintOrder {
  userId: string
  amountMinor: number
  currency: CurrencyCode
  pinnedAccount: string | null
}

export interface PaymentServiceOptions {
  publicBaseUrl: string
  linkTtlSeconds: number
  /** Told of every mint statement without a key: how many links it wrote together, and whether it failed. */
  onMintStatement?: (rows: number, failed: boolean) => void
}

/** Mint batches running at once (on a pool of 10), and the most rows in one. */
const MINT_BATCHES = 2
const MINT_BATCH_ROWS = 64

export class PaymentService {
  private readonly minting = new Coalescer<TenantMintRow, boolean>(
    (rows) => this.store.intents.mintMany(rows),
    (row) => this.store.intents.mint(row.tenantId, row),
    MINT_BATCHES,
    MINT_BATCH_ROWS,
    (rows, failed) => this.options.onMintStatement?.(rows, failed),
  )

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: PaymentServiceOptions,
    /** Expires a pending intent past its expiry on read (with its webhook); identity when absent. */
    private readonly expireIfDue: (intent: PaymentIntent) => Promise<PaymentIntent> = async (i) => i,
  ) {}

  /** Checks a mint request's amount and currency (nothing is read or written). */
  checkMint(input: MintInput): MintOrder {
    const currency = toCurrency(input.currency ?? 'USD')
    if (!currency) throw invalid('currency', 'must be a current ISO 4217 currency code, such as USD')
    const amount = parseAmount(input.amount, currency)
    if (!amount.ok) throw invalid('amount', AMOUNT_PROBLEMS[amount.problem])
    return { userId: input.user_id, amountMinor: amount.amountMinor, currency, pinnedAccount: input.card_processing_id ?? null }
  }

  /** `checkMint` then `mint`, for callers without an Idempotency-Key (the CLI, the bench). */
  mintLink(tenantId: TenantId, input: MintInput): Promise<MintedLink> {
    return this.mint(tenantId, this.checkMint(input))
  }

  /**
   * `POST /v1/platform/card/payment-link`: a `pending` intent and its one-time link, in
   * `tx` when given (the Idempotency-Key's transaction).
   */
  async mint(tenantId: TenantId, order: MintOrder, tx: Repositories = this.store): Promise<MintedLink> {
    const id = newId('paymentIntent')
    const token = randomToken(32)
    const now = this.clock.now()
    const expiresAt = new Date(now.getTime() + this.options.linkTtlSeconds * 1000).toISOString()
    const { userId, pinnedAccount: pinned, currency } = order
    const row = { tenantId, id, userId, tokenHash: sha256(token), amountMinor: order.amountMinor, currency, pinnedAccount: pinned, expiresAt, now: now.toISOString() }
    const written = tx === this.store ? await this.minting.submit(row) : await tx.intents.mint(tenantId, row)
    if (!written) {
      const why = await tx.intents.whyNotMinted(tenantId, userId, pinned)
      if (!why.userExists) throw new AppError('not_found', 'No such user.', [{ field: 'user_id', issue: 'is not a user of yours' }])
      if (pinned && why.pinnedApproved) {
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
    return { paymentIntentId: id, payUrl: `${this.options.publicBaseUrl}/pay/${token}`, expiresAt }
  }

  async get(tenantId: TenantId, id: string): Promise<PaymentIntent> {
    const intent = await this.store.intents.get(tenantId, id)
    if (!intent) throw notFound('payment intent')
    return this.expireIfDue(intent)
  }

  /**
   * A page of intents, newest first, filtered. An amount range (`amount_gte`, `amount_lte`:
   * decimal strings in major units, both ends included) is compared exactly in minor units,
   * which only mean something in one currency: it needs `currency`. `0` is accepted as a
   * lower bound (everything); otherwise a bound follows the minting rules for its currency.
   */
  async list(tenantId: TenantId, q: IntentListQuery) {
    const after = decodeCursor(q.cursor)
    for (const field of ['created_gte', 'created_lt'] as const) {
      const t = q[field]
      if (t && !storableTimestamp(t)) throw invalid(field, 'must be a date-time from the year 0001 on, with a UTC offset within ±15:59')
    }
    let currency: CurrencyCode | undefined
    if (q.currency !== undefined) {
      currency = toCurrency(q.currency)
      if (!currency) throw invalid('currency', 'must be a current ISO 4217 currency code, such as USD')
    }
    const bound = (field: 'amount_gte' | 'amount_lte'): number | undefined => {
      const text = q[field]
      if (text === undefined) return undefined
      if (!currency) throw invalid('currency', `is required with ${field} (amounts are compared in one currency)`)
      if (/^0+(\.0+)?$/.test(text)) return 0
      const amount = parseAmount(text, currency)
      if (!amount.ok) throw invalid(field, AMOUNT_PROBLEMS[amount.problem])
      return amount.amountMinor
    }
    const amountGte = bound('amount_gte')
    const amountLte = bound('amount_lte')
    const rows = await this.store.intents.list(tenantId, {
      ...(q.user_id !== undefined ? { userId: q.user_id } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.created_gte !== undefined ? { createdGte: q.created_gte } : {}),
      ...(q.created_lt !== undefined ? { createdLt: q.created_lt } : {}),
      ...(currency !== undefined ? { currency } : {}),
      ...(amountGte !== undefined ? { amountGte } : {}),
      ...(amountLte !== undefined ? { amountLte } : {}),
      ...(after ? { after } : {}),
      limit: q.limit + 1,
    })
    const now = this.clock.now()
    const intents = await Promise.all(rows.map((i) => (i.status === 'pending' && i.expiresAt <= now ? this.expireIfDue(i) : i)))
    return pageOf(intents, q.limit, (i) => i)
  }
}
