/**
 * Saved cards. We keep the processor's reusable token sealed (AES-256-GCM under
 * DATA_ENCRYPTION_KEY, bound to the card's row), the brand, last four and expiry, and a
 * keyed fingerprint — an HMAC of the number under a key derived from DATA_ENCRYPTION_KEY —
 * so the same card saved twice stays one card. Never the number, never the CVC.
 * A deleted card is neither listed nor chargeable.
 */
import type { Db, Queryable } from '../../storage/db.js'
import { sql } from '../../storage/db.js'
import type { Clock } from '../shared/clock.js'
import { hmacSha256, type Sealer } from '../shared/crypto.js'
import { notFound } from '../shared/errors.js'
import { newId, type TenantId } from '../shared/ids.js'

export interface SavedCard {
  id: string
  userId: string
  accountId: string
  brand: string
  last4: string
  expMonth: number
  expYear: number
  createdAt: Date
}

const cardFrom = (r: Record<string, unknown>): SavedCard => ({
  id: r.id as string,
  userId: r.user_id as string,
  accountId: r.account_id as string,
  brand: r.brand as string,
  last4: r.last4 as string,
  expMonth: r.exp_month as number,
  expYear: r.exp_year as number,
  createdAt: new Date(r.created_at as Date),
})

const COLUMNS = 'id, user_id, account_id, brand, last4, exp_month, exp_year, created_at'
const LIST_FOR = sql(
  'saved_cards_for_payment',
  `SELECT ${COLUMNS} FROM saved_cards WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC`,
)
const TOKEN_OF = sql(
  'saved_card_token',
  `SELECT ${COLUMNS}, token_encrypted FROM saved_cards WHERE tenant_id = $1 AND id = $2 AND user_id = $3 AND account_id = $4 AND deleted_at IS NULL`,
)

export class SavedCardService {
  private readonly fingerprintKey: Buffer

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
    encryptionKey: Buffer,
  ) {
    this.fingerprintKey = hmacSha256(encryptionKey, 'paylink card fingerprint v1')
  }

  fingerprint(tenantId: string, digits: string): string {
    return hmacSha256(this.fingerprintKey, `${tenantId}:${digits}`).toString('base64url')
  }

  /** The cards a user can pay with on one account. */
  listFor(tenantId: string, userId: string, accountId: string): Promise<SavedCard[]> {
    return this.db.query(LIST_FOR, [tenantId, userId, accountId]).then((rows) => rows.map(cardFrom))
  }

  async listForUser(tenantId: TenantId, userId: string): Promise<SavedCard[]> {
    const [user] = await this.db.query('SELECT 1 FROM end_users WHERE tenant_id = $1 AND id = $2', [tenantId, userId])
    if (!user) throw notFound('user')
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM saved_cards WHERE tenant_id = $1 AND user_id = $2 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC`, [
      tenantId,
      userId,
    ])
    return rows.map(cardFrom)
  }

  async delete(tenantId: TenantId, userId: string, cardId: string): Promise<SavedCard> {
    const [row] = await this.db.query(
      `UPDATE saved_cards SET deleted_at = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
      [tenantId, userId, cardId, this.clock.now()],
    )
    if (!row) throw notFound('card')
    return cardFrom(row)
  }

  /** The card and its decrypted processor token, if the user may pay with it on this account. */
  async tokenFor(tenantId: string, cardId: string, userId: string, accountId: string): Promise<{ card: SavedCard; token: string } | undefined> {
    const [row] = await this.db.query(TOKEN_OF, [tenantId, cardId, userId, accountId])
    if (!row) return undefined
    return { card: cardFrom(row), token: this.sealer.open(row.token_encrypted as string, `card:${tenantId}:${row.id}`).toString('utf8') }
  }

  /**
   * Saves a card in the caller's transaction. The same card (same fingerprint) for the
   * same user and account is one card: its token and expiry are refreshed, its id kept.
   */
  async save(
    q: Queryable,
    input: { tenantId: string; userId: string; accountId: string; fingerprint: string; token: string; brand: string; last4: string; expMonth: number; expYear: number },
  ): Promise<string> {
    const id = newId('card')
    const now = this.clock.now()
    const [existing] = await q.query<{ id: string }>(
      'SELECT id FROM saved_cards WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3 AND fingerprint = $4 AND deleted_at IS NULL FOR UPDATE',
      [input.tenantId, input.userId, input.accountId, input.fingerprint],
    )
    if (existing) {
      await q.query('UPDATE saved_cards SET token_encrypted = $3, exp_month = $4, exp_year = $5 WHERE tenant_id = $1 AND id = $2', [
        input.tenantId,
        existing.id,
        this.sealer.seal(input.token, `card:${input.tenantId}:${existing.id}`),
        input.expMonth,
        input.expYear,
      ])
      return existing.id
    }
    const rows = await q.query<{ id: string }>(
      `INSERT INTO saved_cards (tenant_id, id, user_id, account_id, token_encrypted, fingerprint, brand, last4, exp_month, exp_year, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (tenant_id, user_id, account_id, fingerprint) WHERE deleted_at IS NULL DO NOTHING RETURNING id`,
      [input.tenantId, id, input.userId, input.accountId, this.sealer.seal(input.token, `card:${input.tenantId}:${id}`), input.fingerprint, input.brand, input.last4, input.expMonth, input.expYear, now],
    )
    if (rows[0]) return rows[0].id
    // Saved by a concurrent payment a moment ago: that row is the card.
    const [row] = await q.query<{ id: string }>('SELECT id FROM saved_cards WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3 AND fingerprint = $4 AND deleted_at IS NULL', [
      input.tenantId,
      input.userId,
      input.accountId,
      input.fingerprint,
    ])
    return row!.id
  }
}
