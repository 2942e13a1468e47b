/**
 * The sandbox processor's own books: its charges (one per idempotency key) and its vault of
 * reusable tokens and its refunds, in its `sandbox_*` tables. They are the processor's side of the wire,
 * kept in paylink's database only because the simulator lives here; paylink's storage
 * layer never reads them, and this module is the only one that does.
 */
import type { Queryable } from '../../storage/db.js'
import { sql } from '../../storage/db.js'

/** A charge on record. `behaviour` is the test card's (JSON), or `voided` for a key closed without a charge. */
export interface SandboxCharge {
  idempotencyKey: string
  reference: string
  status: 'succeeded' | 'failed' | 'requires_authentication'
  failureCode: string | null
  savedToken: string | null
  wantToken: boolean
  challengeId: string | null
  cardBrand: string
  cardLast4: string
  cardExpMonth: number
  cardExpYear: number
  behaviour: string
}

/** A vaulted card: what the processor keeps instead of the number. */
export interface VaultedCard {
  brand: string
  last4: string
  expMonth: number
  expYear: number
  behaviour: string
}

type Row = Record<string, unknown>

const chargeFrom = (r: Row): SandboxCharge => ({
  idempotencyKey: r.idempotency_key as string,
  reference: r.reference as string,
  status: r.status as SandboxCharge['status'],
  failureCode: (r.failure_code as string | null) ?? null,
  savedToken: (r.saved_token as string | null) ?? null,
  wantToken: r.want_token as boolean,
  challengeId: (r.challenge_id as string | null) ?? null,
  cardBrand: r.card_brand as string,
  cardLast4: r.card_last4 as string,
  cardExpMonth: r.card_exp_month as number,
  cardExpYear: r.card_exp_year as number,
  behaviour: r.behaviour as string,
})

const INSERT_CHARGE = sql(
  'sandbox_charge_insert',
  `INSERT INTO sandbox_charges (idempotency_key, reference, amount_minor, currency, status, failure_code, saved_token, want_token, challenge_id,
     card_brand, card_last4, card_exp_month, card_exp_year, behaviour, created_at, updated_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
   ON CONFLICT (idempotency_key) DO NOTHING RETURNING *`,
)
const GET_CHARGE = sql('sandbox_charge_get', 'SELECT * FROM sandbox_charges WHERE idempotency_key = $1')

export class SandboxLedger {
  constructor(private readonly q: Queryable) {}

  async charge(idempotencyKey: string): Promise<SandboxCharge | undefined> {
    const [row] = await this.q.query(GET_CHARGE, [idempotencyKey])
    return row && chargeFrom(row)
  }

  /** Records the charge unless its key is on record already: then answers undefined and the one on record stands. */
  async insertCharge(c: SandboxCharge & { amountMinor: number; currency: string; at: Date }): Promise<SandboxCharge | undefined> {
    const [row] = await this.q.query(INSERT_CHARGE, [
      c.idempotencyKey,
      c.reference,
      c.amountMinor,
      c.currency,
      c.status,
      c.failureCode,
      c.savedToken,
      c.wantToken,
      c.challengeId,
      c.cardBrand,
      c.cardLast4,
      c.cardExpMonth,
      c.cardExpYear,
      c.behaviour,
      c.at,
    ])
    return row && chargeFrom(row)
  }

  /** Settles a charge waiting for 3-D Secure; undefined when it was settled already. */
  async settleChallenge(
    idempotencyKey: string,
    s: { status: 'succeeded' | 'failed'; failureCode: string | null; savedToken: string | null; at: Date },
  ): Promise<SandboxCharge | undefined> {
    const [row] = await this.q.query(
      `UPDATE sandbox_charges SET status = $2, failure_code = $3, saved_token = COALESCE(saved_token, $4), updated_at = $5
        WHERE idempotency_key = $1 AND status = 'requires_authentication' RETURNING *`,
      [idempotencyKey, s.status, s.failureCode, s.savedToken, s.at],
    )
    return row && chargeFrom(row)
  }

  async vaulted(token: string): Promise<VaultedCard | undefined> {
    const [row] = await this.q.query('SELECT brand, last4, exp_month, exp_year, behaviour FROM sandbox_vault WHERE token = $1', [token])
    return row && { brand: row.brand as string, last4: row.last4 as string, expMonth: row.exp_month as number, expYear: row.exp_year as number, behaviour: row.behaviour as string }
  }

  async vault(token: string, card: VaultedCard, at: Date): Promise<void> {
    await this.q.run('INSERT INTO sandbox_vault (token, brand, last4, exp_month, exp_year, behaviour, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      token,
      card.brand,
      card.last4,
      card.expMonth,
      card.expYear,
      card.behaviour,
      at,
    ])
  }

  async unvault(token: string): Promise<void> {
    await this.q.run('DELETE FROM sandbox_vault WHERE token = $1', [token])
  }

  /** Records a refund unless its key is on record: then the one on record stands. */
  async refund(r: { refundKey: string; chargeKey: string; reference: string; amountMinor: number; status: 'succeeded' | 'failed'; at: Date }): Promise<{ reference: string; status: 'succeeded' | 'failed' }> {
    const [row] = await this.q.query<{ reference: string; status: 'succeeded' | 'failed' }>(
      `WITH ins AS (
         INSERT INTO sandbox_refunds (refund_key, charge_key, reference, amount_minor, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (refund_key) DO NOTHING RETURNING reference, status
       )
       SELECT reference, status FROM ins UNION ALL SELECT reference, status FROM sandbox_refunds WHERE refund_key = $1`,
      [r.refundKey, r.chargeKey, r.reference, r.amountMinor, r.status, r.at],
    )
    if (row) return row
    // A concurrent call inserted this key after the statement's snapshot was taken: read it now.
    const [theirs] = await this.q.query<{ reference: string; status: 'succeeded' | 'failed' }>('SELECT reference, status FROM sandbox_refunds WHERE refund_key = $1', [r.refundKey])
    return theirs!
  }
}
