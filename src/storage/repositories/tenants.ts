/**
 * Tenants and their OAuth clients. A client is found by its id alone: the id is the
 * credential, and the caller does not know the tenant until the row tells it, so the
 * client lookups and revocation cross tenants on purpose (`…AcrossTenants`).
 */
import { sql, type Queryable } from '../db.js'
import type { OAuthClient } from '../../domain/oauth/tokens.js'
import type { Tenant } from '../../domain/tenants/service.js'
import type { ClientId, TenantId } from '../../domain/shared/ids.js'

/** A tenant's row, typed by the columns it is read with. */
type TenantRow = { [C in 'id' | 'name']: string } & { allowed_origins: string[]; allow_top_level: boolean; created_at: Date }

const tenantFrom = (r: TenantRow): Tenant => ({ id: r.id as TenantId, name: r.name, allowedOrigins: r.allowed_origins, allowTopLevel: r.allow_top_level, createdAt: new Date(r.created_at) })

const TENANT_COLUMNS = 'id, name, allowed_origins, allow_top_level, created_at'

// The token endpoint and every authenticated request (once a second per client) read these.
const FIND_CLIENT = sql('oauth_client_by_id', 'SELECT id, tenant_id, secret_hash, scopes, revoked_at FROM oauth_clients WHERE id = $1')
const CLIENT_ACTIVE = sql('oauth_client_active', 'SELECT tenant_id FROM oauth_clients WHERE id = $1 AND revoked_at IS NULL')

export class TenantRepository {
  constructor(private readonly q: Queryable) {}

  async insert(tenant: Tenant): Promise<void> {
    await this.q.run('INSERT INTO tenants (id, name, allowed_origins, allow_top_level, created_at) VALUES ($1, $2, $3, $4, $5)', [
      tenant.id,
      tenant.name,
      tenant.allowedOrigins,
      tenant.allowTopLevel,
      tenant.createdAt,
    ])
  }

  async find(tenantId: TenantId): Promise<Tenant | undefined> {
    const [row] = await this.q.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [tenantId])
    return row && tenantFrom(row)
  }

  /** Every tenant, newest first: the operator's listing. */
  async listAcrossTenants(): Promise<Tenant[]> {
    const rows = await this.q.query<TenantRow>(`SELECT ${TENANT_COLUMNS} FROM tenants ORDER BY created_at DESC, id DESC`)
    return rows.map(tenantFrom)
  }

  /** Stores a client; `tenantId` null makes an operator client. */
  async insertClient(client: { id: ClientId; tenantId: TenantId | null; secretHash: string; scopes: readonly string[]; createdAt: Date }): Promise<void> {
    await this.q.run('INSERT INTO oauth_clients (id, tenant_id, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5)', [
      client.id,
      client.tenantId,
      client.secretHash,
      [...client.scopes],
      client.createdAt,
    ])
  }

  /** The client that presents `clientId` at the token endpoint, revoked or not. */
  async findClientAcrossTenants(clientId: ClientId): Promise<OAuthClient | undefined> {
    const [row] = await this.q.query<{ id: string; tenant_id: string | null; secret_hash: string; scopes: string[]; revoked_at: Date | null }>(FIND_CLIENT, [clientId])
    if (!row) return undefined
    return {
      id: row.id as ClientId,
      tenantId: (row.tenant_id as TenantId | null) ?? null,
      secretHash: row.secret_hash,
      scopes: row.scopes,
      revokedAt: row.revoked_at && new Date(row.revoked_at),
    }
  }

  /** The tenant (null for an operator) of `clientId` if the client is not revoked; undefined if it is or does not exist. */
  async findActiveClientAcrossTenants(clientId: ClientId): Promise<{ tenantId: TenantId | null } | undefined> {
    const [row] = await this.q.query<{ tenant_id: string | null }>(CLIENT_ACTIVE, [clientId])
    return row && { tenantId: (row.tenant_id as TenantId | null) ?? null }
  }

  /** Marks the client revoked at `at`; false when it does not exist or was revoked before. */
  async revokeClientAcrossTenants(clientId: ClientId, at: Date): Promise<boolean> {
    return (await this.q.run('UPDATE oauth_clients SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [clientId, at])) > 0
  }
}
