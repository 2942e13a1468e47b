/** Card-processing accounts and users' enrolments in them, and the default-account order. */
import type { Queryable } from '../db.js'

export class AccountRepository {
  constructor(readonly q: Queryable) {}
}
