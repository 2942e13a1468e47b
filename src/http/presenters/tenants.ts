/** The public JSON of tenants and their OAuth clients. */
import type { ClientId } from '../../domain/shared/ids.js'
import type { Tenant } from '../../domain/tenants/service.js'

export const tenantJson = (t: Tenant) => ({
  id: t.id,
  object: 'tenant' as const,
  name: t.name,
  allowed_origins: t.allowedOrigins,
  allow_top_level: t.allowTopLevel,
  created_at: t.createdAt.toISOString(),
})

/** A tenant just made, with its first client's credentials. */
export const createdTenantJson = (r: { tenant: Tenant; clientId: ClientId; clientSecret: string }) => ({
  tenant: tenantJson(r.tenant),
  tenant_id: r.tenant.id,
  client_id: r.clientId,
  client_secret: r.clientSecret,
})

/** A client just made: its secret is shown this once. */
export const createdClientJson = (c: { clientId: ClientId; clientSecret: string; tenantId: string | null; scopes: string[] }) => ({
  client_id: c.clientId,
  client_secret: c.clientSecret,
  tenant_id: c.tenantId,
  scopes: c.scopes,
})

export const revokedClientJson = (clientId: string) => ({ client_id: clientId, revoked: true as const })
