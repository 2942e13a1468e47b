/**
 * The hosted page's side of a payment: opening a link (the used-once rule), confirming a
 * card, answering the sandbox's 3-D Secure challenge or coming back from a processor's.
 *
 * Money is never lost or doubled:
 * - one conditional update (`start`: pending → processing) decides which confirm charges,
 *   and one (`resume`: requires_action → processing) which answer or return completes it;
 * - the processor is called outside any transaction (no database connection is held while
 *   it thinks), with the intent id as the root of its idempotency keys;
 * - the outcome, the saved card (and the webhook event, through `onFinal`) commit in one
 *   transaction, conditional on the intent still waiting for an outcome: whoever comes
 *   second (recovery, the processor's webhook, a late answer) changes nothing.
 * An outcome nobody knows yet (`unknown`: a throw, a timeout) leaves the intent `processing`
 * and the shopper a "confirming" screen; recovery (./lifecycle.ts) or the processor's webhook
 * finishes it. Every status change is a transition of the state machine (./state.ts).
 */
import type { Repositories, Store } from '../../storage/store.js'
import type { LinkRecord, Outcome as IntentOutcome } from '../../storage/repositories/payment-intents.js'
import type { Clock } from '../shared/clock.js'
import { safeEqual, sha256, type Sealer } from '../shared/crypto.js'
import { AppError } from '../shared/errors.js'
import { randomToken } from '../shared/random.js'
import { checkCard } from '../cards/checks.js'
import type { SavedCard, SavedCardService } from '../cards/saved-cards.js'
import { cardBrand } from '../cards/checks.js'
import type { AuthorizeInput, CardProcessor, Outcome, Redirect, Returned, SavedCardToken } from '../../processors/card-processor.js'
import { processorInfo, type ProcessorSet } from '../../processors/registry.js'
import { FAILURE_MESSAGES } from './failures.js'
import type { PaymentIntent } from './intents.js'
import type { ConfirmInput, Confirmation, LinkView, LoadKind, OpenResult, ReturnResult } from './model.js'
import { can, INTENT_TRANSITIONS, notNow } from './state.js'
import { outcomeEvent } from '../webhooks/events.js'

/** Called in the transaction that makes an intent final (the outbox writes its event here). */
export type OnFinal = (tx: Repositories, intent: PaymentIntent) => Promise<void>

export interface CheckoutDeps {
  store: Store
  clock: Clock
  processors: ProcessorSet
  savedCards: SavedCardService
  onFinal: OnFinal
  /**
   * Called after an outcome and its event committed in one statement, without `onFinal`
   * (the confirm's fast path): what `onFinal` does after writing the event (wake the
   * delivery worker).
   */
  written: () => void
  /** Where the processor sends the shopper back after 3-D Secure: PUBLIC_BASE_URL. */
  publicBaseUrl: string
  /** Seals the form a POST redirect needs until the page asks for it (it may carry the processor's secrets). */
  sealer: Sealer
}

/** What a stored POST redirect is sealed to: it opens only as this intent's. */
export const redirectContext = (intentId: string) => `redirect:${intentId}`

/** What a redirect's return needs to be accepted once: a state value, kept hashed. */
const RETURN_STATE_BYTES = 24

/** Calls a processor; a throw is an outcome nobody knows yet, never a failure. */
export async function safely(call: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await call()
  } catch (err) {
    return { kind: 'unknown', reason: err instanceof Error ? err.constructor.name : 'error' }
  }
}

/** The few facts of a waiting intent an outcome is applied with. */
interface Applying {
  /** The intent's save_card and card_fingerprint when the caller has just written them (confirm). */
  known?: { saveCard: boolean; fingerprint: string | null }
  /** The hashed state value a redirect will return with. */
  returnStateHash?: Buffer
  /** A failure when closing an attempt the shopper never finished authenticating is `authentication_failed`. */
  abandonedAction?: boolean
}

const hashToken = (token: string) => sha256(token)

type CardInput = Extract<ConfirmInput, { card: unknown }>['card']

/** A typed card number without its spaces and dashes. */
const digitsOf = (number: string) => number.replace(/[\s-]/g, '')

