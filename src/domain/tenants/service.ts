/**
 * What the operator does: tenants and their allowed origins, OAuth clients,
 * card-processing accounts, and approving a user's enrolment in an account.
 * Used by the CLI (straight on the database) and by /v1/admin.
 *
 * The ids come as the operator typed them: each is looked up before it is used as the
 * id of a tenant, user or account.
 */
import type { Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import { AppError, invalid, notFound } from '../shared/errors.js'
import { newId, type AccountId, type ClientId, type TenantId, type UserId } from '../shared/ids.js'
import { toCurrency } from '../shared/currencies.js'
import type { Sealer } from '../shared/crypto.js'
import { configContext, processorInfo, processorNames, type ProcessorFactory } from '../../processors/registry.js'
import { TENANT_SCOPES, isScope, scopesFor, type Scope } from '../oauth/scopes.js'
import type { TokenService } from '../oauth/tokens.js'
import type { ApprovedEnrolment } from './card-processing.js'

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

/**
 * Checks that `value` is a bare web origin (scheme, host, optional port) and returns it
 * normalised. A wildcard (`https://*.shop.example`) is refused: the page's CSP would honour
 * it but `postMessage` needs one exact origin, so each origin is named.
 */
export function toOrigin(value: string): string | undefined {
  try {
    const u = new URL(value)
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password || u.hostname.includes('*')) return undefined
    if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return undefined
    return u.origin
  } catch {
    return undefined
  }
}

/** Each item in its normal form, in order, without repeats; the first that has none is a validation error naming its index. */
function eachOnce<T>(items: string[], field: string, normal: (item: string) => T | undefined, issue: string): T[] {
  const out: T[] = []
  for (const [i, item] of items.entries()) {
    const n = normal(item)
    if (n === undefined) throw invalid(`${field}.${i}`, issue)
    if (!out.includes(n)) out.push(n)
  }
  return out
}

