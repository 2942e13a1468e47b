/** Card-processing accounts and users' enrolments in them, and the default-account order. */
import type { Queryable } from '../db.js'

/**
 * The ORDER BY (over accounts `a` and enrolments `e`) that picks a user's default account;
 * shared by every query that must agree with it (the listing's `is_default`, the mint).
 */
export const DEFAULT_ACCOUNT_ORDER = 'a.priority ASC, e.approved_at ASC, a.id ASC'

export class AccountRepository {
  constructor(readonly q: Queryable) {}
}
