/**
 * A user's card-processing accounts, as the tenant sees them, and the deterministic
 * default: among the user's approved accounts that support the currency, the lowest
 * priority, then the earliest approval, then the smallest id (the order itself is
 * `DEFAULT_ACCOUNT_ORDER` in the accounts repository, which the mint shares).
 */
import type { Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import { notFound } from '../shared/errors.js'
import type { CurrencyCode } from '../shared/currencies.js'
import type { AccountId, TenantId, UserId } from '../shared/ids.js'
import { processorInfo } from '../../processors/registry.js'

export type EnrolmentStatus = 'pending' | 'approved'

/** An account as one user has it: with the status of the user's enrolment in it. */
export interface EnrolledAccount {
  id: AccountId
  name: string
  processor: string
  currencies: string[]
  status: EnrolmentStatus
  createdAt: Date
}

/** An enrolled account, and whether it is the one a payment link in the asked currency uses when it names none. */
export interface UserAccount extends EnrolledAccount {
  isDefault: boolean
}

export interface ApprovedEnrolment {
  tenantId: TenantId
  userId: UserId
  accountId: AccountId
  status: 'approved'
  approvedAt: Date
}

export class CardProcessingService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** The user's enrolments, approved ones first in default order; `isDefault` for `currency`. */
  async listForUser(tenantId: TenantId, userId: UserId, currency: CurrencyCode): Promise<UserAccount[]> {
    const accounts = await this.store.accounts.listForUser(tenantId, userId)
    if (!accounts) throw notFound('user')
    const defaultId = accounts.find((a) => a.status === 'approved' && a.currencies.includes(currency))?.id
    return accounts.map((a) => ({ ...a, isDefault: a.id === defaultId }))
  }

  /**
   * Enrols the user in one of the tenant's accounts. Accounts of a processor that
   * approves at once (the sandbox) are approved now; others wait for the operator.
   * Enrolling again changes nothing. Returns whether a new enrolment was made.
   */
  async enrol(tenantId: TenantId, userId: UserId, accountId: AccountId): Promise<{ created: boolean }> {
    const target = await this.store.accounts.enrolmentTarget(tenantId, userId, accountId)
    if (!target.userExists) throw notFound('user')
    if (!target.processor) throw notFound('card-processing account')
    const approved = processorInfo(target.processor)?.autoApprove ?? false
    const now = this.clock.now()
    const created = await this.store.accounts.insertEnrolmentUnlessEnrolled(tenantId, userId, accountId, {
      status: approved ? 'approved' : 'pending',
      approvedAt: approved ? now : null,
      createdAt: now,
    })
    return { created }
  }
}
