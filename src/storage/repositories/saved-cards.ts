/** Saved cards: the sealed processor token, fingerprint, brand and last four. */
import type { Queryable } from '../db.js'
import { sql } from '../db.js'
import type { AccountId, CardId, TenantId, UserId } from '../../domain/shared/ids.js'
import type { SavedCard } from '../../domain/cards/saved-cards.js'

type Row = Record<string, unknown>

const COLUMNS = 'id, user_id, account_id, brand, last4, exp_month, exp_year, created_at'
const cardFrom = (r: Row): SavedCard => ({
  id: r.id as CardId,
  userId: r.user_id as UserId,
  accountId: r.account_id as AccountId,
  brand: r.brand as string,
  last4: r.last4 as string,
  expMonth: r.exp_month as number,
  expYear: r.exp_year as number,
  createdAt: new Date(r.created_at as Date),
})

const LIST_FOR_PAYMENT = sql(
  'saved_cards_for_payment',
  `SELECT ${COLUMNS} FROM saved_cards WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC`,
)
const WITH_TOKEN = sql(
  'saved_card_token',
  `SELECT ${COLUMNS}, token_encrypted, customer_ref FROM saved_cards WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND account_id = $4 AND deleted_at IS NULL`,
)
const BY_FINGERPRINT = 'SELECT id FROM saved_cards WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3 AND fingerprint = $4 AND deleted_at IS NULL'

/** A card to save: its token sealed to its id, and the keyed fingerprint that makes it one card. */
export interface NewSavedCard {
  id: CardId
  userId: UserId
  accountId: AccountId
  sealedToken: string
  /** The processor's customer the token belongs to (a Stripe Customer), where it has one. */
  customerRef: string | null
  fingerprint: string
  brand: string
  last4: string
  expMonth: number
  expYear: number
  createdAt: Date
}

export class SavedCardRepository {
  constructor(private readonly q: Queryable) {}

  /** The cards a user can pay with on one account, newest first. */
  async listForPayment(tenantId: TenantId, userId: UserId, accountId: AccountId): Promise<SavedCard[]> {
    const rows = await this.q.query(LIST_FOR_PAYMENT, [tenantId, userId, accountId])
    return rows.map(cardFrom)
  }

  /** The user's cards on every account, newest first; undefined when the tenant has no such user. */
  async listForUser(tenantId: TenantId, userId: UserId): Promise<SavedCard[] | undefined> {
    const rows = await this.q.query(
      `SELECT c.id, c.user_id, c.account_id, c.brand, c.last4, c.exp_month, c.exp_year, c.created_at
         FROM end_users u LEFT JOIN saved_cards c ON c.tenant_id = u.tenant_id AND c.user_id = u.id AND c.deleted_at IS NULL
        WHERE u.tenant_id = $1 AND u.id = $2
        ORDER BY c.created_at DESC, c.id DESC`,
      [tenantId, userId],
    )
    if (rows.length === 0) return undefined
    return rows.filter((r) => r.id !== null).map(cardFrom)
  }

  /** The card and its sealed token, if the user may pay with it on this account. */
  async findWithToken(tenantId: TenantId, id: CardId, userId: UserId, accountId: AccountId): Promise<{ card: SavedCard; sealedToken: string; customerRef: string | null } | undefined> {
    const [row] = await this.q.query(WITH_TOKEN, [tenantId, id, userId, accountId])
    return row && { card: cardFrom(row), sealedToken: row.token_encrypted as string, customerRef: (row.customer_ref as string | null) ?? null }
  }

  /** The processor's customer for this user at this account, from any card saved there (deleted ones too: the customer outlives them). */
  async customerRef(tenantId: TenantId, userId: UserId, accountId: AccountId): Promise<string | undefined> {
    const [row] = await this.q.query<{ customer_ref: string }>(
      'SELECT customer_ref FROM saved_cards WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3 AND customer_ref IS NOT NULL ORDER BY created_at LIMIT 1',
      [tenantId, userId, accountId],
    )
    return row?.customer_ref
  }

  /** Deletes the card softly: it is neither listed nor chargeable any more. */
  async delete(tenantId: TenantId, userId: UserId, id: CardId, at: Date): Promise<{ card: SavedCard; sealedToken: string; customerRef: string | null } | undefined> {
    const [row] = await this.q.query(
      `UPDATE saved_cards SET deleted_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING ${COLUMNS}, token_encrypted, customer_ref`,
      [tenantId, userId, id, at],
    )
    return row && { card: cardFrom(row), sealedToken: row.token_encrypted as string, customerRef: (row.customer_ref as string | null) ?? null }
  }

  /**
   * The id of the user's card with this fingerprint on the account; `forUpdate` locks it
   * until the transaction ends, so a concurrent save waits instead of racing.
   */
  async idByFingerprint(tenantId: TenantId, userId: UserId, accountId: AccountId, fingerprint: string, { forUpdate = false } = {}): Promise<CardId | undefined> {
    const [row] = await this.q.query<{ id: CardId }>(forUpdate ? `${BY_FINGERPRINT} FOR UPDATE` : BY_FINGERPRINT, [tenantId, userId, accountId, fingerprint])
    return row?.id
  }

  /** Puts a fresh token (sealed to the card's id) and expiry on a saved card. */
  async refreshToken(tenantId: TenantId, id: CardId, sealedToken: string, customerRef: string | null, expMonth: number, expYear: number): Promise<void> {
    await this.q.run('UPDATE saved_cards SET token_encrypted = $3, customer_ref = $4, exp_month = $5, exp_year = $6 WHERE tenant_id = $1 AND id = $2', [
      tenantId,
      id,
      sealedToken,
      customerRef,
      expMonth,
      expYear,
    ])
  }

  /** Inserts the card; false when the same card (same fingerprint) was saved meanwhile. */
  async insert(tenantId: TenantId, c: NewSavedCard): Promise<boolean> {
    const inserted = await this.q.run(
      `INSERT INTO saved_cards (tenant_id, id, user_id, account_id, token_encrypted, customer_ref, fingerprint, brand, last4, exp_month, exp_year, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (tenant_id, user_id, account_id, fingerprint) WHERE deleted_at IS NULL DO NOTHING`,
      [tenantId, c.id, c.userId, c.accountId, c.sealedToken, c.customerRef, c.fingerprint, c.brand, c.last4, c.expMonth, c.expYear, c.createdAt],
    )
    return inserted > 0
  }
}