export class TenantService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tokens: TokenService,
    private readonly sealer: Sealer,
  ) {}

  /** Creates a tenant and its first OAuth client, which has every tenant scope. */
  async createTenant(input: { name: string; origins: string[]; allowTopLevel?: boolean }): Promise<{ tenant: Tenant; clientId: ClientId; clientSecret: string }> {
    const name = input.name.trim()
    if (!name || name.length > 200) throw invalid('name', 'must be 1 to 200 characters')
    if (input.origins.length === 0) throw invalid('allowed_origins', 'must name at least one origin that may frame the payment page')
    const origins = eachOnce(input.origins, 'allowed_origins', toOrigin, 'must be an origin such as https://shop.example.com (no path, no wildcard)')
    const tenant: Tenant = { id: newId('tenant'), name, allowedOrigins: origins, allowTopLevel: input.allowTopLevel ?? false, createdAt: this.clock.now() }
    return this.store.transaction(async (tx) => {
      await tx.tenants.insert(tenant)
      const client = await this.tokens.createClient(tx, tenant.id, TENANT_SCOPES)
      return { tenant, ...client }
    })
  }

  async getTenant(id: string): Promise<Tenant> {
    const tenant = await this.store.tenants.find(id as TenantId)
    if (!tenant) throw notFound('tenant')
    return tenant
  }

  listTenants(): Promise<Tenant[]> {
    return this.store.tenants.listAcrossTenants()
  }

  /** A client for a tenant (tenant scopes) or, with `tenantId` null, an operator client (`admin`). */
  async createClient(tenantId: string | null, scopes: string[]) {
    // Any string names a tenant, even "": only null makes an operator client.
    const tenant = tenantId === null ? null : await this.getTenant(tenantId)
    const allowed = scopesFor(tenant ? 'tenant' : 'operator')
    const wanted = scopes.length ? [...new Set(scopes)] : [...allowed]
    const bad = wanted.find((s) => !isScope(s) || !allowed.includes(s))
    if (bad !== undefined) throw invalid('scopes', `"${bad}" is not a scope for ${tenant ? 'a tenant' : 'an operator'} client (allowed: ${allowed.join(' ')})`)
    const client = await this.tokens.createClient(this.store, tenant?.id ?? null, wanted as Scope[])
    return { ...client, tenantId, scopes: wanted }
  }

  async createAccount(tenantId: string, input: { name: string; processor: string; currencies: string[]; priority?: number; config?: Record<string, unknown> }): Promise<Account> {
    const tenant = await this.getTenant(tenantId)
    const name = input.name.trim()
    if (!name || name.length > 200) throw invalid('name', 'must be 1 to 200 characters')
    const factory = processorInfo(input.processor)
    if (!factory) throw invalid('processor', `must be one of ${processorNames().join(', ')}`)
    if (input.currencies.length === 0) throw invalid('currencies', 'must name at least one currency')
    const currencies = eachOnce(input.currencies, 'currencies', toCurrency, 'must be a current ISO 4217 code')
    const priority = input.priority ?? 100
    if (!Number.isInteger(priority) || priority < 0 || priority > 1_000_000) throw invalid('priority', 'must be a whole number from 0 to 1000000')
    const account: Account = { id: newId('account'), tenantId: tenant.id, name, processor: input.processor, currencies, priority, createdAt: this.clock.now() }
    await this.store.accounts.insert(account, this.sealedConfig(factory, account.id, input.config))
    return account
  }

  /**
   * Replaces an account's processor configuration (rotating its credentials). Checked
   * against the adapter's schema first: nothing is saved when a key is missing, unknown or
   * of the wrong kind. The next payment on the account uses it, in every process.
   * Attempts that open pages made ready under the old configuration (`prepare`: a Stripe
   * PaymentIntent) are forgotten with it, in the same transaction: the new credentials may
   * be another processor account's, which does not know them, and a confirm makes its own.
   */
  async updateAccountConfig(accountId: string, config: Record<string, unknown>, tenantId?: string): Promise<Account> {
    const account = await this.store.accounts.findAcrossTenants(accountId as AccountId)
    if (!account || (tenantId !== undefined && account.tenantId !== tenantId)) throw notFound('card-processing account')
    const factory = processorInfo(account.processor)
    if (!factory) throw new AppError('validation_error', `The account's processor "${account.processor}" has no adapter in this build.`)
    const sealed = this.sealedConfig(factory, account.id, config)
    await this.store.transaction(async (tx) => {
      await tx.accounts.updateConfig(account.tenantId, account.id, sealed)
      if (factory.prepares) await tx.intents.forgetPrepared(account.tenantId, account.id)
    })
    return account
  }

  /** The configuration checked against the adapter's schema and sealed to its account (null when there is none). */
  private sealedConfig(factory: ProcessorFactory, accountId: AccountId, config: Record<string, unknown> | undefined): string | null {
    const problems = factory.checkConfig(config)
    if (problems.length) {
      throw new AppError(
        'validation_error',
        `The ${factory.name} configuration is not usable: ${problems.map((p) => `${p.key} ${p.issue}`).join('; ')}.`,
        problems.map((p) => ({ field: `config.${p.key}`, issue: p.issue })),
      )
    }
    return config && Object.keys(config).length ? this.sealer.seal(JSON.stringify(config), configContext(accountId)) : null
  }

  async listAccounts(tenantId: string): Promise<Account[]> {
    const tenant = await this.getTenant(tenantId)
    return this.store.accounts.list(tenant.id)
  }

  /** Approves a user's enrolment in an account, enrolling the user if needed. */
  async approveEnrolment(tenantId: string, userId: string, accountId: string): Promise<ApprovedEnrolment> {
    const [tenant, user, account] = [tenantId as TenantId, userId as UserId, accountId as AccountId]
    const target = await this.store.accounts.enrolmentTarget(tenant, user, account)
    if (!target.userExists) throw notFound('user')
    if (!target.processor) throw notFound('card-processing account')
    return this.store.accounts.approveEnrolment(tenant, user, account, this.clock.now())
  }

  /** Refuses every token of a client from now on. */
  async revokeClient(clientId: string): Promise<void> {
    if (!(await this.tokens.revokeClient(clientId as ClientId))) throw new AppError('not_found', 'No such active client.')
  }
}
