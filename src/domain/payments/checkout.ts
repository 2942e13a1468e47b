/**
 * The hosted page's side of a payment: opening a link (the used-once rule), confirming a
 * card, answering a 3-D Secure challenge.
 *
 * Money is never lost or doubled:
 * - one conditional update (`pending → processing`) decides which confirm charges;
 * - the processor is called outside any transaction with the intent id as idempotency key;
 * - the outcome, the saved card (and the webhook event, through `onFinal`) commit in one
 *   transaction, conditional on the intent still being `processing`.
 * An intent left `processing` by a crash is finished by recovery (`finishFromProcessor`).
 */
import type { Db, Queryable } from '../../storage/db.js'
import { sql } from '../../storage/db.js'
import { repositoriesOn } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import { safeEqual, sha256, type Sealer } from '../shared/crypto.js'
import { AppError } from '../shared/errors.js'
import { randomToken } from '../shared/random.js'
import { checkCard, type CardFields } from '../cards/checks.js'
import type { SavedCard, SavedCardService } from '../cards/saved-cards.js'
import type { ChargeResult } from '../../processors/card-processor.js'
import type { ProcessorSet } from '../../processors/registry.js'
import { FAILURE_MESSAGES } from './failures.js'
import { INTENT_COLUMNS, intentFrom, type FailureCode, type PaymentIntent } from './intents.js'

/** What a link opens to, before anything is rendered. */
export interface LinkView {
  tenantId: string
  tenantName: string
  allowedOrigins: string[]
  allowTopLevel: boolean
  intent: PaymentIntent
  claimed: boolean
  processor: string
}

export type OpenResult =
  | { state: 'not_found' }
  | { state: 'expired'; link: LinkView }
  | { state: 'used'; link: LinkView }
  | { state: 'top_level'; link: LinkView }
  | { state: 'preview'; link: LinkView }
  | { state: 'ready'; link: LinkView; sessionSecret: string; savedCards: SavedCard[] }

/** How the browser asked for the page, from Fetch Metadata. */
export type LoadKind = 'frame' | 'document' | 'prefetch' | 'other'

export type ConfirmInput = { card: CardFields; save_card?: boolean } | { saved_card_id: string }

export interface PaymentResult {
  payment_intent_id: string
  status: 'succeeded' | 'failed' | 'requires_authentication' | 'processing'
  failure_code: FailureCode | null
  failure_message: string | null
  challenge?: { id: string; prompt: string }
  card: { brand: string; last4: string } | null
  saved_card_id: string | null
}

/** Called in the transaction that makes an intent final (the outbox writes its event here). */
export type OnFinal = (tx: Queryable, intent: PaymentIntent) => Promise<void>

const LINK_BY_TOKEN = sql(
  'page_link_by_token',
  `SELECT i.link_claimed_at AS claimed_at, i.link_session_hash AS session_hash, t.name AS tenant_name, t.allowed_origins, t.allow_top_level, a.processor,
          ${INTENT_COLUMNS.split(', ').map((c) => `i.${c}`).join(', ')}
     FROM payment_intents i
     JOIN tenants t ON t.id = i.tenant_id
     JOIN card_processing_accounts a ON a.tenant_id = i.tenant_id AND a.id = i.account_id
    WHERE i.link_token_hash = $1`,
)
const CLAIM = sql(
  'page_claim_link',
  `UPDATE payment_intents SET link_claimed_at = $2, link_session_hash = $3
    WHERE link_token_hash = $1 AND link_claimed_at IS NULL AND status = 'pending' AND expires_at > $2
    RETURNING id AS payment_intent_id`,
)
const START_PROCESSING = sql(
  'intent_start_processing',
  `UPDATE payment_intents SET status = 'processing', updated_at = $3, save_card = $4, card_fingerprint = $5
    WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND expires_at > $3
    RETURNING ${INTENT_COLUMNS}`,
)
const FINISH = sql(
  'intent_finish',
  `UPDATE payment_intents SET status = $3, failure_code = $4, failure_message = $5, card_brand = $6, card_last4 = $7,
          card_exp_month = $8, card_exp_year = $9, processor_reference = $10, saved_card_id = $11, challenge_id = NULL, updated_at = $12
    WHERE tenant_id = $1 AND id = $2 AND status = 'processing'
    RETURNING ${INTENT_COLUMNS}`,
)
const EXPIRE = sql(
  'intent_expire',
  `UPDATE payment_intents SET status = 'failed', failure_code = 'link_expired', failure_message = $3, updated_at = $4
    WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND expires_at <= $4
    RETURNING ${INTENT_COLUMNS}`,
)

