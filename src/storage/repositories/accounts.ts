/** Card-processing accounts and users' enrolments in them, and the default-account order. */
import type { Queryable } from '../db.js'
import type { Account } from '../../domain/tenants/service.js'
import type { ApprovedEnrolment, EnrolledAccount, EnrolmentStatus } from '../../domain/tenants/card-processing.js'
import type { AccountId, TenantId, UserId } from '../../domain/shared/ids.js'

/**
 * The ORDER BY (over accounts `a` and enrolments `e`) that picks a user's default account;
 * shared by every query that must agree with it (the listing's `is_default`, the mint).
 */
export const DEFAULT_ACCOUNT_ORDER = 'a.priority ASC, e.approved_at ASC, a.id ASC'

interface AccountRow {
  id: string
  tenant_id: string
  name: string
  processor: string
  currencies: string[]
  priority: number
  created_at: Date
}

const accountFrom = (r: AccountRow): Account => ({
  id: r.id as AccountId,
  tenantId: r.tenant_id as TenantId,
  name: r.name,
  processor: r.processor,
  currencies: r.currencies,
  priority: r.priority,
  createdAt: new Date(r.created_at),
})

export class AccountRepository {
  constructor(private readonly q: Queryable) {}

  /** Stores the account with its processor configuration, sealed (null when it has none). */
  async insert(account: Account, configSealed: string | null): Promise<void> {
    await this.q.run(
      `INSERT INTO card_processing_accounts (tenant_id, id, name, processor, currencies, priority, config_encrypted, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [account.tenantId, account.id, account.name, account.processor, account.currencies, account.priority, configSealed, account.createdAt],
    )
  }

  /** One account by its id, whichever tenant it belongs to (the operator's CLI and the processors' webhooks name an account only). */
  async findAcrossTenants(id: AccountId): Promise<Account | undefined> {
    const [row] = await this.q.query<AccountRow>('SELECT id, tenant_id, name, processor, currencies, priority, created_at FROM card_processing_accounts WHERE id = $1', [id])
    return row && accountFrom(row)
  }

  /** The account with its sealed processor configuration, for the processors' webhooks. */
  async withConfigAcrossTenants(id: AccountId): Promise<(Account & { configSealed: string | null }) | undefined> {
    const [row] = await this.q.query<AccountRow & { config_encrypted: string | null }>(
      'SELECT id, tenant_id, name, processor, currencies, priority, created_at, config_encrypted FROM card_processing_accounts WHERE id = $1',
      [id],
    )
    return row && { ...accountFrom(row), configSealed: row.config_encrypted }
  }

  /** The tenant's account with its processor and sealed configuration. */
  async processorOf(tenantId: TenantId, id: AccountId): Promise<{ processor: string; configSealed: string | null } | undefined> {
    const [row] = await this.q.query<{ processor: string; config_encrypted: string | null }>('SELECT processor, config_encrypted FROM card_processing_accounts WHERE tenant_id = $1 AND id = $2', [tenantId, id])
    return row && { processor: row.processor, configSealed: row.config_encrypted }
  }

  async updateConfig(tenantId: TenantId, id: AccountId, configSealed: string | null): Promise<void> {
    await this.q.run('UPDATE card_processing_accounts SET config_encrypted = $3 WHERE tenant_id = $1 AND id = $2', [tenantId, id, configSealed])
  }

  /** The tenant's accounts by priority, then age. */
  async list(tenantId: TenantId): Promise<Account[]> {
    const rows = await this.q.query<AccountRow>(
      'SELECT id, tenant_id, name, processor, currencies, priority, created_at FROM card_processing_accounts WHERE tenant_id = $1 ORDER BY priority, created_at, id',
      [tenantId],
    )
    return rows.map(accountFrom)
  }

  /** In one round trip: whether the user exists, and the account's processor (undefined: no such account). */
  async enrolmentTarget(tenantId: TenantId, userId: UserId, accountId: AccountId): Promise<{ userExists: boolean; processor: string | undefined }> {
    const [row] = await this.q.query<{ user_ok: boolean; processor: string | null }>(
      `SELECT EXISTS (SELECT 1 FROM end_users WHERE tenant_id = $1 AND id = $2) AS user_ok,
              (SELECT processor FROM card_processing_accounts WHERE tenant_id = $1 AND id = $3) AS processor`,
      [tenantId, userId, accountId],
    )
    return { userExists: row?.user_ok ?? false, processor: row?.processor ?? undefined }
  }

  /** The user's enrolments with their accounts, approved ones first in default order; undefined when the user does not exist. */
  async listForUser(tenantId: TenantId, userId: UserId): Promise<EnrolledAccount[] | undefined> {
    // The user row is the left side, so a user without enrolments gives one row of nulls and an unknown user none.
    const rows = await this.q.query<{ id: string | null; name: string; processor: string; currencies: string[]; created_at: Date; status: EnrolmentStatus }>(
      `SELECT a.id, a.name, a.processor, a.currencies, a.created_at, e.status
         FROM end_users u0
         LEFT JOIN card_processing_enrolments e ON e.tenant_id = u0.tenant_id AND e.user_id = u0.id
         LEFT JOIN card_processing_accounts a ON a.tenant_id = e.tenant_id AND a.id = e.account_id
        WHERE u0.tenant_id = $1 AND u0.id = $2
        ORDER BY (e.status = 'approved') DESC, ${DEFAULT_ACCOUNT_ORDER}`,
      [tenantId, userId],
    )
    if (rows.length === 0) return undefined
    return rows.flatMap((r) =>
      r.id === null ? [] : [{ id: r.id as AccountId, name: r.name, processor: r.processor, currencies: r.currencies, status: r.status, createdAt: new Date(r.created_at) }],
    )
  }

  /** Enrols the user unless enrolled already (then nothing changes); answers whether it did. */
  async insertEnrolmentUnlessEnrolled(
    tenantId: TenantId,
    userId: UserId,
    accountId: AccountId,
    e: { status: EnrolmentStatus; approvedAt: Date | null; createdAt: Date },
  ): Promise<boolean> {
    const written = await this.q.run(
      `INSERT INTO card_processing_enrolments (tenant_id, user_id, account_id, status, approved_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, user_id, account_id) DO NOTHING`,
      [tenantId, userId, accountId, e.status, e.approvedAt, e.createdAt],
    )
    return written > 0
  }

  /** Approves the enrolment, making it if needed; an approval made before keeps its time. */
  async approveEnrolment(tenantId: TenantId, userId: UserId, accountId: AccountId, at: Date): Promise<ApprovedEnrolment> {
    const [row] = await this.q.query<{ approved_at: Date }>(
      `INSERT INTO card_processing_enrolments (tenant_id, user_id, account_id, status, approved_at, created_at)
       VALUES ($1, $2, $3, 'approved', $4, $4)
       ON CONFLICT (tenant_id, user_id, account_id) DO UPDATE
         SET status = 'approved', approved_at = COALESCE(card_processing_enrolments.approved_at, EXCLUDED.approved_at)
       RETURNING approved_at`,
      [tenantId, userId, accountId, at],
    )
    return { tenantId, userId, accountId, status: 'approved', approvedAt: new Date(row!.approved_at) }
  }
}
