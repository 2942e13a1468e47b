/**
 * `sandbox`: a deterministic card processor that lives in paylink's own database, like a
 * real processor would live elsewhere. It charges at most once per attempt key, keeps its
 * own vault of reusable tokens (brand, last four, expiry and how the card behaves — never
 * the number), asks for 3-D Secure in the frame on the challenge card, refunds at once, and
 * answers `lookup`. Its books (ledger.ts, the `sandbox_*` tables) are the processor's side,
 * not paylink's. It takes no configuration and sends no webhooks.
 */
import type { Clock } from '../../domain/shared/clock.js'
import { randomBase32 } from '../../domain/shared/random.js'
import { cardBrand } from '../../domain/cards/checks.js'
import type { Attempt, AttemptRef, AuthorizeInput, CardDetails, CardProcessor, Outcome, ProcessorFailure, RefundOutcome } from '../card-processor.js'
import { WebhookSignatureError } from '../card-processor.js'
import type { ProcessorDeps, ProcessorFactory } from '../registry.js'
import { behaviourOf, type Behaviour } from './cards.js'
import { SandboxLedger, type SandboxCharge } from './ledger.js'

/** The behaviour of a row that closes a key without charging (see `cancel`). */
const CANCELLED = 'voided'

const PROMPT = 'Sandbox 3-D Secure: approve or decline this payment.'

/** What a row records when there was no card to charge (a cancelled key, an unknown saved token). */
const NO_CARD: CardDetails = { brand: 'unknown', last4: '0000', expMonth: 1, expYear: 2000 }

const cardOf = (c: SandboxCharge): CardDetails => ({ brand: c.cardBrand, last4: c.cardLast4, expMonth: c.cardExpMonth, expYear: c.cardExpYear })
const isNoCard = (c: CardDetails) => c.expYear === NO_CARD.expYear && c.last4 === NO_CARD.last4 && c.brand === NO_CARD.brand

function outcomeOf(c: SandboxCharge): Outcome {
  const found = cardOf(c)
  const card = isNoCard(found) ? undefined : found
  if (c.status === 'succeeded') return { kind: 'succeeded', processorRef: c.reference, card: found, ...(c.savedToken ? { savedCard: { token: c.savedToken } } : {}) }
  if (c.status === 'requires_authentication') return { kind: 'challenge', processorRef: c.reference, card: found, challenge: { id: c.challengeId ?? c.reference, prompt: PROMPT } }
  const code = (c.failureCode ?? 'processing_error') as ProcessorFailure
  return { kind: 'failed', processorRef: c.reference, ...(card ? { card } : {}), failureCode: code, processorCode: c.behaviour === CANCELLED ? 'cancelled' : code, processorMessage: null }
}

export class SandboxProcessor implements CardProcessor {
  readonly name = 'sandbox'
  private readonly ledger: SandboxLedger
  private readonly clock: Clock

  constructor(deps: ProcessorDeps) {
    this.ledger = new SandboxLedger(deps.db)
    this.clock = deps.clock
  }

  async authorize(attempt: Attempt, input: AuthorizeInput): Promise<Outcome> {
    // A key charged before (or cancelled) is never charged again: the insert below does
    // nothing on a known key and the charge on record is the answer. Only a charge that would
    // vault the card looks first, so that a retry does not leave a second vault entry behind.
    if (input.saveFor) {
      const prior = await this.ledger.charge(attempt.key)
      if (prior) return outcomeOf(prior)
    }
    let card: CardDetails
    let behaviour: Behaviour
    if (input.savedCard) {
      const v = await this.ledger.vaulted(input.savedCard.token)
      if (!v) return this.record(attempt.key, input, NO_CARD, { kind: 'fail', code: 'processing_error' })
      card = { brand: v.brand, last4: v.last4, expMonth: v.expMonth, expYear: v.expYear }
      behaviour = JSON.parse(v.behaviour) as Behaviour
    } else if (input.card) {
      const digits = input.card.number.replace(/\D/g, '')
      card = { brand: cardBrand(digits) ?? 'unknown', last4: digits.slice(-4), expMonth: input.card.expMonth, expYear: input.card.expYear }
      behaviour = behaviourOf(digits)
    } else {
      throw new Error('authorize needs a card or a saved card')
    }
    const outcome = await this.record(attempt.key, input, card, behaviour)
    // The charge is on the books; only its answer is lost, as a dropped connection would lose it.
    if (behaviour.kind === 'succeed' && behaviour.answer === 'lost') return { kind: 'unknown', reason: 'sandbox: the answer was lost on the way' }
    return outcome
  }

  private async record(key: string, input: AuthorizeInput, card: CardDetails, behaviour: Behaviour): Promise<Outcome> {
    const status = behaviour.kind === 'succeed' ? 'succeeded' : behaviour.kind === 'fail' ? 'failed' : 'requires_authentication'
    const wantToken = input.saveFor !== undefined
    const savedToken = wantToken && status === 'succeeded' ? await this.vault(card, behaviour) : null
    const inserted = await this.ledger.insertCharge({
      idempotencyKey: key,
      reference: `sbx_ch_${randomBase32(20)}`,
      amountMinor: input.amountMinor,
      currency: input.currency,
      status,
      failureCode: behaviour.kind === 'fail' ? behaviour.code : null,
      savedToken,
      wantToken,
      challengeId: status === 'requires_authentication' ? `sbx_3ds_${randomBase32(16)}` : null,
      cardBrand: card.brand,
      cardLast4: card.last4,
      cardExpMonth: card.expMonth,
      cardExpYear: card.expYear,
      behaviour: JSON.stringify(behaviour),
      at: this.clock.now(),
    })
    // The key was charged (or cancelled) before, or a concurrent call got there first: that charge is the charge.
    return outcomeOf(inserted ?? (await this.ledger.charge(key))!)
  }

