/**
 * The portal session: the link's token is exchanged once (POST /portal/api/sessions) for a
 * secret that lives in this tab's sessionStorage — never a cookie, never localStorage, so
 * it dies with the tab and is never sent by the browser on its own. It is kept per tenant,
 * so a tab with two tenants' portals keeps them apart. Where a framed portal may not use
 * storage at all (a browser that blocks third-party storage), the session lives in memory
 * only: a reload then asks for a new link, which is the honest answer.
 */
import { request } from './api.js'

export interface PortalSession {
  secret: string
  expires_at: string
  tenant: { id: string; name: string }
  scopes: string[]
}

const keyFor = (tenantId: string) => `paylink.portal.${tenantId}`
const memory = new Map<string, string>()

function storage(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
  try {
    const store = window.sessionStorage
    store.getItem('paylink.portal.probe')
    return store
  } catch {
    return { getItem: (k) => memory.get(k) ?? null, setItem: (k, v) => void memory.set(k, v), removeItem: (k) => void memory.delete(k) }
  }
}

/** Exchanges the link's token; the session, or an ApiError (410 used / expired, 404 unknown). */
export async function exchange(token: string): Promise<PortalSession> {
  const json = await request('POST', '/portal/api/sessions', { body: { token } })
  const session = json.data as PortalSession
  storage().setItem(keyFor(session.tenant.id), JSON.stringify(session))
  return session
}

/** The tenant's session kept in this tab, unless it has ended. */
export function storedSession(tenantId: string, now = Date.now()): PortalSession | undefined {
  const text = storage().getItem(keyFor(tenantId))
  if (!text) return undefined
  try {
    const session = JSON.parse(text) as PortalSession
    if (typeof session.secret !== 'string' || Date.parse(session.expires_at) <= now) throw new Error('ended')
    return session
  } catch {
    forget(tenantId)
    return undefined
  }
}

export const forget = (tenantId: string) => storage().removeItem(keyFor(tenantId))
