/** Idempotency keys and their sealed answers. */
import type { Queryable } from '../db.js'

export class IdempotencyRepository {
  constructor(readonly q: Queryable) {}
}
