/**
 * The hosted page's side of a payment: opening a link (the used-once rule), confirming a
 * card, answering a 3-D Secure challenge.
 *
 * Money is never lost or doubled:
 * - one conditional update (`start`: pending → processing) decides which confirm charges;
 * - the processor is called outside any transaction with the intent id as idempotency key;
 * - the outcome, the saved card (and the webhook event, through `onFinal`) commit in one
 *   transaction, conditional on the intent still waiting for that outcome.
 * An intent left `processing` by a crash is finished by recovery (./lifecycle.ts).
 * Every status change goes through the state machine's transitions (./state.ts), each one
 * repository method.
 */
import type { Repositories, Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import { safeEqual, sha256 } from '../shared/crypto.js'
import { AppError } from '../shared/errors.js'
import { randomToken } from '../shared/random.js'
import { checkCard } from '../cards/checks.js'
import type { SavedCard, SavedCardService } from '../cards/saved-cards.js'
import type { ChargeResult } from '../../processors/card-processor.js'
import type { ProcessorSet } from '../../processors/registry.js'
import { FAILURE_MESSAGES } from './failures.js'
import type { PaymentIntent } from './intents.js'
import type { ConfirmInput, Confirmation, LinkView, LoadKind, OpenResult } from './model.js'
import { can, INTENT_TRANSITIONS, notNow } from './state.js'

/** Called in the transaction that makes an intent final (the outbox writes its event here). */
export type OnFinal = (tx: Repositories, intent: PaymentIntent) => Promise<void>

export interface CheckoutDeps {
  store: Store
  clock: Clock
  processors: ProcessorSet
  savedCards: SavedCardService
  onFinal: OnFinal
}

const hashToken = (token: string) => sha256(token)

export class CheckoutService {
  constructor(private readonly deps: CheckoutDeps) {}

  private async view(token: string): Promise<(LinkView & { sessionHash: Buffer | null }) | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
    const found = await this.deps.store.intents.findLinkByTokenAcrossTenants(hashToken(token))
    if (!found) return undefined
    return { ...found, tenantId: found.intent.tenantId }
  }

  /** Makes a `pending` intent past its expiry `failed` / `link_expired`, with its event. Returns the intent as it now is. */
  async expireIfDue(intent: PaymentIntent): Promise<PaymentIntent> {
    if (!can(INTENT_TRANSITIONS, intent.status, 'expire') || intent.expiresAt > this.deps.clock.now()) return intent
    return this.deps.store.transaction(async (tx) => {
      const expired = await tx.intents.expire(intent.tenantId, intent.id, FAILURE_MESSAGES.link_expired, this.deps.clock.now())
      if (!expired) return intent
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
    const claimed = await this.deps.store.intents.claimLinkByTokenAcrossTenants(hashToken(token), hashToken(sessionSecret), this.deps.clock.now())
    if (!claimed) return { state: 'used', link }
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
  async confirm(token: string, sessionSecret: string | undefined, input: ConfirmInput): Promise<Confirmation> {
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
    const started = await this.deps.store.intents.start(link.intent.tenantId, intent.id, now, { saveCard, fingerprint })
    if (!started) throw notNow()
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
    // The flags were written just now by `start`, which only the winning confirm runs: no need to read them back.
    return this.settle(started, result, saved?.card.id ?? null, { saveCard, fingerprint })
  }

  /** POST /pay/{token}/challenge: the cardholder's answer to 3-D Secure. */
  async answerChallenge(token: string, sessionSecret: string | undefined, answer: 'approve' | 'decline'): Promise<Confirmation> {
    const link = await this.session(token, sessionSecret)
    const intent = await this.deps.store.intents.get(link.intent.tenantId, link.intent.id)
    if (!intent || intent.status !== 'requires_action') throw notNow('There is no challenge waiting for an answer.')
    // A challenge not answered before the link expires fails as authentication_failed, whatever comes late.
    const late = intent.expiresAt <= this.deps.clock.now()
    const result = await this.deps.processors.get(link.processor).completeAuthentication(intent.id, late ? 'decline' : answer)
    return this.settle(intent, result, intent.savedCardId)
  }

  /**
   * Records what the processor said. A challenge moves the intent to `requires_action`; a
   * final outcome commits with the saved card and the event, if the intent is still waiting
   * for it. `known` gives the intent's save_card and card_fingerprint when the caller has
   * just written them (confirm); otherwise (recovery, a challenge) they are read in the transaction.
   */
  async settle(intent: PaymentIntent, result: ChargeResult, savedCardId: string | null, known?: { saveCard: boolean; fingerprint: string | null }): Promise<Confirmation> {
    const now = this.deps.clock.now()
    const card = { brand: result.card.brand, last4: result.card.last4 }
    if (result.outcome === 'requires_authentication') {
      const challenge = result.challenge ?? { id: 'challenge', prompt: 'Confirm this payment with your bank.' }
      await this.deps.store.intents.requireAction(intent.tenantId, intent.id, { challengeId: challenge.id, processorReference: result.reference, savedCardId }, now)
      return { intent, challenge: { prompt: challenge, card, savedCardId } }
    }
    const outcome = result.outcome
    const final = await this.deps.store.transaction(async (tx) => {
      const flags = known ?? (await tx.intents.saveFlags(intent.tenantId, intent.id))
      let cardId = savedCardId
      if (outcome === 'succeeded' && result.savedToken && flags.saveCard && flags.fingerprint) {
        cardId = await this.deps.savedCards.save(tx, {
          tenantId: intent.tenantId,
          userId: intent.userId,
          accountId: intent.accountId,
          fingerprint: flags.fingerprint,
          token: result.savedToken,
          brand: result.card.brand,
          last4: result.card.last4,
          expMonth: result.card.expMonth,
          expYear: result.card.expYear,
        })
      }
      const failureCode = outcome === 'failed' ? (result.failureCode ?? 'processing_error') : null
      const done = await tx.intents.finish(
        intent.tenantId,
        intent.id,
        {
          status: outcome,
          failureCode,
          failureMessage: failureCode ? FAILURE_MESSAGES[failureCode] : null,
          card: result.card,
          processorReference: result.reference,
          savedCardId: cardId,
        },
        now,
      )
      if (!done) return undefined
      await this.deps.onFinal(tx, done)
      return done
    })
    return { intent: final ?? (await this.current(intent)) }
  }

  /** The processor never saw this intent's key: nothing was charged, so it fails plainly. */
  async failUnreached(intent: PaymentIntent): Promise<Confirmation> {
    const now = this.deps.clock.now()
    const done = await this.deps.store.transaction(async (tx) => {
      const failed = await tx.intents.failWithoutOutcome(intent.tenantId, intent.id, { code: 'processing_error', message: FAILURE_MESSAGES.processing_error }, now)
      if (!failed) return undefined
      await this.deps.onFinal(tx, failed)
      return failed
    })
    return { intent: done ?? (await this.current(intent)) }
  }

  private async current(intent: PaymentIntent): Promise<PaymentIntent> {
    return (await this.deps.store.intents.get(intent.tenantId, intent.id)) ?? intent
  }
}
