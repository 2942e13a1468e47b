/** Keys paylink keeps across DATA_ENCRYPTION_KEY rotations (sealed), by name. */
import type { Queryable } from '../db.js'

export class KeptKeyRepository {
  constructor(private readonly q: Queryable) {}

  /** The sealed key of this name: the one on record, or `sealed` when there was none (the first writer wins). */
  async getOrKeep(name: string, sealed: string, at: Date): Promise<string> {
    const [row] = await this.q.query<{ value_sealed: string }>(
      `WITH ins AS (INSERT INTO kept_keys (name, value_sealed, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING value_sealed)
       SELECT value_sealed FROM ins UNION ALL SELECT value_sealed FROM kept_keys WHERE name = $1`,
      [name, sealed, at],
    )
    if (row) return row.value_sealed
    const [theirs] = await this.q.query<{ value_sealed: string }>('SELECT value_sealed FROM kept_keys WHERE name = $1', [name])
    return theirs!.value_sealed
  }
}