  private async vault(card: CardDetails, behaviour: Behaviour): Promise<string> {
    const token = `sbx_tok_${randomBase32(24)}`
    // A saved challenge card keeps asking for authentication; a saved card charges as it did (its answer is not lost again).
    const kept: Behaviour = behaviour.kind === 'challenge' ? behaviour : { kind: 'succeed', ...(behaviour.kind === 'succeed' && behaviour.refund ? { refund: behaviour.refund } : {}) }
    await this.ledger.vault(token, { ...card, behaviour: JSON.stringify(kept) }, this.clock.now())
    return token
  }

  /** The sandbox's in-frame challenge: `returned.answer` is `approve` or `decline`. */
  async completeAction(ref: AttemptRef, returned: Record<string, string>): Promise<Outcome> {
    const charge = await this.ledger.charge(ref.key)
    if (!charge) return { kind: 'unknown', reason: 'sandbox: no such charge' }
    if (charge.status !== 'requires_authentication') return outcomeOf(charge)
    const approved = returned.answer === 'approve'
    const savedToken = approved && charge.wantToken ? await this.vault(cardOf(charge), JSON.parse(charge.behaviour) as Behaviour) : null
    const settled = await this.ledger.settleChallenge(ref.key, {
      status: approved ? 'succeeded' : 'failed',
      failureCode: approved ? null : 'authentication_failed',
      savedToken,
      at: this.clock.now(),
    })
    return outcomeOf(settled ?? (await this.ledger.charge(ref.key))!)
  }

  async lookup(ref: AttemptRef): Promise<Outcome | { kind: 'not_found' }> {
    const charge = await this.ledger.charge(ref.key)
    return charge ? outcomeOf(charge) : { kind: 'not_found' }
  }

  /**
   * Closes the key with a row that is no charge, so a charge still in flight cannot land
   * after it; a charge that got there first stands. A challenge still waiting is declined.
   */
  async cancel(ref: AttemptRef): Promise<Outcome> {
    const inserted = await this.ledger.insertCharge({
      idempotencyKey: ref.key,
      reference: `sbx_void_${randomBase32(20)}`,
      amountMinor: 0,
      currency: 'XXX',
      status: 'failed',
      failureCode: 'processing_error',
      savedToken: null,
      wantToken: false,
      challengeId: null,
      cardBrand: NO_CARD.brand,
      cardLast4: NO_CARD.last4,
      cardExpMonth: NO_CARD.expMonth,
      cardExpYear: NO_CARD.expYear,
      behaviour: CANCELLED,
      at: this.clock.now(),
    })
    if (inserted) return outcomeOf(inserted)
    const charge = (await this.ledger.charge(ref.key))!
    if (charge.status === 'requires_authentication') return this.completeAction(ref, { answer: 'decline' })
    return outcomeOf(charge)
  }

  /** Refunds at once; the refunds of a charge made with the refund-failing card fail. */
  async refund(input: { ref: AttemptRef; refundKey: string; amountMinor: number; currency: string }): Promise<RefundOutcome> {
    const charge = await this.ledger.charge(input.ref.key)
    if (!charge || charge.status !== 'succeeded') return { kind: 'failed', failureCode: 'processing_error', processorCode: 'charge_not_refundable', processorMessage: null }
    const behaviour = JSON.parse(charge.behaviour) as Behaviour
    const fails = behaviour.kind === 'succeed' && behaviour.refund === 'fail'
    const r = await this.ledger.refund({
      refundKey: input.refundKey,
      chargeKey: input.ref.key,
      reference: `sbx_re_${randomBase32(20)}`,
      amountMinor: input.amountMinor,
      status: fails ? 'failed' : 'succeeded',
      at: this.clock.now(),
    })
    return r.status === 'succeeded'
      ? { kind: 'succeeded', processorRef: r.reference }
      : { kind: 'failed', processorRef: r.reference, failureCode: 'processing_error', processorCode: 'refund_failed', processorMessage: null }
  }

  async parseWebhook(): Promise<never> {
    throw new WebhookSignatureError('The sandbox sends no webhooks.')
  }

  async deleteSavedCard(card: { token: string; shopperReference: string }): Promise<void> {
    await this.ledger.unvault(card.token)
  }
}

export const sandboxFactory: ProcessorFactory = {
  name: 'sandbox',
  autoApprove: true,
  checkConfig: (config) =>
    config === undefined || (typeof config === 'object' && config !== null && !Array.isArray(config) && Object.keys(config).length === 0)
      ? []
      : [{ key: Object.keys(config as object)[0] ?? '(config)', issue: 'the sandbox takes no configuration' }],
  create: (_config, deps) => new SandboxProcessor(deps),
}
