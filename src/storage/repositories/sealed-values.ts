/**
 * Every sealed column of paylink, for `paylink reencrypt`: which table and column, the row's
 * key, and what kind of value it is (the kind decides the context it is sealed to). A new
 * sealed column belongs in this list (test/api/encryption-key-rotation.test.ts checks the
 * list against the schema's `*_encrypted` / `*_sealed` columns).
 */
import type { Queryable } from '../db.js'

export interface SealedColumn {
  kind: 'signing_key' | 'saved_card' | 'webhook_secret' | 'account_config' | 'idempotent_answer' | 'redirect' | 'kept_key'
  table: string
  keys: readonly string[]
  column: string
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { kind: 'signing_key', table: 'signing_keys', keys: ['kid'], column: 'private_jwk_encrypted' },
  { kind: 'kept_key', table: 'kept_keys', keys: ['name'], column: 'value_sealed' },
  { kind: 'saved_card', table: 'saved_cards', keys: ['tenant_id', 'id'], column: 'token_encrypted' },
  { kind: 'webhook_secret', table: 'webhook_endpoints', keys: ['tenant_id', 'id'], column: 'secret_encrypted' },
  { kind: 'webhook_secret', table: 'webhook_endpoints', keys: ['tenant_id', 'id'], column: 'previous_secret_encrypted' },
  { kind: 'account_config', table: 'card_processing_accounts', keys: ['tenant_id', 'id'], column: 'config_encrypted' },
  { kind: 'idempotent_answer', table: 'idempotency_keys', keys: ['tenant_id', 'key'], column: 'response_sealed' },
  { kind: 'redirect', table: 'payment_intents', keys: ['tenant_id', 'id'], column: 'action_redirect' },
]

export interface SealedRow {
  key: string[]
  sealed: string
}

/** Table and column names come from SEALED_COLUMNS only: no input reaches the SQL text. */
export class SealedValueRepository {
  constructor(private readonly q: Queryable) {}

  /** The next `limit` rows holding a value, after `after` in key order. */
  async page(c: SealedColumn, after: string[] | null, limit: number): Promise<SealedRow[]> {
    const keyList = c.keys.join(', ')
    const params: unknown[] = [limit]
    let cond = ''
    if (after) {
      cond = ` AND (${keyList}) > (${c.keys.map((_, i) => `$${i + 2}`).join(', ')})`
      params.push(...after)
    }
    const rows = await this.q.query<Record<string, string>>(
      `SELECT ${keyList}, ${c.column} AS sealed FROM ${c.table} WHERE ${c.column} IS NOT NULL${cond} ORDER BY ${keyList} LIMIT $1`,
      params,
    )
    return rows.map((r) => ({ key: c.keys.map((k) => r[k]!), sealed: r.sealed! }))
  }

  /** Replaces the value if it is still `old` (a value changed meanwhile was sealed under the current key). */
  async replace(c: SealedColumn, key: string[], old: string, next: string): Promise<boolean> {
    const where = c.keys.map((k, i) => `${k} = $${i + 3}`).join(' AND ')
    return (await this.q.run(`UPDATE ${c.table} SET ${c.column} = $1 WHERE ${c.column} = $2 AND ${where}`, [next, old, ...key])) > 0
  }
}