/** What paylink keeps and shows of a typed card: brand, last four, expiry. */
function shownCard(card: CardInput) {
  const number = digitsOf(card.number)
  return { brand: cardBrand(number) ?? 'unknown', last4: number.slice(-4), expMonth: card.exp_month, expYear: card.exp_year }
}

type Final = Extract<Outcome, { kind: 'succeeded' | 'failed' }>

/** Whether finishing may save the shopper's card (a reusable token came, and the shopper asked or we cannot tell yet). */
const savesCard = (outcome: Final, ctx: Applying) =>
  outcome.kind === 'succeeded' && outcome.savedCard !== undefined && (ctx.known === undefined || (ctx.known.saveCard && ctx.known.fingerprint !== null))

/** The columns a final outcome writes. */
function outcomeRecord(intent: PaymentIntent, outcome: Final, ctx: Applying, savedCardId: string | null): IntentOutcome {
  const failureCode = outcome.kind === 'failed' ? (ctx.abandonedAction ? 'authentication_failed' : outcome.failureCode) : null
  return {
    status: outcome.kind,
    failureCode,
    failureMessage: failureCode ? FAILURE_MESSAGES[failureCode] : null,
    processorCode: outcome.kind === 'failed' ? outcome.processorCode : null,
    processorMessage: outcome.kind === 'failed' ? outcome.processorMessage : null,
    card: outcome.card,
    processorReference: outcome.processorRef ?? null,
    savedCardId: savedCardId ?? intent.savedCardId,
  }
}

export class CheckoutService {
  /**
   * Attempts made ready for pages opened by this process (`prepare`) whose answer has not
   * come yet, by intent id: a confirm that starts meanwhile waits for the id rather than
   * asking the processor for a second one.
   */
  private readonly preparing = new Map<string, Promise<string | undefined>>()

  constructor(private readonly deps: CheckoutDeps) {}

