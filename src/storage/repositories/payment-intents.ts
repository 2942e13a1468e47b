/**
 * Payment intents and their links. Every status change of an intent is one method here,
 * named after its transition in src/domain/payments/state.ts and performing it with one
 * conditional update whose source states come from that table; each answers the intent as
 * it now is when it won, `undefined` when another transition got there first.
 *
 * Crossing tenants on purpose: the link lookup and claim (a token is all the page has; its
 * hash is unique across tenants) and the sweeps of the background jobs.
 */
import { sql, type Queryable } from '../db.js'
import type { CurrencyCode } from '../../domain/shared/currencies.js'
import type { AccountId, PaymentIntentId, TenantId, UserId } from '../../domain/shared/ids.js'
import { INTENT_TRANSITIONS, statesOf, type IntentEvent, type IntentState, type IntentStatus } from '../../domain/payments/state.js'
import type { FailureCode, PaymentIntent } from '../../domain/payments/intents.js'
import { DEFAULT_ACCOUNT_ORDER } from './accounts.js'
import { eventDeliveryIds } from './webhooks.js'

const COLUMNS =
  'tenant_id, id, user_id, account_id, amount_minor, amount_refunded_minor, currency, status, failure_code, failure_message, processor_code, processor_message, card_brand, card_last4, card_exp_month, card_exp_year, saved_card_id, processor_reference, expires_at, created_at, updated_at'
const I_COLUMNS = COLUMNS.split(', ')
  .map((c) => `i.${c}`)
  .join(', ')

/** The source states of a transition, as a SQL array literal (constants only: no input reaches it). */
const from = (event: IntentEvent) => `ARRAY[${INTENT_TRANSITIONS[event].from.map((s) => `'${s}'`).join(', ')}]::text[]`
const to = (event: IntentEvent) => `'${INTENT_TRANSITIONS[event].to}'`

/** One link to mint: the intent's row as the mint writes it (its account is chosen in SQL). */
export interface MintRow {
  id: PaymentIntentId
  userId: string
  tokenHash: Buffer
  amountMinor: number
  currency: CurrencyCode
  pinnedAccount: string | null
  expiresAt: string
  now: string
}
/** A MintRow with its tenant, for `mintMany` (which writes rows of any tenants). */
export type TenantMintRow = MintRow & { tenantId: TenantId }

