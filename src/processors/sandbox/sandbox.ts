/**
 * `sandbox`: a deterministic card processor that lives in paylink's own database, like a
 * real processor would live elsewhere. It charges at most once per idempotency key, keeps
 * its own vault of reusable tokens (brand, last four, expiry and how the card behaves —
 * never the number), asks for 3-D Secure on the challenge card, and answers `retrieve`.
 * Its books (ledger.ts, the `sandbox_*` tables) are the processor's side, not paylink's.
 */
import type { Clock } from '../../domain/shared/clock.js'
import { randomBase32 } from '../../domain/shared/random.js'
import { cardBrand } from '../../domain/cards/checks.js'
import type { CardDetails, CardProcessor, ChargeInput, ChargeResult } from '../card-processor.js'
import type { ProcessorDeps } from '../registry.js'
import { behaviourOf, type Behaviour } from './cards.js'
import { SandboxLedger, type SandboxCharge } from './ledger.js'

/** The behaviour of a row that closes a key without charging (see `void`). */
const VOIDED = 'voided'

const resultOf = (c: SandboxCharge): ChargeResult => ({
  outcome: c.status,
  ...(c.failureCode ? { failureCode: c.failureCode as ChargeResult['failureCode'] } : {}),
  reference: c.reference,
  ...(c.savedToken ? { savedToken: c.savedToken } : {}),
  ...(c.status === 'requires_authentication' && c.challengeId
    ? { challenge: { id: c.challengeId, prompt: 'Sandbox 3-D Secure: approve or decline this payment.' } }
    : {}),
  card: { brand: c.cardBrand, last4: c.cardLast4, expMonth: c.cardExpMonth, expYear: c.cardExpYear },
})

export class SandboxProcessor implements CardProcessor {
  readonly name = 'sandbox'
  readonly autoApprove = true
  private readonly ledger: SandboxLedger
  private readonly clock: Clock

  constructor(deps: ProcessorDeps) {
    this.ledger = new SandboxLedger(deps.db)
    this.clock = deps.clock
  }

  async charge(input: ChargeInput): Promise<ChargeResult> {
    // A key charged before (or voided) is never charged again: the insert below does nothing
    // on a known key and the charge on record is the answer. Only a charge that would vault
    // the card looks first, so that a retry does not leave a second vault entry behind.
    if (input.saveCard) {
      const prior = await this.ledger.charge(input.idempotencyKey)
      if (prior) return resultOf(prior)
    }
    let card: CardDetails
    let behaviour: Behaviour
    if (input.savedToken) {
      const v = await this.ledger.vaulted(input.savedToken)
      if (!v) return this.record(input, { brand: 'unknown', last4: '0000', expMonth: 1, expYear: 2000 }, { kind: 'fail', code: 'processing_error' })
      card = { brand: v.brand, last4: v.last4, expMonth: v.expMonth, expYear: v.expYear }
      behaviour = JSON.parse(v.behaviour) as Behaviour
    } else if (input.card) {
      const digits = input.card.number.replace(/\D/g, '')
      card = { brand: cardBrand(digits) ?? 'unknown', last4: digits.slice(-4), expMonth: input.card.expMonth, expYear: input.card.expYear }
      behaviour = behaviourOf(digits)
    } else {
      throw new Error('charge needs a card or a saved token')
    }
    return this.record(input, card, behaviour)
  }

  private async record(input: ChargeInput, card: CardDetails, behaviour: Behaviour): Promise<ChargeResult> {
    const status = behaviour.kind === 'succeed' ? 'succeeded' : behaviour.kind === 'fail' ? 'failed' : 'requires_authentication'
    const wantToken = input.saveCard
    const savedToken = wantToken && status === 'succeeded' ? await this.vault(card, behaviour) : null
    const inserted = await this.ledger.insertCharge({
      idempotencyKey: input.idempotencyKey,
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
    // The key was charged (or voided) before, or a concurrent call got there first: that charge is the charge.
    return resultOf(inserted ?? (await this.ledger.charge(input.idempotencyKey))!)
  }

  private async vault(card: CardDetails, behaviour: Behaviour): Promise<string> {
    const token = `sbx_tok_${randomBase32(24)}`
    // A saved challenge card keeps asking for authentication; a saved card charges as it did.
    await this.ledger.vault(token, { ...card, behaviour: JSON.stringify(behaviour.kind === 'challenge' ? behaviour : { kind: 'succeed' }) }, this.clock.now())
    return token
  }

  async completeAuthentication(idempotencyKey: string, answer: 'approve' | 'decline'): Promise<ChargeResult> {
    const charge = await this.ledger.charge(idempotencyKey)
    if (!charge) throw new Error('No such charge.')
    if (charge.status !== 'requires_authentication') return resultOf(charge)
    const approved = answer === 'approve'
    const savedToken =
      approved && charge.wantToken
        ? await this.vault({ brand: charge.cardBrand, last4: charge.cardLast4, expMonth: charge.cardExpMonth, expYear: charge.cardExpYear }, JSON.parse(charge.behaviour))
        : null
    const settled = await this.ledger.settleChallenge(idempotencyKey, {
      status: approved ? 'succeeded' : 'failed',
      failureCode: approved ? null : 'authentication_failed',
      savedToken,
      at: this.clock.now(),
    })
    return resultOf(settled ?? (await this.ledger.charge(idempotencyKey))!)
  }

  async retrieve(idempotencyKey: string): Promise<ChargeResult | undefined> {
    const charge = await this.ledger.charge(idempotencyKey)
    return charge && charge.behaviour !== VOIDED ? resultOf(charge) : undefined
  }

  /** Closes the key with a row that is no charge; a charge that got there first stands. */
  async void(idempotencyKey: string): Promise<ChargeResult | undefined> {
    const inserted = await this.ledger.insertCharge({
      idempotencyKey,
      reference: `sbx_void_${randomBase32(20)}`,
      amountMinor: 0,
      currency: 'XXX',
      status: 'failed',
      failureCode: 'processing_error',
      savedToken: null,
      wantToken: false,
      challengeId: null,
      cardBrand: 'unknown',
      cardLast4: '0000',
      cardExpMonth: 1,
      cardExpYear: 2000,
      behaviour: VOIDED,
      at: this.clock.now(),
    })
    if (inserted) return undefined
    return this.retrieve(idempotencyKey)
  }
}

export const sandboxFactory = { name: 'sandbox', autoApprove: true, create: (deps: ProcessorDeps) => new SandboxProcessor(deps) }
