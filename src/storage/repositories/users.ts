/** A tenant's end users. */
import type { Queryable } from '../db.js'

export class UserRepository {
  constructor(readonly q: Queryable) {}
}
