/** The scopes an access token can carry. A tenant's clients get tenant scopes; operators get `admin`. */
export const TENANT_SCOPES = ['payments:write', 'payments:read', 'users:write', 'users:read', 'webhooks:write', 'webhooks:read'] as const
export const ADMIN_SCOPE = 'admin'
export const ALL_SCOPES = [...TENANT_SCOPES, ADMIN_SCOPE] as const
export type Scope = (typeof ALL_SCOPES)[number]

export const isScope = (s: string): s is Scope => (ALL_SCOPES as readonly string[]).includes(s)

/** The scopes a client of a tenant, or of the operator, may hold. */
export const scopesFor = (kind: 'tenant' | 'operator'): readonly Scope[] => (kind === 'tenant' ? TENANT_SCOPES : [ADMIN_SCOPE])