function intentFrom(r: Record<string, unknown>): PaymentIntent {
  return {
    id: r.id as PaymentIntentId,
    tenantId: r.tenant_id as TenantId,
    userId: r.user_id as UserId,
    accountId: r.account_id as AccountId,
    amountMinor: Number(r.amount_minor),
    amountRefundedMinor: Number(r.amount_refunded_minor),
    currency: r.currency as CurrencyCode,
    status: r.status as IntentState,
    failureCode: (r.failure_code as FailureCode | null) ?? null,
    failureMessage: (r.failure_message as string | null) ?? null,
    processorCode: (r.processor_code as string | null) ?? null,
    processorMessage: (r.processor_message as string | null) ?? null,
    card: r.card_brand
      ? { brand: r.card_brand as string, last4: r.card_last4 as string, expMonth: r.card_exp_month as number, expYear: r.card_exp_year as number }
      : null,
    savedCardId: (r.saved_card_id as string | null) ?? null,
    processorRef: (r.processor_reference as string | null) ?? null,
    expiresAt: new Date(r.expires_at as Date),
    createdAt: new Date(r.created_at as Date),
    updatedAt: new Date(r.updated_at as Date),
  }
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
/**
 * Many mints in one statement (see `mintMany`): the same choice of account as MINT, made per
 * row; a row without an approved account is not inserted, and its id is not returned.
 */
const MINT_MANY = sql(
  'payment_link_mint_many',
  `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, expires_at, created_at, updated_at, link_token_hash)
   SELECT o.tenant_id, o.id, o.user_id, account.id, o.amount_minor, o.currency, 'pending', o.expires_at, o.created_at, o.created_at, decode(o.token_hash, 'hex')
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[])
          AS o (tenant_id, id, user_id, token_hash, amount_minor, currency, pinned, expires_at, created_at)
     CROSS JOIN LATERAL (
       SELECT a.id FROM card_processing_enrolments e
         JOIN card_processing_accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
        WHERE e.tenant_id = o.tenant_id AND e.user_id = o.user_id AND e.status = 'approved'
          AND o.currency = ANY (a.currencies) AND (o.pinned IS NULL OR a.id = o.pinned)
        ORDER BY ${DEFAULT_ACCOUNT_ORDER} LIMIT 1
     ) account
   RETURNING id`,
)
const WHY_NOT_MINTED = sql(
  'payment_link_why_not',
  `SELECT EXISTS (SELECT 1 FROM end_users WHERE tenant_id = $1 AND id = $2) AS user_ok,
          EXISTS (SELECT 1 FROM card_processing_enrolments WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3 AND status = 'approved') AS pinned_approved`,
)
const GET = sql('payment_intent_get', `SELECT ${COLUMNS} FROM payment_intents WHERE tenant_id = $1 AND id = $2`)
const LIST = sql(
  'payment_intent_list',
  `SELECT ${COLUMNS} FROM payment_intents
    WHERE tenant_id = $1 AND ($2::text IS NULL OR user_id = $2) AND ($3::text[] IS NULL OR status = ANY ($3::text[]))
      AND ($4::timestamptz IS NULL OR created_at >= $4) AND ($5::timestamptz IS NULL OR created_at < $5)
      AND ($6::timestamptz IS NULL OR (created_at, id) < ($6::timestamptz, $7::text))
      AND ($9::text IS NULL OR currency = $9) AND ($10::bigint IS NULL OR amount_minor >= $10) AND ($11::bigint IS NULL OR amount_minor <= $11)
    ORDER BY created_at DESC, id DESC LIMIT $8`,
)
const LINK_BY_TOKEN = sql(
  'page_link_by_token',
  `SELECT i.link_claimed_at AS claimed_at, i.link_session_hash AS session_hash, i.return_state_hash, i.action_redirect, t.name AS tenant_name, t.allowed_origins, t.allow_top_level,
          a.processor, a.config_encrypted,
          ${I_COLUMNS}
     FROM payment_intents i
     JOIN tenants t ON t.id = i.tenant_id
     JOIN card_processing_accounts a ON a.tenant_id = i.tenant_id AND a.id = i.account_id
    WHERE i.link_token_hash = $1`,
)
const CLAIM = sql(
  'page_claim_link',
  `UPDATE payment_intents SET link_claimed_at = $2, link_session_hash = $3
    WHERE link_token_hash = $1 AND link_claimed_at IS NULL AND status = 'pending' AND expires_at > $2`,
)
const START = sql(
  'intent_start_processing',
  `UPDATE payment_intents SET status = ${to('start')}, updated_at = $3, confirmed_at = $3, save_card = $4, card_fingerprint = $5,
          card_brand = $6, card_last4 = $7, card_exp_month = $8, card_exp_year = $9, saved_card_id = $10
    WHERE tenant_id = $1 AND id = $2 AND status = ANY (${from('start')}) AND expires_at > $3
    RETURNING ${COLUMNS}`,
)
/**
 * `start` for the page's session in one round trip: the link's token hash and the session's
 * hash find the intent, and the account's processor comes back with it. No row: the caller
 * takes the long way (read, check, expire if due, `start`), which says why.
 */
const START_BY_SESSION = sql(
  'intent_start_by_session',
  `UPDATE payment_intents i SET status = ${to('start')}, updated_at = $3, confirmed_at = $3, save_card = false, card_fingerprint = NULL,
          card_brand = $4, card_last4 = $5, card_exp_month = $6, card_exp_year = $7, saved_card_id = NULL
     FROM card_processing_accounts a
    WHERE i.link_token_hash = $1 AND i.link_session_hash = $2 AND i.status = ANY (${from('start')}) AND i.expires_at > $3
      AND a.tenant_id = i.tenant_id AND a.id = i.account_id
    RETURNING ${I_COLUMNS}, a.processor, a.config_encrypted`,
)
const REMEMBER = sql(
  'intent_remember_reference',
  `UPDATE payment_intents SET processor_reference = $3 WHERE tenant_id = $1 AND id = $2 AND status = ${to('start')}`,
)
/** A `prepare`d attempt's id, on an intent still waiting for its confirm (and only the first: the processor gives one). */
const PREPARED = sql(
  'intent_prepared_reference',
  `UPDATE payment_intents SET processor_reference = $3 WHERE tenant_id = $1 AND id = $2 AND status = ANY (${from('start')}) AND processor_reference IS NULL`,
)
const REQUIRE_ACTION = sql(
  'intent_require_action',
  `UPDATE payment_intents SET status = ${to('require_action')}, challenge_id = $3, processor_reference = $4, return_state_hash = $5, action_redirect = $7, updated_at = $6, action_required_at = $6
    WHERE tenant_id = $1 AND id = $2 AND status = ANY (${from('require_action')})`,
)
const RESUME = sql(
  'intent_resume',
  `UPDATE payment_intents SET status = ${to('resume')}, return_state_hash = NULL, action_redirect = NULL, updated_at = $3
    WHERE tenant_id = $1 AND id = $2 AND status = ANY (${from('resume')})
    RETURNING ${COLUMNS}`,
)
const AWAIT_PROCESSOR = sql(
  'intent_await_processor',
  `UPDATE payment_intents SET status = ${to('await_processor')}, processor_reference = COALESCE($3, processor_reference), updated_at = $4
    WHERE tenant_id = $1 AND id = $2 AND status = ANY (${from('await_processor')})`,
)
/** `succeed` and `fail` leave the same states; the statement takes its target as $3 (checked by the caller against the table). */
const FINISH_SET = `UPDATE payment_intents SET status = $3, failure_code = $4, failure_message = $5, processor_code = $13, processor_message = $14,
          card_brand = COALESCE($6, card_brand), card_last4 = COALESCE($7, card_last4), card_exp_month = COALESCE($8, card_exp_month),
          card_exp_year = COALESCE($9, card_exp_year), processor_reference = COALESCE($10, processor_reference),
          saved_card_id = COALESCE($11, saved_card_id), challenge_id = NULL, return_state_hash = NULL, action_redirect = NULL, updated_at = $12, finished_at = $12
    WHERE tenant_id = $1 AND id = $2 AND status = ANY (${from('succeed')})`
const FINISH = sql('intent_finish', `${FINISH_SET} RETURNING ${COLUMNS}`)
/**
 * `finish` and its outcome's event with a delivery per enabled endpoint, as one statement
 * (one round trip, no transaction held open): only while the intent is exactly as the
 * caller last saw it ($15, its `updated_at`), so that the event's body, made from what the
 * caller saw, is the intent as it now is; and only when the tenant has no more enabled
 * endpoints than the delivery ids given ($19), so that every endpoint gets its delivery in
 * the same commit. No row: the caller takes the transactional way.
 */
const FINISH_WITH_EVENT = sql(
  'intent_finish_with_event',
  `WITH done AS (
     ${FINISH_SET} AND updated_at = $15
       AND (SELECT count(*) FROM webhook_endpoints e WHERE e.tenant_id = $1 AND e.status = 'enabled' AND e.deleted_at IS NULL) <= cardinality($19::text[])
     RETURNING ${COLUMNS}
   ), ev AS (
     INSERT INTO events (tenant_id, id, type, payment_intent_id, refund_id, body, created_at)
     SELECT tenant_id, $16, $17, id, NULL, $18, $12 FROM done
     ON CONFLICT (tenant_id, payment_intent_id, type) WHERE payment_intent_id IS NOT NULL AND refund_id IS NULL DO NOTHING
     RETURNING tenant_id, id, created_at
   ), endpoint AS (
     SELECT e.id, row_number() OVER (ORDER BY e.id) AS n
       FROM ev JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.status = 'enabled' AND e.deleted_at IS NULL
   ), queued AS (
     INSERT INTO deliveries (tenant_id, id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT ev.tenant_id, ($19::text[])[endpoint.n], ev.id, endpoint.id, 'pending', 0, ev.created_at, ev.created_at, ev.created_at
       FROM ev, endpoint
   )
   SELECT ${COLUMNS} FROM done`,
)
const EXPIRE = sql(
  'intent_expire',
  `UPDATE payment_intents SET status = ${to('expire')}, failure_code = 'link_expired', failure_message = $3, updated_at = $4, finished_at = $4
    WHERE tenant_id = $1 AND id = $2 AND status = ANY (${from('expire')}) AND expires_at <= $4
    RETURNING ${COLUMNS}`,
)
const SAVE_FLAGS = sql('intent_save_flags', 'SELECT save_card, card_fingerprint FROM payment_intents WHERE tenant_id = $1 AND id = $2')

/** What a link opens to, read by its token's hash. */
export interface LinkRecord {
  intent: PaymentIntent
  tenantName: string
  allowedOrigins: string[]
  allowTopLevel: boolean
  processor: string
  /** The account's processor configuration, sealed as stored. */
  configSealed: string | null
  claimed: boolean
  sessionHash: Buffer | null
  returnStateHash: Buffer | null
  /** Where a 3-D Secure redirect sends the frame (JSON), while the intent waits for it. */
  actionRedirect: string | null
}

export interface IntentFilter {
  userId?: string
  status?: IntentStatus
  createdGte?: string
  createdLt?: string
  currency?: CurrencyCode
  /** Minor units of `currency`, inclusive. */
  amountGte?: number
  amountLte?: number
  after?: { createdAt: Date; id: string }
  /** Rows to read (a page's limit plus one). */
  limit: number
}

/** A final outcome; what is null or absent keeps what the intent has (the card written at `start`, the reference remembered). */
export interface Outcome {
  status: 'succeeded' | 'failed'
  failureCode: FailureCode | null
  failureMessage: string | null
  processorCode: string | null
  processorMessage: string | null
  card?: { brand: string; last4: string; expMonth: number; expYear: number } | undefined
  processorReference: string | null
  savedCardId: string | null
}

/** An intent waiting on its processor, with what it takes to ask it. */
export interface WaitingIntent extends PaymentIntent {
  processor: string
  configSealed: string | null
}

/** RFC 3339 allows two times PostgreSQL refuses: the year 0000 and offsets beyond ±15:59. */
export const storableTimestamp = (t: string) => !t.startsWith('0000') && Number(/[+-](\d{2}):\d{2}$/.exec(t)?.[1] ?? 0) <= 15

export class PaymentIntentRepository {
  constructor(private readonly q: Queryable) {}

  /**
   * Writes a `pending` intent with its link on the user's default approved account for the
   * currency (or the pinned one). Answers false when nothing fitted (see `whyNotMinted`).
   * Times go as UTC ISO text: `pg` formats a Date by hand in local time.
   */
  async mint(tenantId: TenantId, m: MintRow): Promise<boolean> {
    return (await this.q.run(MINT, [tenantId, m.id, m.userId, m.tokenHash, m.amountMinor, m.currency, m.pinnedAccount, m.expiresAt, m.now])) > 0
  }

  /**
   * `mint` for many links at once (of any tenants), in one statement: whether each was
   * written, in order. All or none fail together on an error (the caller then mints each alone).
   */
  async mintMany(rows: TenantMintRow[]): Promise<boolean[]> {
    const column = <T>(f: (r: TenantMintRow) => T) => rows.map(f)
    const written = await this.q.query<{ id: string }>(MINT_MANY, [
      column((r) => r.tenantId),
      column((r) => r.id),
      column((r) => r.userId),
      column((r) => r.tokenHash.toString('hex')),
      column((r) => r.amountMinor),
      column((r) => r.currency),
      column((r) => r.pinnedAccount),
      column((r) => r.expiresAt),
      column((r) => r.now),
    ])
    const ids = new Set(written.map((w) => w.id))
    return rows.map((r) => ids.has(r.id))
  }

  async whyNotMinted(tenantId: TenantId, userId: string, pinnedAccount: string | null): Promise<{ userExists: boolean; pinnedApproved: boolean }> {
    const [why] = await this.q.query<{ user_ok: boolean; pinned_approved: boolean }>(WHY_NOT_MINTED, [tenantId, userId, pinnedAccount])
    return { userExists: why?.user_ok ?? false, pinnedApproved: why?.pinned_approved ?? false }
  }

  async get(tenantId: TenantId, id: string): Promise<PaymentIntent | undefined> {
    const [row] = await this.q.query(GET, [tenantId, id])
    return row ? intentFrom(row) : undefined
  }

  /** Newest first. The caller checks times with `storableTimestamp` first. */
  async list(tenantId: TenantId, f: IntentFilter): Promise<PaymentIntent[]> {
    const rows = await this.q.query(LIST, [
      tenantId,
      f.userId ?? null,
      f.status ? statesOf(f.status) : null,
      f.createdGte ?? null,
      f.createdLt ?? null,
      f.after?.createdAt ?? null,
      f.after?.id ?? null,
      f.limit,
      f.currency ?? null,
      f.amountGte ?? null,
      f.amountLte ?? null,
    ])
    return rows.map(intentFrom)
  }

  async saveFlags(tenantId: TenantId, id: PaymentIntentId): Promise<{ saveCard: boolean; fingerprint: string | null }> {
    const [row] = await this.q.query<{ save_card: boolean; card_fingerprint: string | null }>(SAVE_FLAGS, [tenantId, id])
    return { saveCard: row?.save_card ?? false, fingerprint: row?.card_fingerprint ?? null }
  }

  /** The link behind a token's hash, with its tenant and processor. Crosses tenants: the token is all the page has. */
  async findLinkByTokenAcrossTenants(tokenHash: Buffer): Promise<LinkRecord | undefined> {
    const [row] = await this.q.query(LINK_BY_TOKEN, [tokenHash])
    if (!row) return undefined
    return {
      intent: intentFrom(row),
      tenantName: row.tenant_name as string,
      allowedOrigins: row.allowed_origins as string[],
      allowTopLevel: row.allow_top_level as boolean,
      processor: row.processor as string,
      configSealed: (row.config_encrypted as string | null) ?? null,
      claimed: row.claimed_at !== null,
      sessionHash: (row.session_hash as Buffer | null) ?? null,
      returnStateHash: (row.return_state_hash as Buffer | null) ?? null,
      actionRedirect: (row.action_redirect as string | null) ?? null,
    }
  }

  /** The used-once rule: the first claim of a pending, unexpired link wins. Crosses tenants, like the lookup. */
  async claimLinkByTokenAcrossTenants(tokenHash: Buffer, sessionHash: Buffer, now: Date): Promise<boolean> {
    return (await this.q.run(CLAIM, [tokenHash, now, sessionHash])) > 0
  }

  /**
   * `start`: pending → processing, for the one confirm that wins. The card's brand, last four
   * and expiry (never more) are written now, so that whoever finishes the payment later
   * (recovery, a webhook) shows the same card.
   */
  async start(
    tenantId: TenantId,
    id: PaymentIntentId,
    now: Date,
    s: { saveCard: boolean; fingerprint: string | null; card: { brand: string; last4: string; expMonth: number; expYear: number }; savedCardId: string | null },
  ): Promise<PaymentIntent | undefined> {
    const [row] = await this.q.query(START, [tenantId, id, now, s.saveCard, s.fingerprint, s.card.brand, s.card.last4, s.card.expMonth, s.card.expYear, s.savedCardId])
    return row ? intentFrom(row) : undefined
  }

  /**
   * `start` by the page's token and session, for a card that is not to be saved: the fast
   * path of a confirm (see START_BY_SESSION). Crosses tenants like the link lookup.
   */
  async startBySessionAcrossTenants(
    tokenHash: Buffer,
    sessionHash: Buffer,
    now: Date,
    card: { brand: string; last4: string; expMonth: number; expYear: number },
  ): Promise<(PaymentIntent & { processor: string; configSealed: string | null }) | undefined> {
    const [row] = await this.q.query(START_BY_SESSION, [tokenHash, sessionHash, now, card.brand, card.last4, card.expMonth, card.expYear])
    return row ? { ...intentFrom(row), processor: row.processor as string, configSealed: (row.config_encrypted as string | null) ?? null } : undefined
  }

  /** Keeps the processor's id for an attempt still `processing` (before the card is sent to it). */
  async rememberReference(tenantId: TenantId, id: PaymentIntentId, processorReference: string): Promise<boolean> {
    return (await this.q.run(REMEMBER, [tenantId, id, processorReference])) > 0
  }

  /** The processor's id of an attempt made ready at page load (`prepare`), before any confirm started. */
  async rememberPrepared(tenantId: TenantId, id: PaymentIntentId, processorReference: string): Promise<boolean> {
    return (await this.q.run(PREPARED, [tenantId, id, processorReference])) > 0
  }

  /** The prepared attempts of an account's intents still waiting for their confirm (its configuration changed). */
  async forgetPrepared(tenantId: TenantId, accountId: AccountId): Promise<number> {
    return this.q.run(`UPDATE payment_intents SET processor_reference = NULL WHERE tenant_id = $1 AND account_id = $2 AND processor_reference IS NOT NULL AND status = ANY (${from('start')})`, [tenantId, accountId])
  }

  /** `require_action`: processing → requires_action, keeping what the answer needs (a challenge, or a redirect's return state). */
  async requireAction(
    tenantId: TenantId,
    id: PaymentIntentId,
    a: { challengeId: string | null; processorReference: string; returnStateHash: Buffer | null; redirect: string | null },
    now: Date,
  ): Promise<boolean> {
    return (await this.q.run(REQUIRE_ACTION, [tenantId, id, a.challengeId, a.processorReference, a.returnStateHash, now, a.redirect])) > 0
  }

  /** `resume`: requires_action → processing, for the one answer (or return from 3-D Secure) that wins. */
  async resume(tenantId: TenantId, id: PaymentIntentId, now: Date): Promise<PaymentIntent | undefined> {
    const [row] = await this.q.query(RESUME, [tenantId, id, now])
    return row ? intentFrom(row) : undefined
  }

  /** `await_processor`: processing → awaiting_processor, when the processor will say later. */
  async awaitProcessor(tenantId: TenantId, id: PaymentIntentId, processorReference: string | null, now: Date): Promise<boolean> {
    return (await this.q.run(AWAIT_PROCESSOR, [tenantId, id, processorReference, now])) > 0
  }

  /** `succeed` or `fail` with the processor's answer. */
  async finish(tenantId: TenantId, id: PaymentIntentId, o: Outcome, now: Date): Promise<PaymentIntent | undefined> {
    const [row] = await this.q.query(FINISH, this.finishParams(tenantId, id, o, now))
    return row ? intentFrom(row) : undefined
  }

  private finishParams(tenantId: TenantId, id: PaymentIntentId, o: Outcome, now: Date): unknown[] {
    return [
      tenantId,
      id,
      INTENT_TRANSITIONS[o.status === 'succeeded' ? 'succeed' : 'fail'].to,
      o.failureCode,
      o.failureMessage,
      o.card?.brand ?? null,
      o.card?.last4 ?? null,
      o.card?.expMonth ?? null,
      o.card?.expYear ?? null,
      o.processorReference,
      o.savedCardId,
      now,
      o.processorCode,
      o.processorMessage,
    ]
  }

  /**
   * `finish` with the outcome's event (and its deliveries) in one statement, while the
   * intent's `updated_at` is still `seenUpdatedAt` and the tenant has no more enabled
   * endpoints than `eventDeliveryIds` gives; undefined otherwise (the caller then takes the
   * transactional way).
   */
  async finishWithEvent(
    tenantId: TenantId,
    id: PaymentIntentId,
    o: Outcome,
    now: Date,
    seenUpdatedAt: Date,
    event: { id: string; type: string; body: string },
  ): Promise<PaymentIntent | undefined> {
    const [row] = await this.q.query(FINISH_WITH_EVENT, [...this.finishParams(tenantId, id, o, now), seenUpdatedAt, event.id, event.type, event.body, eventDeliveryIds()])
    return row ? intentFrom(row) : undefined
  }

  /** `expire`: a pending intent past its `expires_at` fails as `link_expired`. */
  async expire(tenantId: TenantId, id: PaymentIntentId, message: string, now: Date): Promise<PaymentIntent | undefined> {
    const [row] = await this.q.query(EXPIRE, [tenantId, id, message, now])
    return row ? intentFrom(row) : undefined
  }

  /** Links a succeeded intent to the card it saved, when the card's token came after the outcome. */
  async attachSavedCard(tenantId: TenantId, id: PaymentIntentId, cardId: string): Promise<boolean> {
    return (await this.q.run(`UPDATE payment_intents SET saved_card_id = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'succeeded' AND saved_card_id IS NULL`, [tenantId, id, cardId])) > 0
  }

  /** The intent a processor knows by its own id, at one account (a processor webhook without paylink's reference). */
  async findByProcessorRef(tenantId: TenantId, accountId: AccountId, processorRef: string): Promise<PaymentIntent | undefined> {
    const [row] = await this.q.query(`SELECT ${COLUMNS} FROM payment_intents WHERE tenant_id = $1 AND account_id = $2 AND processor_reference = $3`, [tenantId, accountId, processorRef])
    return row ? intentFrom(row) : undefined
  }

  /** Pending intents past their expiry, oldest first, for the sweeper. */
  async dueForExpiryAcrossTenants(now: Date, limit: number): Promise<PaymentIntent[]> {
    const rows = await this.q.query(`SELECT ${COLUMNS} FROM payment_intents WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, [now, limit])
    return rows.map(intentFrom)
  }

  /**
   * Intents recovery must finish, with their account's processor: `processing` and
   * `awaiting_processor` since before `staleBefore`, and `requires_action` past the link's expiry.
   */
  async stuckAcrossTenants(staleBefore: Date, now: Date, limit: number): Promise<WaitingIntent[]> {
    const rows = await this.q.query(
      `SELECT ${I_COLUMNS}, a.processor, a.config_encrypted
         FROM payment_intents i JOIN card_processing_accounts a ON a.tenant_id = i.tenant_id AND a.id = i.account_id
        WHERE i.status IN ('processing', 'requires_action', 'awaiting_processor')
          AND ((i.status <> 'requires_action' AND i.updated_at <= $1) OR (i.status = 'requires_action' AND i.expires_at <= $2))
        ORDER BY i.updated_at LIMIT $3`,
      [staleBefore, now, limit],
    )
    return rows.map((r) => ({ ...intentFrom(r), processor: r.processor as string, configSealed: (r.config_encrypted as string | null) ?? null }))
  }
}
