/**
 * Idempotency-Key: the same key with the same request gives the same answer; the same key
 * with another request is `idempotency_conflict`; keys are kept 24 hours.
 *
 * The key row is inserted in the transaction that does the work, so concurrent duplicates
 * queue on the key's unique index: the first does the work and commits its answer with it,
 * the others then read that answer. A request that fails rolls back, key and all, so it can
 * be retried with the same key. The stored answer is sealed: it holds a pay_url, whose token
 * must not sit in the database in the clear.
 */
import type { Db, Queryable } from '../../storage/db.js'
import { sql } from '../../storage/db.js'
import type { Clock } from './clock.js'
import { sha256, type Sealer } from './crypto.js'
import { AppError } from './errors.js'

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000

export interface StoredAnswer<T> {
  status: number
  body: T
  replayed: boolean
}

const CLAIM_KEY = sql(
  'idempotency_claim',
  `INSERT INTO idempotency_keys (tenant_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
   ON CONFLICT (tenant_id, key) DO UPDATE
     SET request_hash = EXCLUDED.request_hash, status_code = NULL, response_sealed = NULL, created_at = EXCLUDED.created_at
     WHERE idempotency_keys.created_at <= $5
   RETURNING key`,
)
const READ_KEY = sql('idempotency_read', 'SELECT request_hash, status_code, response_sealed FROM idempotency_keys WHERE tenant_id = $1 AND key = $2')
const STORE_ANSWER = sql('idempotency_store', 'UPDATE idempotency_keys SET status_code = $3, response_sealed = $4 WHERE tenant_id = $1 AND key = $2')

/** A stable hash of what the request asks for: the route and its body with keys sorted. */
export function requestHash(route: string, body: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v
  return sha256(JSON.stringify([route, canonical(body)])).toString('base64url')
}

export const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

export async function withIdempotency<T>(
  db: Db,
  sealer: Sealer,
  clock: Clock,
  scope: { tenantId: string; key: string; requestHash: string },
  work: (tx: Queryable) => Promise<{ status: number; body: T }>,
): Promise<StoredAnswer<T>> {
  const { tenantId, key, requestHash: hash } = scope
  const now = clock.now()
  const context = `idempotency:${tenantId}:${key}`
  return db.transaction(async (tx) => {
    const claimed = await tx.query(CLAIM_KEY, [tenantId, key, hash, now, new Date(now.getTime() - IDEMPOTENCY_TTL_MS)])
    if (claimed.length === 0) {
      const [row] = await tx.query<{ request_hash: string; status_code: number | null; response_sealed: string | null }>(READ_KEY, [tenantId, key])
      if (!row || row.request_hash !== hash) {
        throw new AppError('idempotency_conflict', 'This Idempotency-Key was already used with a different request.', [
          { field: 'Idempotency-Key', issue: 'was used with a different request in the last 24 hours' },
        ])
      }
      if (row.status_code === null || row.response_sealed === null) throw new AppError('conflict', 'A request with this Idempotency-Key is still in progress.')
      return { status: row.status_code, body: JSON.parse(sealer.open(row.response_sealed, context).toString('utf8')) as T, replayed: true }
    }
    const answer = await work(tx)
    await tx.query(STORE_ANSWER, [tenantId, key, answer.status, sealer.seal(JSON.stringify(answer.body), context)])
    return { ...answer, replayed: false }
  })
}
