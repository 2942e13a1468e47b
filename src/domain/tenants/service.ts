/**
 * What the operator does: tenants and their allowed origins, OAuth clients,
 * card-processing accounts, and approving a user's enrolment in an account.
 * Used by the CLI (straight on the database) and by /v1/admin.
 */
import type { Db } from '../../storage/db.js'
import type { Clock } from '../shared/clock.js'
import { AppError, invalid, notFound } from '../shared/errors.js'
import { newId, type AccountId, type TenantId, type UserId } from '../shared/ids.js'
import { toCurrency } from '../shared/currencies.js'
import type { Sealer } from '../shared/crypto.js'
import { processorInfo, processorNames } from '../../processors/registry.js'
import { ADMIN_SCOPE, TENANT_SCOPES, isScope, type Scope } from '../oauth/scopes.js'
import type { TokenService } from '../oauth/tokens.js'

export interface Tenant {
  id: TenantId
  name: string
  allowedOrigins: string[]
  allowTopLevel: boolean
  createdAt: Date
}

export interface Account {
  id: AccountId
  tenantId: TenantId
  name: string
  processor: string
  currencies: string[]
  priority: number
  createdAt: Date
}

/** Checks that `value` is a bare web origin (scheme, host, optional port) and returns it normalised. */
export function toOrigin(value: string): string | undefined {
  try {
    const u = new URL(value)
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password) return undefined
    if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return undefined
    return u.origin
  } catch {
    return undefined
  }
}

const tenantFrom = (r: { id: string; name: string; allowed_origins: string[]; allow_top_level: boolean; created_at: Date }): Tenant => ({
  id: r.id as TenantId,
  name: r.name,
  allowedOrigins: r.allowed_origins,
  allowTopLevel: r.allow_top_level,
  createdAt: new Date(r.created_at),
})

export const accountFrom = (r: Record<string, unknown>): Account => ({
  id: r.id as AccountId,
  tenantId: r.tenant_id as TenantId,
  name: r.name as string,
  processor: r.processor as string,
  currencies: r.currencies as string[],
  priority: r.priority as number,
  createdAt: new Date(r.created_at as Date),
})

