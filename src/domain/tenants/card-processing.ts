/**
 * A user's card-processing accounts, as the tenant sees them, and the deterministic
 * default: among the user's approved accounts that support the currency, the lowest
 * priority, then the earliest approval, then the smallest id.
 */
import { DEFAULT_ACCOUNT_ORDER } from '../../storage/repositories/accounts.js'
import type { Db } from '../../storage/db.js'
import type { Clock } from '../shared/clock.js'
import { notFound } from '../shared/errors.js'
import type { CurrencyCode } from '../shared/currencies.js'
import type { TenantId } from '../shared/ids.js'
import { processorInfo } from '../../processors/registry.js'

export interface UserAccount {
  id: string
  name: string
  processor: string
  currencies: string[]
  status: 'pending' | 'approved'
  isDefault: boolean
  createdAt: Date
}


export class CardProcessingService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** The user's enrolments, approved ones first in default order; `isDefault` for `currency`. */
  async listForUser(tenantId: TenantId, userId: string, currency: CurrencyCode): Promise<UserAccount[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `SELECT a.id, a.name, a.processor, a.currencies, a.created_at, e.status
         FROM end_users u0
         LEFT JOIN card_processing_enrolments e ON e.tenant_id = u0.tenant_id AND e.user_id = u0.id
         LEFT JOIN card_processing_accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
        WHERE u0.tenant_id = $1 AND u0.id = $2
        ORDER BY (e.status = 'approved') DESC, ${DEFAULT_ACCOUNT_ORDER}`,
      [tenantId, userId],
    )
    if (rows.length === 0) throw notFound('user')
    const accounts = rows.filter((r) => r.id !== null)
    const defaultId = accounts.find((r) => r.status === 'approved' && (r.currencies as string[]).includes(currency))?.id
    return accounts.map((r) => ({
      id: r.id as string,
      name: r.name as string,
      processor: r.processor as string,
      currencies: r.currencies as string[],
      status: r.status as 'pending' | 'approved',
      isDefault: r.id === defaultId,
      createdAt: new Date(r.created_at as Date),
    }))
  }

  /**
   * Enrols the user in one of the tenant's accounts. Accounts of a processor that
   * approves at once (the sandbox) are approved now; others wait for the operator.
   * Enrolling again changes nothing. Returns whether a new enrolment was made.
   */
  async enrol(tenantId: TenantId, userId: string, accountId: string): Promise<{ created: boolean }> {
    const [check] = await this.db.query<{ user_ok: boolean; processor: string | null }>(
      `SELECT EXISTS (SELECT 1 FROM end_users WHERE tenant_id = $1 AND id = $2) AS user_ok,
              (SELECT processor FROM card_processing_accounts WHERE tenant_id = $1 AND id = $3) AS processor`,
      [tenantId, userId, accountId],
    )
    if (!check?.user_ok) throw notFound('user')
    if (!check.processor) throw notFound('card-processing account')
    const approved = processorInfo(check.processor)?.autoApprove ?? false
    const now = this.clock.now()
    const rows = await this.db.query(
      `INSERT INTO card_processing_enrolments (tenant_id, user_id, account_id, status, approved_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, user_id, account_id) DO NOTHING RETURNING status`,
      [tenantId, userId, accountId, approved ? 'approved' : 'pending', approved ? now : null, now],
    )
    return { created: rows.length > 0 }
  }
}
