/**
 * The public JSON of card-processing accounts and enrolments. An account is one object
 * seen from two sides (see `CardProcessingAccount` in ../schemas/objects.ts): a tenant sees
 * it through one user's enrolment, the operator sees its configuration.
 */
import type { ApprovedEnrolment, UserAccount } from '../../domain/tenants/card-processing.js'
import type { Account } from '../../domain/tenants/service.js'

/** An account as one user has it: with its enrolment's status and whether it is the default. */
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

/** An account as the operator sees it: its tenant and priority (never its credentials). */
export const adminAccountJson = (a: Account) => ({
  card_processing_id: a.id,
  object: 'card_processing_account' as const,
  tenant_id: a.tenantId,
  name: a.name,
  processor: a.processor,
  currencies: a.currencies,
  priority: a.priority,
  created_at: a.createdAt.toISOString(),
})

export const enrolmentApprovalJson = (e: ApprovedEnrolment) => ({
  tenant_id: e.tenantId,
  user_id: e.userId,
  card_processing_id: e.accountId,
  status: e.status,
  approved_at: e.approvedAt.toISOString(),
})