export interface CheckoutDeps {
  db: Db
  clock: Clock
  sealer: Sealer
  processors: ProcessorSet
  savedCards: SavedCardService
  onFinal: OnFinal
}

const hashToken = (token: string) => sha256(token)

export class CheckoutService {
  constructor(private readonly deps: CheckoutDeps) {}

  private async view(token: string): Promise<(LinkView & { sessionHash: Buffer | null }) | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
    const [row] = await this.deps.db.query(LINK_BY_TOKEN, [hashToken(token)])
    if (!row) return undefined
    return {
      tenantId: row.tenant_id as string,
      tenantName: row.tenant_name as string,
      allowedOrigins: row.allowed_origins as string[],
      allowTopLevel: row.allow_top_level as boolean,
      intent: intentFrom(row),
      claimed: row.claimed_at !== null,
      processor: row.processor as string,
      sessionHash: (row.session_hash as Buffer | null) ?? null,
    }
  }

  /** Makes a `pending` intent past its expiry `failed` / `link_expired`, with its event. Returns the intent as it now is. */
  async expireIfDue(intent: PaymentIntent): Promise<PaymentIntent> {
    if (intent.status !== 'pending' || intent.expiresAt > this.deps.clock.now()) return intent
    return this.deps.db.transaction(async (tx) => {
      const [row] = await tx.query(EXPIRE, [intent.tenantId, intent.id, FAILURE_MESSAGES.link_expired, this.deps.clock.now()])
      if (!row) return intent
      const expired = intentFrom(row)
      await this.deps.onFinal(tx, expired)
      return expired
    })
  }

  /** GET /pay/{token}: the used-once rule. Only a framed load claims the link. */
  async open(token: string, kind: LoadKind): Promise<OpenResult> {
    const found = await this.view(token)
    if (!found) return { state: 'not_found' }
    const { sessionHash: _ignored, ...link } = found
    link.intent = await this.expireIfDue(link.intent)
    if (link.intent.status === 'failed' && link.intent.failureCode === 'link_expired') return { state: 'expired', link }
    if (link.claimed || link.intent.status !== 'pending') return { state: 'used', link }
    if (kind === 'prefetch') return { state: 'preview', link }
    if (kind === 'document' && !link.allowTopLevel) return { state: 'top_level', link }
    if (kind === 'other') return { state: 'top_level', link }
    const sessionSecret = randomToken(32)
    const claimed = await this.deps.db.query(CLAIM, [hashToken(token), this.deps.clock.now(), hashToken(sessionSecret)])
    if (claimed.length === 0) return { state: 'used', link }
    const savedCards = await this.deps.savedCards.listFor(link.tenantId, link.intent.userId, link.intent.accountId)
    return { state: 'ready', link, sessionSecret, savedCards }
  }

  /** Finds the link for a page call and checks its page-session secret. */
  private async session(token: string, sessionSecret: string | undefined) {
    const found = await this.view(token)
    if (!found) throw new AppError('not_found', 'No such payment link.')
    if (!sessionSecret || !found.sessionHash || !safeEqual(hashToken(sessionSecret), found.sessionHash)) {
      throw new AppError('unauthorized', 'This payment page session is not valid. Reload the page from the shop.')
    }
    return found
  }

  /** POST /pay/{token}/confirm. */
  async confirm(token: string, sessionSecret: string | undefined, input: ConfirmInput): Promise<PaymentResult> {
    const link = await this.session(token, sessionSecret)
    const now = this.deps.clock.now()
    let saved: { card: SavedCard; token: string } | undefined
    let fingerprint: string | null = null
    const saveCard = 'card' in input && input.save_card === true
    if ('card' in input) {
      const problems = checkCard(input.card, now)
      if (problems.length) {
        throw new AppError(
          'validation_error',
          'Check the card details.',
          problems.map((p) => ({ field: `card.${p.field}`, issue: p.issue })),
        )
      }
      if (saveCard) fingerprint = this.deps.savedCards.fingerprint(link.tenantId, input.card.number.replace(/[\s-]/g, ''))
    } else {
      saved = await this.deps.savedCards.tokenFor(link.tenantId, input.saved_card_id, link.intent.userId, link.intent.accountId)
      if (!saved) throw new AppError('validation_error', 'That saved card cannot be used.', [{ field: 'saved_card_id', issue: 'is not a saved card of this user' }])
    }
    const intent = await this.expireIfDue(link.intent)
    if (intent.status === 'failed' && intent.failureCode === 'link_expired') throw new AppError('link_expired', 'This payment link has expired.')
    const [started] = await this.deps.db.query(START_PROCESSING, [link.tenantId, intent.id, now, saveCard, fingerprint])
    if (!started) throw new AppError('payment_in_progress', 'This payment is already being processed or is finished.')
    const processor = this.deps.processors.get(link.processor)
    const result = await processor.charge({
      idempotencyKey: intent.id,
      amountMinor: intent.amountMinor,
      currency: intent.currency,
      ...('card' in input
        ? {
            card: {
              number: input.card.number.replace(/[\s-]/g, ''),
              expMonth: input.card.exp_month,
              expYear: input.card.exp_year,
              cvc: input.card.cvc,
              ...(input.card.name ? { name: input.card.name } : {}),
            },
          }
        : { savedToken: saved!.token }),
      saveCard,
      accountConfig: {},
    })
    // The flags were written just now by START_PROCESSING, which only the winning confirm runs: no need to read them back.
    return this.settle(intentFrom(started), result, saved?.card.id ?? null, { saveCard, fingerprint })
  }

  /** POST /pay/{token}/challenge: the cardholder's answer to 3-D Secure. */
  async answerChallenge(token: string, sessionSecret: string | undefined, answer: 'approve' | 'decline'): Promise<PaymentResult> {
    const link = await this.session(token, sessionSecret)
    const [row] = await this.deps.db.query(`SELECT ${INTENT_COLUMNS}, challenge_id FROM payment_intents WHERE tenant_id = $1 AND id = $2`, [link.tenantId, link.intent.id])
    if (!row || row.status !== 'processing' || !row.challenge_id) throw new AppError('payment_in_progress', 'There is no challenge waiting for an answer.')
    // A challenge not answered before the link expires fails as authentication_failed, whatever comes late.
    const late = intentFrom(row).expiresAt <= this.deps.clock.now()
    const result = await this.deps.processors.get(link.processor).completeAuthentication(link.intent.id, late ? 'decline' : answer)
    return this.settle(intentFrom(row), result, (row.saved_card_id as string | null) ?? null)
  }

  /**
   * Records what the processor said. A challenge keeps the intent `processing`; a final
   * outcome commits with the saved card and the event, if the intent is still ours.
   * `known` gives the intent's save_card and card_fingerprint when the caller has just
   * written them (confirm); otherwise (recovery, a challenge) they are read in the transaction.
   */
  async settle(intent: PaymentIntent, result: ChargeResult, savedCardId: string | null, known?: { saveCard: boolean; fingerprint: string | null }): Promise<PaymentResult> {
    const now = this.deps.clock.now()
    if (result.outcome === 'requires_authentication') {
      await this.deps.db.query('UPDATE payment_intents SET challenge_id = $3, processor_reference = $4, saved_card_id = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2 AND status = $7', [
        intent.tenantId,
        intent.id,
        result.challenge?.id ?? 'challenge',
        result.reference,
        savedCardId,
        now,
        'processing',
      ])
      return {
        payment_intent_id: intent.id,
        status: 'requires_authentication',
        failure_code: null,
        failure_message: null,
        challenge: result.challenge ?? { id: 'challenge', prompt: 'Confirm this payment with your bank.' },
        card: { brand: result.card.brand, last4: result.card.last4 },
        saved_card_id: savedCardId,
      }
    }
    const final = await this.deps.db.transaction(async (tx) => {
      const [flags] = known
        ? [{ save_card: known.saveCard, card_fingerprint: known.fingerprint }]
        : await tx.query<{ save_card: boolean; card_fingerprint: string | null }>('SELECT save_card, card_fingerprint FROM payment_intents WHERE tenant_id = $1 AND id = $2', [
            intent.tenantId,
            intent.id,
          ])
      let cardId = savedCardId
      if (result.outcome === 'succeeded' && result.savedToken && flags?.save_card && flags.card_fingerprint) {
        cardId = await this.deps.savedCards.save(repositoriesOn(tx), {
          tenantId: intent.tenantId,
          userId: intent.userId,
          accountId: intent.accountId,
          fingerprint: flags.card_fingerprint,
          token: result.savedToken,
          brand: result.card.brand,
          last4: result.card.last4,
          expMonth: result.card.expMonth,
          expYear: result.card.expYear,
        })
      }
      const failureCode = result.outcome === 'failed' ? (result.failureCode ?? 'processing_error') : null
      const [row] = await tx.query(FINISH, [
        intent.tenantId,
        intent.id,
        result.outcome,
        failureCode,
        failureCode ? FAILURE_MESSAGES[failureCode] : null,
        result.card.brand,
        result.card.last4,
        result.card.expMonth,
        result.card.expYear,
        result.reference,
        cardId,
        now,
      ])
      if (!row) return undefined
      const done = intentFrom(row)
      await this.deps.onFinal(tx, done)
      return done
    })
    const latest = final ?? (await this.current(intent))
    return resultJson(latest)
  }

  /** The processor never saw this intent's key: nothing was charged, so it fails plainly. */
  async failUnreached(intent: PaymentIntent): Promise<PaymentResult> {
    const now = this.deps.clock.now()
    const done = await this.deps.db.transaction(async (tx) => {
      const [row] = await tx.query(
        `UPDATE payment_intents SET status = 'failed', failure_code = 'processing_error', failure_message = $3, challenge_id = NULL, updated_at = $4
          WHERE tenant_id = $1 AND id = $2 AND status = 'processing' RETURNING ${INTENT_COLUMNS}`,
        [intent.tenantId, intent.id, FAILURE_MESSAGES.processing_error, now],
      )
      if (!row) return undefined
      const failed = intentFrom(row)
      await this.deps.onFinal(tx, failed)
      return failed
    })
    return resultJson(done ?? (await this.current(intent)))
  }

  private async current(intent: PaymentIntent): Promise<PaymentIntent> {
    const [row] = await this.deps.db.query(`SELECT ${INTENT_COLUMNS} FROM payment_intents WHERE tenant_id = $1 AND id = $2`, [intent.tenantId, intent.id])
    return intentFrom(row!)
  }
}

export const resultJson = (i: PaymentIntent): PaymentResult => ({
  payment_intent_id: i.id,
  status: i.status === 'pending' ? 'processing' : i.status,
  failure_code: i.failureCode,
  failure_message: i.failureMessage,
  card: i.card ? { brand: i.card.brand, last4: i.card.last4 } : null,
  saved_card_id: i.savedCardId,
})