export class TenantService {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly tokens: TokenService,
    private readonly sealer: Sealer,
  ) {}

  /** Creates a tenant and its first OAuth client, which has every tenant scope. */
  async createTenant(input: { name: string; origins: string[]; allowTopLevel?: boolean }) {
    const name = input.name.trim()
    if (!name || name.length > 200) throw invalid('name', 'must be 1 to 200 characters')
    if (input.origins.length === 0) throw invalid('allowed_origins', 'must name at least one origin that may frame the payment page')
    const origins: string[] = []
    for (const [i, o] of input.origins.entries()) {
      const origin = toOrigin(o)
      if (!origin) throw invalid(`allowed_origins.${i}`, 'must be an origin such as https://shop.example.com (no path)')
      if (!origins.includes(origin)) origins.push(origin)
    }
    const id = newId('tenant')
    return this.db.transaction(async (tx) => {
      await tx.query('INSERT INTO tenants (id, name, allowed_origins, allow_top_level, created_at) VALUES ($1, $2, $3, $4, $5)', [
        id,
        name,
        origins,
        input.allowTopLevel ?? false,
        this.clock.now(),
      ])
      const client = await this.tokens.createClient(tx, id, TENANT_SCOPES)
      return { tenant: { id, name, allowedOrigins: origins, allowTopLevel: input.allowTopLevel ?? false, createdAt: this.clock.now() } as Tenant, ...client }
    })
  }

  async getTenant(id: string): Promise<Tenant> {
    const [row] = await this.db.query<Parameters<typeof tenantFrom>[0]>('SELECT * FROM tenants WHERE id = $1', [id])
    if (!row) throw notFound('tenant')
    return tenantFrom(row)
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = await this.db.query<Parameters<typeof tenantFrom>[0]>('SELECT * FROM tenants ORDER BY created_at DESC, id DESC')
    return rows.map(tenantFrom)
  }

  /** A client for a tenant (tenant scopes) or, with `tenantId` null, an operator client (`admin`). */
  async createClient(tenantId: string | null, scopes: string[]) {
    // Any string names a tenant, even "": only null makes an operator client.
    if (tenantId !== null) await this.getTenant(tenantId)
    const allowed: readonly string[] = tenantId ? TENANT_SCOPES : [ADMIN_SCOPE]
    const wanted = scopes.length ? [...new Set(scopes)] : [...allowed]
    const bad = wanted.find((s) => !isScope(s) || !allowed.includes(s))
    if (bad !== undefined) throw invalid('scopes', `"${bad}" is not a scope for ${tenantId ? 'a tenant' : 'an operator'} client (allowed: ${allowed.join(' ')})`)
    const client = await this.tokens.createClient(this.db, tenantId as TenantId | null, wanted as Scope[])
    return { ...client, tenantId, scopes: wanted }
  }

  async createAccount(tenantId: string, input: { name: string; processor: string; currencies: string[]; priority?: number; config?: Record<string, unknown> }): Promise<Account> {
    await this.getTenant(tenantId)
    const name = input.name.trim()
    if (!name || name.length > 200) throw invalid('name', 'must be 1 to 200 characters')
    if (!processorInfo(input.processor)) throw invalid('processor', `must be one of ${processorNames().join(', ')}`)
    if (input.currencies.length === 0) throw invalid('currencies', 'must name at least one currency')
    const currencies: string[] = []
    for (const [i, c] of input.currencies.entries()) {
      const cur = toCurrency(c)
      if (!cur) throw invalid(`currencies.${i}`, 'must be a current ISO 4217 code')
      if (!currencies.includes(cur)) currencies.push(cur)
    }
    const priority = input.priority ?? 100
    if (!Number.isInteger(priority) || priority < 0 || priority > 1_000_000) throw invalid('priority', 'must be a whole number from 0 to 1000000')
    const id = newId('account')
    const config = input.config ? this.sealer.seal(JSON.stringify(input.config), `account:${id}`) : null
    const [row] = await this.db.query(
      `INSERT INTO card_processing_accounts (tenant_id, id, name, processor, currencies, priority, config_encrypted, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [tenantId, id, name, input.processor, currencies, priority, config, this.clock.now()],
    )
    return accountFrom(row!)
  }

  async listAccounts(tenantId: string): Promise<Account[]> {
    await this.getTenant(tenantId)
    const rows = await this.db.query('SELECT * FROM card_processing_accounts WHERE tenant_id = $1 ORDER BY priority, created_at, id', [tenantId])
    return rows.map(accountFrom)
  }

  /** Approves a user's enrolment in an account, enrolling the user if needed. */
  async approveEnrolment(tenantId: string, userId: string, accountId: string) {
    const now = this.clock.now()
    const [check] = await this.db.query<{ user_ok: boolean; account_ok: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM end_users WHERE tenant_id = $1 AND id = $2) AS user_ok,
              EXISTS (SELECT 1 FROM card_processing_accounts WHERE tenant_id = $1 AND id = $3) AS account_ok`,
      [tenantId, userId, accountId],
    )
    if (!check?.user_ok) throw notFound('user')
    if (!check.account_ok) throw notFound('card-processing account')
    const [row] = await this.db.query<{ status: string; approved_at: Date }>(
      `INSERT INTO card_processing_enrolments (tenant_id, user_id, account_id, status, approved_at, created_at)
       VALUES ($1, $2, $3, 'approved', $4, $4)
       ON CONFLICT (tenant_id, user_id, account_id) DO UPDATE
         SET status = 'approved', approved_at = COALESCE(card_processing_enrolments.approved_at, EXCLUDED.approved_at)
       RETURNING status, approved_at`,
      [tenantId, userId, accountId, now],
    )
    return { tenantId: tenantId as TenantId, userId: userId as UserId, accountId: accountId as AccountId, status: row!.status, approvedAt: new Date(row!.approved_at) }
  }

  /** Refuses every token of a client from now on. */
  async revokeClient(clientId: string) {
    if (!(await this.tokens.revokeClient(clientId))) throw new AppError('not_found', 'No such active client.')
  }
}
