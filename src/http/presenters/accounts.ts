/** The public JSON of card-processing accounts. */
import type { UserAccount } from '../../domain/tenants/card-processing.js'

/** An account as one user sees it: with its enrolment's status and whether it is the default. */
export const userAccountJson = (a: UserAccount) => ({
  card_processing_id: a.id,
  object: 'card_processing_account' as const,
  name: a.name,
  processor: a.processor,
  currencies: a.currencies,
  status: a.status,
  is_default: a.isDefault,
  created_at: a.createdAt.toISOString(),
})
