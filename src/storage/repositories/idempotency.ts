/**
 * Idempotency keys and their sealed answers (src/http/idempotency.ts has the rules). A key
 * row is claimed in the transaction that does the work, so concurrent duplicates queue on
 * the key's unique index.
 */
import { sql, type Queryable } from '../db.js'
import type { TenantId } from '../../domain/shared/ids.js'

const CLAIM = sql(
  'idempotency_claim',
  `INSERT INTO idempotency_keys (tenant_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
   ON CONFLICT (tenant_id, key) DO UPDATE
     SET request_hash = EXCLUDED.request_hash, status_code = NULL, response_sealed = NULL, created_at = EXCLUDED.created_at
     WHERE idempotency_keys.created_at <= $5
   RETURNING key`,
)
const READ = sql('idempotency_read', 'SELECT request_hash, status_code, response_sealed FROM idempotency_keys WHERE tenant_id = $1 AND key = $2')
const STORE = sql('idempotency_store', 'UPDATE idempotency_keys SET status_code = $3, response_sealed = $4 WHERE tenant_id = $1 AND key = $2')

export interface StoredKey {
  requestHash: string
  /** Both null while the first request is still at work. */
  statusCode: number | null
  responseSealed: string | null
}

export class IdempotencyRepository {
  constructor(private readonly q: Queryable) {}

  /** Takes the key for this request: true when it was free or its last use is older than `expiredBefore`. */
  async claim(tenantId: TenantId, key: string, requestHash: string, now: Date, expiredBefore: Date): Promise<boolean> {
    return (await this.q.query(CLAIM, [tenantId, key, requestHash, now, expiredBefore])).length > 0
  }

  async read(tenantId: TenantId, key: string): Promise<StoredKey | undefined> {
    const [row] = await this.q.query<{ request_hash: string; status_code: number | null; response_sealed: string | null }>(READ, [tenantId, key])
    return row && { requestHash: row.request_hash, statusCode: row.status_code, responseSealed: row.response_sealed }
  }

  async storeAnswer(tenantId: TenantId, key: string, statusCode: number, responseSealed: string): Promise<void> {
    await this.q.run(STORE, [tenantId, key, statusCode, responseSealed])
  }
}
