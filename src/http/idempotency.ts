/**
 * Idempotency-Key: the same key with the same request gives the same answer; the same key
 * with another request is `idempotency_conflict`; keys are kept 24 hours. "The same" is by
 * meaning, not text: each route hashes its request as understood (`12.5` and `"12.50"`,
 * `usd` and `USD` are one request).
 *
 * The key row is claimed in the transaction that does the work, so concurrent duplicates
 * queue on the key's unique index: the first does the work and commits its HTTP answer with
 * it, the others then read that answer. A request that fails rolls back, key and all, so it
 * can be retried with the same key. The stored answer is sealed: it holds a pay_url, whose
 * token must not sit in the database in the clear.
 *
 * This is HTTP's business (an answer is a status and a body); the service does its work in
 * the transaction it is handed, as it would in its own.
 */
import type { Repositories, Store } from '../storage/store.js'
import type { Clock } from '../domain/shared/clock.js'
import { sha256, type Sealer } from '../domain/shared/crypto.js'
import { AppError } from '../domain/shared/errors.js'
import type { TenantId } from '../domain/shared/ids.js'

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000

/** What a stored answer is sealed to. */
export const idempotencyContext = (tenantId: string, key: string) => `idempotency:${tenantId}:${key}`

export const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

export interface Answer<T> {
  status: number
  body: T
}

/** A stable hash of what the request asks for: the route and its body with keys sorted. */
export function requestHash(route: string, body: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v
  return sha256(JSON.stringify([route, canonical(body)])).toString('base64url')
}

export class IdempotentReplies {
  constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
  ) {}

  /** Runs `work` once per key and request; a repeat gets the first answer back with `replayed`. */
  run<T>(scope: { tenantId: TenantId; key: string; requestHash: string }, work: (tx: Repositories) => Promise<Answer<T>>): Promise<Answer<T> & { replayed: boolean }> {
    const { tenantId, key, requestHash: hash } = scope
    const now = this.clock.now()
    const context = idempotencyContext(tenantId, key)
    return this.store.transaction(async (tx) => {
      if (!(await tx.idempotency.claim(tenantId, key, hash, now, new Date(now.getTime() - IDEMPOTENCY_TTL_MS)))) {
        const stored = await tx.idempotency.read(tenantId, key)
        if (!stored || stored.requestHash !== hash) {
          throw new AppError('idempotency_conflict', 'This Idempotency-Key was already used with a different request.', [
            { field: 'Idempotency-Key', issue: 'was used with a different request in the last 24 hours' },
          ])
        }
        if (stored.statusCode === null || stored.responseSealed === null) throw new AppError('conflict', 'A request with this Idempotency-Key is still in progress.')
        return { status: stored.statusCode, body: JSON.parse(this.sealer.open(stored.responseSealed, context).toString('utf8')) as T, replayed: true }
      }
      const answer = await work(tx)
      await tx.idempotency.storeAnswer(tenantId, key, answer.status, this.sealer.seal(JSON.stringify(answer.body), context))
      return { ...answer, replayed: false }
    })
  }
}
