/**
 * `sandbox`: a deterministic card processor that lives in paylink's own database, like a
 * real processor would live elsewhere. It charges at most once per idempotency key, keeps
 * its own vault of reusable tokens (brand, last four, expiry and how the card behaves —
 * never the number), asks for 3-D Secure on the challenge card, and answers `retrieve`.
 * Its tables (`sandbox_*`) are the processor's side, not paylink's.
 */
import type { Queryable } from '../../storage/db.js'
import { sql } from '../../storage/db.js'
import type { Clock } from '../../domain/shared/clock.js'
import { randomBase32 } from '../../domain/shared/random.js'
import { cardBrand } from '../../domain/cards/checks.js'
import type { CardDetails, CardProcessor, ChargeInput, ChargeResult } from '../card-processor.js'
import type { ProcessorDeps } from '../registry.js'
import { behaviourOf, type Behaviour } from './cards.js'

interface ChargeRow {
  idempotency_key: string
  reference: string
  status: 'succeeded' | 'failed' | 'requires_authentication'
  failure_code: string | null
  saved_token: string | null
  want_token: boolean
  challenge_id: string | null
  card_brand: string
  card_last4: string
  card_exp_month: number
  card_exp_year: number
  behaviour: string
}

const INSERT_CHARGE = sql(
  'sandbox_charge_insert',
  `INSERT INTO sandbox_charges (idempotency_key, reference, amount_minor, currency, status, failure_code, saved_token, want_token, challenge_id,
     card_brand, card_last4, card_exp_month, card_exp_year, behaviour, created_at, updated_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
   ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
)
const GET_CHARGE = sql('sandbox_charge_get', 'SELECT * FROM sandbox_charges WHERE idempotency_key = $1')

/** The behaviour of a row that closes a key without charging (see `void`). */
const VOIDED = 'voided'

const resultOf = (r: ChargeRow): ChargeResult => ({
  outcome: r.status,
  ...(r.failure_code ? { failureCode: r.failure_code as ChargeResult['failureCode'] } : {}),
  reference: r.reference,
  ...(r.saved_token ? { savedToken: r.saved_token } : {}),
  ...(r.status === 'requires_authentication' && r.challenge_id
    ? { challenge: { id: r.challenge_id, prompt: 'Sandbox 3-D Secure: approve or decline this payment.' } }
    : {}),
  card: { brand: r.card_brand, last4: r.card_last4, expMonth: r.card_exp_month, expYear: r.card_exp_year },
})

export class SandboxProcessor implements CardProcessor {
  readonly name = 'sandbox'
  readonly autoApprove = true

  constructor(private readonly deps: ProcessorDeps) {}

  async charge(input: ChargeInput): Promise<ChargeResult> {
    // A key charged before (or voided) is never charged again: the insert below does nothing
    // on a known key and the charge on record is the answer. Only a charge that would vault
    // the card looks first, so that a retry does not leave a second vault entry behind.
    if (input.saveCard) {
      const [prior] = await this.deps.db.query<ChargeRow>(GET_CHARGE, [input.idempotencyKey])
      if (prior) return resultOf(prior)
    }
    let card: CardDetails
    let behaviour: Behaviour
    if (input.savedToken) {
      const [v] = await this.deps.db.query<{ brand: string; last4: string; exp_month: number; exp_year: number; behaviour: string }>(
        'SELECT brand, last4, exp_month, exp_year, behaviour FROM sandbox_vault WHERE token = $1',
        [input.savedToken],
      )
      if (!v) return this.record(input, { brand: 'unknown', last4: '0000', expMonth: 1, expYear: 2000 }, { kind: 'fail', code: 'processing_error' })
      card = { brand: v.brand, last4: v.last4, expMonth: v.exp_month, expYear: v.exp_year }
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
    const now = this.deps.clock.now()
    const status = behaviour.kind === 'succeed' ? 'succeeded' : behaviour.kind === 'fail' ? 'failed' : 'requires_authentication'
    const wantToken = input.saveCard
    const savedToken = wantToken && status === 'succeeded' ? await this.vault(this.deps.db, card, behaviour) : null
    const rows = await this.deps.db.query<ChargeRow>(INSERT_CHARGE, [
      input.idempotencyKey,
      `sbx_ch_${randomBase32(20)}`,
      input.amountMinor,
      input.currency,
      status,
      behaviour.kind === 'fail' ? behaviour.code : null,
      savedToken,
      wantToken,
      status === 'requires_authentication' ? `sbx_3ds_${randomBase32(16)}` : null,
      card.brand,
      card.last4,
      card.expMonth,
      card.expYear,
      JSON.stringify(behaviour),
      now,
    ])
    // The key was charged (or voided) before, or a concurrent call got there first: that charge is the charge.
    const row = rows[0] ?? (await this.deps.db.query<ChargeRow>(GET_CHARGE, [input.idempotencyKey]))[0]!
    return resultOf(row)
  }

  private async vault(q: Queryable, card: CardDetails, behaviour: Behaviour): Promise<string> {
    const token = `sbx_tok_${randomBase32(24)}`
    await q.query('INSERT INTO sandbox_vault (token, brand, last4, exp_month, exp_year, behaviour, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      token,
      card.brand,
      card.last4,
      card.expMonth,
      card.expYear,
      // A saved challenge card keeps asking for authentication; a saved card charges as it did.
      JSON.stringify(behaviour.kind === 'challenge' ? behaviour : { kind: 'succeed' }),
      this.deps.clock.now(),
    ])
    return token
  }

  async completeAuthentication(idempotencyKey: string, answer: 'approve' | 'decline'): Promise<ChargeResult> {
    const row = (await this.deps.db.query<ChargeRow>(GET_CHARGE, [idempotencyKey]))[0]
    if (!row) throw new Error('No such charge.')
    if (row.status !== 'requires_authentication') return resultOf(row)
    const approved = answer === 'approve'
    const savedToken =
      approved && row.want_token
        ? await this.vault(this.deps.db, { brand: row.card_brand, last4: row.card_last4, expMonth: row.card_exp_month, expYear: row.card_exp_year }, JSON.parse(row.behaviour))
        : null
    const [updated] = await this.deps.db.query<ChargeRow>(
      `UPDATE sandbox_charges SET status = $2, failure_code = $3, saved_token = COALESCE(saved_token, $4), updated_at = $5
        WHERE idempotency_key = $1 AND status = 'requires_authentication' RETURNING *`,
      [idempotencyKey, approved ? 'succeeded' : 'failed', approved ? null : 'authentication_failed', savedToken, this.deps.clock.now()],
    )
    return resultOf(updated ?? (await this.deps.db.query<ChargeRow>(GET_CHARGE, [idempotencyKey]))[0]!)
  }

  async retrieve(idempotencyKey: string): Promise<ChargeResult | undefined> {
    const [row] = await this.deps.db.query<ChargeRow>(GET_CHARGE, [idempotencyKey])
    return row && row.behaviour !== VOIDED ? resultOf(row) : undefined
  }

  /** Closes the key with a row that is no charge; a charge that got there first stands. */
  async void(idempotencyKey: string): Promise<ChargeResult | undefined> {
    const now = this.deps.clock.now()
    const inserted = await this.deps.db.query<ChargeRow>(INSERT_CHARGE, [
      idempotencyKey,
      `sbx_void_${randomBase32(20)}`,
      0,
      'XXX',
      'failed',
      'processing_error',
      null,
      false,
      null,
      'unknown',
      '0000',
      1,
      2000,
      VOIDED,
      now,
    ])
    if (inserted.length > 0) return undefined
    return this.retrieve(idempotencyKey)
  }
}

export const sandboxFactory = { name: 'sandbox', autoApprove: true, create: (deps: ProcessorDeps) => new SandboxProcessor(deps) }