  private async view(token: string): Promise<LinkRecord | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
    return this.deps.store.intents.findLinkByTokenAcrossTenants(hashToken(token))
  }

  /** The adapter for an account (its processor, with its configuration as stored). */
  adapterFor(accountId: string, account: { processor: string; configSealed: string | null }): Promise<CardProcessor> {
    return this.deps.processors.forAccount({ accountId, processor: account.processor, configSealed: account.configSealed })
  }

  /** Makes a `pending` intent past its expiry `failed` / `link_expired`, with its event. Returns the intent as it now is. */
  async expireIfDue(intent: PaymentIntent): Promise<PaymentIntent> {
    if (!can(INTENT_TRANSITIONS, intent.status, 'expire') || intent.expiresAt > this.deps.clock.now()) return intent
    const after = await this.deps.store.transaction(async (tx) => {
      const expired = await tx.intents.expire(intent.tenantId, intent.id, FAILURE_MESSAGES.link_expired, this.deps.clock.now())
      if (!expired) return intent
      await this.deps.onFinal(tx, expired)
      return expired
    })
    if (after !== intent && after.processorRef) this.closePrepared(after)
    return after
  }

  /**
   * A link that expired unpaid after its page made an attempt ready (`prepare`: a Stripe
   * PaymentIntent): the attempt is cancelled at the processor, in the background, so the
   * tenant's processor dashboard shows it cancelled rather than incomplete for ever. It
   * could never be charged anyway (nothing confirms it: the intent has failed); a cancel
   * that does not get through is not tried again.
   */
  private closePrepared(intent: PaymentIntent): void {
    void (async () => {
      const account = await this.deps.store.accounts.processorOf(intent.tenantId, intent.accountId)
      if (!account || !processorInfo(account.processor)?.prepares) return
      const adapter = await this.adapterFor(intent.accountId, account)
      await adapter.cancel({ key: intent.id, processorRef: intent.processorRef! })
    })().catch(() => {})
  }

  /** GET /pay/{token}: the used-once rule. Only a framed load claims the link. */
  async open(token: string, kind: LoadKind): Promise<OpenResult> {
    const found = await this.view(token)
    if (!found) return { state: 'not_found' }
    const link = linkView(found)
    link.intent = await this.expireIfDue(link.intent)
    if (link.intent.status === 'failed' && link.intent.failureCode === 'link_expired') return { state: 'expired', link }
    if (link.claimed || link.intent.status !== 'pending') return { state: 'used', link }
    if (kind === 'prefetch') return { state: 'preview', link }
    if (kind === 'document' && !link.allowTopLevel) return { state: 'top_level', link }
    if (kind === 'other') return { state: 'top_level', link }
    const sessionSecret = randomToken(32)
    const claimed = await this.deps.store.intents.claimLinkByTokenAcrossTenants(hashToken(token), hashToken(sessionSecret), this.deps.clock.now())
    if (!claimed) return { state: 'used', link }
    this.prepare(link.intent, found)
    const savedCards = await this.deps.savedCards.listFor(link.tenantId, link.intent.userId, link.intent.accountId)
    return { state: 'ready', link, sessionSecret, savedCards }
  }

  /**
   * While the shopper types: asks the account's processor, in the background, for what a
   * confirm would first ask it without the card (`CardProcessor.prepare`; Stripe's
   * PaymentIntent), and stores its id on the intent, so that after Pay only the call with
   * the card is left. Nothing waits for it and nothing fails by it: a confirm that finds no
   * id makes the same request itself (the processor answers both with one object).
   */
  private prepare(intent: PaymentIntent, account: { processor: string; configSealed: string | null }): void {
    if (intent.processorRef || !processorInfo(account.processor)?.prepares || this.preparing.has(intent.id)) return
    const made = (async () => {
      const adapter = await this.adapterFor(intent.accountId, account)
      if (!adapter.prepare) return undefined
      const ref = await adapter.prepare({ key: intent.id }, { amountMinor: intent.amountMinor, currency: intent.currency })
      await this.deps.store.intents.rememberPrepared(intent.tenantId, intent.id, ref)
      return ref
    })()
      .catch(() => undefined)
      .finally(() => this.preparing.delete(intent.id))
    this.preparing.set(intent.id, made)
  }

  /** The processor's id of a started intent's attempt: stored, or made ready by this process and on its way (then stored now, before the card goes). */
  private async preparedRef(started: PaymentIntent): Promise<string | undefined> {
    if (started.processorRef) return started.processorRef
    const pending = this.preparing.get(started.id)
    const ref = pending && (await pending)
    if (ref) await this.deps.store.intents.rememberReference(started.tenantId, started.id, ref)
    return ref
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
  async confirm(token: string, sessionSecret: string | undefined, input: ConfirmInput, browser?: AuthorizeInput['browser']): Promise<Confirmation> {
    const fast = await this.startAtOnce(token, sessionSecret, input)
    if (fast) return this.authorize(fast.intent, fast.account, token, input, { saveCard: false, fingerprint: null }, undefined, browser)
    const link = await this.session(token, sessionSecret)
    const now = this.deps.clock.now()
    let saved: { card: SavedCard; token: string; customerRef: string | null } | undefined
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
      if (saveCard) fingerprint = this.deps.savedCards.fingerprint(link.intent.tenantId, digitsOf(input.card.number))
    } else {
      saved = await this.deps.savedCards.tokenFor(link.intent.tenantId, input.saved_card_id, link.intent.userId, link.intent.accountId)
      if (!saved) throw new AppError('validation_error', 'That saved card cannot be used.', [{ field: 'saved_card_id', issue: 'is not a saved card of this user' }])
    }
    const intent = await this.expireIfDue(link.intent)
    if (intent.status === 'failed' && intent.failureCode === 'link_expired') throw new AppError('link_expired', 'This payment link has expired.')
    const card =
      'card' in input ? shownCard(input.card) : { brand: saved!.card.brand, last4: saved!.card.last4, expMonth: saved!.card.expMonth, expYear: saved!.card.expYear }
    const started = await this.deps.store.intents.start(intent.tenantId, intent.id, now, { saveCard, fingerprint, card, savedCardId: saved?.card.id ?? null })
    if (!started) throw notNow()
    return this.authorize(started, link, token, input, { saveCard, fingerprint }, saved, browser)
  }

  /**
   * The usual confirm in one round trip: a new card, not to be saved, with a valid session
   * for a pending link — `start` found by the token and session hashes. Undefined for
   * anything else (a saved card, a card to save, a card with problems, no such session, an
   * intent not pending or past its expiry): `confirm` then takes the long way, which says why.
   */
  private async startAtOnce(token: string, sessionSecret: string | undefined, input: ConfirmInput) {
    if (!('card' in input) || input.save_card === true || !sessionSecret || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined
    const now = this.deps.clock.now()
    if (checkCard(input.card, now).length) return undefined
    const started = await this.deps.store.intents.startBySessionAcrossTenants(hashToken(token), hashToken(sessionSecret), now, shownCard(input.card))
    if (!started) return undefined
    const { processor, configSealed, ...intent } = started
    return { intent, account: { processor, configSealed } }
  }

  /** Sends a started intent's card to its processor and applies the answer. */
  private async authorize(
    started: PaymentIntent,
    account: { processor: string; configSealed: string | null },
    token: string,
    input: ConfirmInput,
    known: { saveCard: boolean; fingerprint: string | null },
    saved: { card: SavedCard; token: string; customerRef: string | null } | undefined,
    browser: AuthorizeInput['browser'] | undefined,
  ): Promise<Confirmation> {
    const saveCard = known.saveCard
    const adapter = await this.adapterFor(started.accountId, account)
    const state = randomToken(RETURN_STATE_BYTES)
    const saveFor = saveCard
      ? { shopperReference: started.userId, ...(await this.customerRef(started)) }
      : undefined
    const processorRef = await this.preparedRef(started)
    const outcome = await safely(() =>
      adapter.authorize(
        {
          key: started.id,
          ...(processorRef ? { processorRef } : {}),
          remember: async (ref) => {
            await this.deps.store.intents.rememberReference(started.tenantId, started.id, ref)
          },
        },
        {
          ...('card' in input
            ? { card: { number: digitsOf(input.card.number), expMonth: input.card.exp_month, expYear: input.card.exp_year, cvc: input.card.cvc, ...(input.card.name ? { name: input.card.name } : {}) } }
            : { savedCard: { token: saved!.token, ...(saved!.customerRef ? { customerRef: saved!.customerRef } : {}) } }),
          amountMinor: started.amountMinor,
          currency: started.currency,
          ...(saveFor ? { saveFor } : {}),
          returnUrl: `${this.deps.publicBaseUrl}/pay/${token}/return?state=${state}`,
          ...(browser ? { browser } : {}),
        },
      ),
    )
    // The flags were written just now by `start`, which only the winning confirm runs: no need to read them back.
    return this.apply(started, outcome, { known, returnStateHash: hashToken(state) })
  }

  private async customerRef(intent: PaymentIntent): Promise<{ customerRef?: string }> {
    const ref = await this.deps.savedCards.customerRef(intent.tenantId, intent.userId, intent.accountId)
    return ref ? { customerRef: ref } : {}
  }

  /** POST /pay/{token}/challenge: the cardholder's answer to the sandbox's in-frame 3-D Secure. */
  async answerChallenge(token: string, sessionSecret: string | undefined, answer: 'approve' | 'decline'): Promise<Confirmation> {
    const link = await this.session(token, sessionSecret)
    const intent = await this.deps.store.intents.get(link.intent.tenantId, link.intent.id)
    if (!intent || intent.status !== 'requires_action') throw notNow('There is no challenge waiting for an answer.')
    // A challenge not answered before the link expires fails as authentication_failed, whatever comes late.
    const late = intent.expiresAt <= this.deps.clock.now()
    const resumed = await this.deps.store.intents.resume(intent.tenantId, intent.id, this.deps.clock.now())
    if (!resumed) throw notNow('There is no challenge waiting for an answer.')
    const adapter = await this.adapterFor(resumed.accountId, link)
    const outcome = await safely(() => adapter.completeAction({ key: resumed.id, ...refOf(resumed) }, { answer: late ? 'decline' : answer }))
    return this.apply(resumed, outcome, { abandonedAction: late })
  }

  /**
   * POST /pay/{token}/redirect: the form a processor's 3-D Secure wants posted, for the
   * page's session while the intent waits for it (the frame then submits it).
   */
  async redirectFor(token: string, sessionSecret: string | undefined): Promise<{ link: LinkView; redirect: Redirect }> {
    const found = await this.session(token, sessionSecret)
    if (found.intent.status !== 'requires_action' || !found.actionRedirect) throw notNow('There is no 3-D Secure page to go to.')
    return { link: linkView(found), redirect: JSON.parse(this.deps.sealer.open(found.actionRedirect, redirectContext(found.intent.id)).toString('utf8')) as Redirect }
  }

  /**
   * GET|POST /pay/{token}/return: the shopper is back from the processor's 3-D Secure. No
   * cookie and no page session travel with a cross-site redirect, so the state value in the
   * URL is the proof: bound to this intent (its hash is stored with the redirect), good once
   * (`resume` clears it) and only until the link expires. The processor is then asked how
   * it ended (`completeAction`) and the outcome applied as for a confirmation.
   */
  async returnFrom(token: string, state: string | undefined, returned: Returned): Promise<ReturnResult> {
    const found = await this.view(token)
    if (!found) return { state: 'not_found' }
    const link = linkView(found)
    if (!state || !found.returnStateHash || !safeEqual(hashToken(state), found.returnStateHash)) return { state: 'used', link }
    if (link.intent.expiresAt <= this.deps.clock.now()) return { state: 'expired', link }
    const resumed = await this.deps.store.intents.resume(link.intent.tenantId, link.intent.id, this.deps.clock.now())
    if (!resumed) return { state: 'used', link }
    const adapter = await this.adapterFor(resumed.accountId, found)
    const outcome = await safely(() => adapter.completeAction({ key: resumed.id, ...refOf(resumed) }, returned))
    return { state: 'returned', link, confirmation: await this.apply(resumed, outcome) }
  }

  /**
   * Applies what the processor said to a waiting intent: a final outcome commits with the
   * saved card and the event, if the intent still waits for one; a challenge or a redirect
   * moves it to `requires_action`; `pending` to `awaiting_processor`; `unknown` leaves it
   * `processing` for recovery. Answers where the payment now is.
   */
  async apply(intent: PaymentIntent, outcome: Outcome, ctx: Applying = {}): Promise<Confirmation> {
    const now = this.deps.clock.now()
    const { tenantId, id } = intent
    switch (outcome.kind) {
      case 'challenge': {
        const ok = await this.deps.store.intents.requireAction(tenantId, id, { challengeId: outcome.challenge.id, processorReference: outcome.processorRef, returnStateHash: null, redirect: null }, now)
        if (!ok) return { intent: await this.current(intent) }
        return { intent: { ...intent, status: 'requires_action' }, challenge: { prompt: outcome.challenge, card: cardShown(intent, outcome), savedCardId: intent.savedCardId } }
      }
      case 'requires_action': {
        const ok = await this.deps.store.intents.requireAction(
          tenantId,
          id,
          {
            challengeId: null,
            processorReference: outcome.processorRef,
            returnStateHash: ctx.returnStateHash ?? null,
            // Only a POST needs paylink to hold the form (a GET goes to the page at once), sealed: a processor's URL may carry a secret.
            redirect: outcome.redirect.method === 'POST' ? this.deps.sealer.seal(JSON.stringify(outcome.redirect), redirectContext(id)) : null,
          },
          now,
        )
        if (!ok || !ctx.returnStateHash) return { intent: await this.current(intent) }
        return { intent: { ...intent, status: 'requires_action' }, redirect: outcome.redirect }
      }
      case 'pending':
        await this.deps.store.intents.awaitProcessor(tenantId, id, outcome.processorRef ?? null, now)
        return { intent: await this.current(intent) }
      case 'unknown':
        if (outcome.processorRef) await this.deps.store.intents.rememberReference(tenantId, id, outcome.processorRef)
        return { intent: await this.current(intent) }
      case 'succeeded':
      case 'failed':
        return { intent: (await this.finish(intent, outcome, ctx)) ?? (await this.current(intent)) }
    }
  }

  /**
   * Makes a waiting intent final with its webhook event. Without a card to save, in one
   * statement (`finishWithEvent`: the outcome, its event and deliveries, conditional on the
   * intent being as the caller saw it, so the event's body made here is exact); otherwise,
   * or when the intent moved meanwhile, in a transaction (`finishIn`).
   */
  private async finish(intent: PaymentIntent, outcome: Final, ctx: Applying): Promise<PaymentIntent | undefined> {
    if (!savesCard(outcome, ctx)) {
      const now = this.deps.clock.now()
      const record = outcomeRecord(intent, outcome, ctx, intent.savedCardId)
      const expected: PaymentIntent = {
        ...intent,
        status: record.status,
        failureCode: record.failureCode,
        failureMessage: record.failureMessage,
        processorCode: record.processorCode,
        processorMessage: record.processorMessage,
        card: record.card ?? intent.card,
        processorRef: record.processorReference ?? intent.processorRef,
        updatedAt: now,
      }
      const event = outcomeEvent(expected, now)
      const done = event && (await this.deps.store.intents.finishWithEvent(intent.tenantId, intent.id, record, now, intent.updatedAt, event))
      if (done) {
        this.deps.written()
        return done
      }
    }
    return this.deps.store.transaction((tx) => this.finishIn(tx, intent, outcome, ctx))
  }

  /**
   * Makes a waiting intent final in the caller's transaction: the saved card, the outcome
   * and (through `onFinal`) its webhook event commit together, or not at all. Undefined when
   * the intent was not waiting any more (someone else finished it first).
   */
  async finishIn(tx: Repositories, intent: PaymentIntent, outcome: Final, ctx: Applying = {}): Promise<PaymentIntent | undefined> {
    let cardId = intent.savedCardId
    if (outcome.kind === 'succeeded' && outcome.savedCard) {
      const flags = ctx.known ?? (await tx.intents.saveFlags(intent.tenantId, intent.id))
      const card = outcome.card ?? intent.card
      if (flags.saveCard && flags.fingerprint && card) {
        cardId = await this.deps.savedCards.save(tx, {
          tenantId: intent.tenantId,
          userId: intent.userId,
          accountId: intent.accountId,
          fingerprint: flags.fingerprint,
          token: outcome.savedCard.token,
          customerRef: outcome.savedCard.customerRef ?? null,
          brand: card.brand,
          last4: card.last4,
          expMonth: card.expMonth,
          expYear: card.expYear,
        })
      }
    }
    const done = await tx.intents.finish(intent.tenantId, intent.id, outcomeRecord(intent, outcome, ctx, cardId), this.deps.clock.now())
    if (!done) return undefined
    await this.deps.onFinal(tx, done)
    return done
  }

  /**
   * Saves the card of a succeeded payment whose reusable token came after its outcome, if
   * the shopper asked for it and it is not saved yet; answers whether it did.
   */
  async attachSavedCard(tx: Repositories, intent: PaymentIntent, saved: SavedCardToken): Promise<boolean> {
    if (intent.status !== 'succeeded' || intent.savedCardId || !intent.card) return false
    const flags = await tx.intents.saveFlags(intent.tenantId, intent.id)
    if (!flags.saveCard || !flags.fingerprint) return false
    const cardId = await this.deps.savedCards.save(tx, {
      tenantId: intent.tenantId,
      userId: intent.userId,
      accountId: intent.accountId,
      fingerprint: flags.fingerprint,
      token: saved.token,
      customerRef: saved.customerRef ?? null,
      ...intent.card,
    })
    return tx.intents.attachSavedCard(intent.tenantId, intent.id, cardId)
  }

  private async current(intent: PaymentIntent): Promise<PaymentIntent> {
    return (await this.deps.store.intents.get(intent.tenantId, intent.id)) ?? intent
  }
}

/** The attempt reference of an intent. */
export const refOf = (intent: PaymentIntent): { processorRef?: string } => (intent.processorRef ? { processorRef: intent.processorRef } : {})

/** The card the page shows beside a challenge. */
const cardShown = (intent: PaymentIntent, outcome: { card?: { brand: string; last4: string } }) => {
  const c = outcome.card ?? intent.card
  return { brand: c?.brand ?? 'unknown', last4: c?.last4 ?? '' }
}

/** What a link shows the page: the stored link without its secrets' hashes, sealed values or processor configuration. */
const linkView = (r: LinkRecord): LinkView => ({
  tenantId: r.intent.tenantId,
  tenantName: r.tenantName,
  allowedOrigins: r.allowedOrigins,
  allowTopLevel: r.allowTopLevel,
  intent: r.intent,
  claimed: r.claimed,
  processor: r.processor,
})
