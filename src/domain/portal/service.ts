/**
 * Access to the tenant portal (SPEC "Tenant portal"), as in Svix's App Portal: a one-time
 * link, exchanged once for a session whose secret is a bearer credential for the same
 * /v1/platform routes the API has, so that every portal action goes through the same
 * routes, services and scope checks (one set of rules).
 *
 * - A **link** (`plk_` + 32 random bytes, base64url) is made by a tenant's client
 *   (`POST /v1/platform/portal-sessions`) or the operator (`paylink portal link`). It is
 *   bound to the tenant, the client (NULL for the operator), the scopes (the client token's
 *   tenant scopes; every tenant scope for the operator) and `expires_at`. Only its SHA-256
 *   is stored.
 * - The **exchange** (`POST /portal/api/sessions {token}`) gives a session once: one
 *   conditional update decides, so of concurrent exchanges exactly one wins. A used link is
 *   `portal_link_used`, an expired one (or one whose client was revoked since)
 *   `portal_link_expired`, anything else `portal_link_not_found`.
 * - The **session** secret (`pps_` + 32 random bytes) is stored only as SHA-256 and ends at
 *   the link's `expires_at`: a session never outlives the link that made it, and cannot make
 *   a new link (the route refuses a portal principal), so it cannot extend itself.
 *   `Authorization: Bearer pps_…` is verified here (`authenticate`) into the same
 *   `Principal` a JWT gives (tenant, client, the link's scopes, plus `portalSessionId`).
 *   Revoking the client ends its sessions as it ends its tokens: at once in the revoking
 *   process, within a second in the others (`TokenService.clientActive`).
 *
 * A verified session is remembered in this process per exact secret (bounded, like
 * verified tokens in tokens.ts): its tenant, client, scopes and expiry cannot change, so
 * what is re-checked on every use is only what can — the clock against `expires_at`, and the
 * client's standing. Nothing of a session is cached across processes.
 */
import type { Store } from '../../storage/store.js'
import type { PortalSessionRecord } from '../../storage/repositories/portal.js'
import type { Clock } from '../shared/clock.js'
import { sha256 } from '../shared/crypto.js'
import { AppError, invalid, notFound } from '../shared/errors.js'
import { newId, type ClientId, type TenantId } from '../shared/ids.js'
import { randomToken } from '../shared/random.js'
import { TENANT_SCOPES } from '../oauth/scopes.js'
import type { Principal, TokenService } from '../oauth/tokens.js'

export const PORTAL_LINK_PREFIX = 'plk_'
export const PORTAL_SECRET_PREFIX = 'pps_'
/** Seconds a portal link (and its session) lives: from 60 s to a day, an hour unless asked. */
export const PORTAL_TTL = { min: 60, max: 86_400, default: 3_600 } as const

/** How long an ended link or session is kept (it still answers "used" / "expired"), then swept. */
export const PORTAL_KEEP_ENDED_MS = 7 * 24 * 3600 * 1000
const SWEEP_EVERY_MS = 60_000

/** 32 random bytes in base64url: 43 characters. Anything else is not a token we made. */
const LINK_TOKEN = /^plk_[A-Za-z0-9_-]{43}$/
const SESSION_SECRET = /^pps_[A-Za-z0-9_-]{43}$/

/** Whether a bearer credential is a portal session secret (rather than a JWT). */
export const isPortalSecret = (bearer: string) => bearer.startsWith(PORTAL_SECRET_PREFIX)

export interface PortalLink {
  url: string
  expiresAt: Date
}

/** What an exchange gives the portal's page. */
export interface PortalSession {
  secret: string
  expiresAt: Date
  tenant: { id: TenantId; name: string }
  scopes: string[]
}

/**
 * What a link or a session is now, without consuming anything: for the portal's HTML route,
 * which answers a clear page for a used or expired link, and frames the portal only for the
 * tenant's origins (`allowedOrigins`, as the payment page's `frame-ancestors`). A link whose
 * client was revoked is `expired` (it no longer grants anything).
 */
export interface PortalPeek {
  state: 'valid' | 'used' | 'expired' | 'unknown'
  tenantId?: TenantId
  allowedOrigins?: string[]
}

interface CachedSession {
  principal: Principal
  expiresAt: number
}

/** How many verified sessions are remembered; the oldest is forgotten first. */
const SESSION_CACHE_SIZE = 10_000

export class PortalService {
  private readonly verified = new Map<string, CachedSession>()
  private lastSweep = -Infinity

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tokens: TokenService,
    private readonly options: { publicBaseUrl: string },
  ) {}

  /**
   * `POST /v1/platform/portal-sessions`: a link for the caller's tenant with the caller's
   * tenant scopes. A portal session may not make one (it would outlive itself): forbidden.
   */
  async createLink(principal: Principal, expiresIn: number = PORTAL_TTL.default): Promise<PortalLink> {
    if (principal.portalSessionId) throw new AppError('forbidden', 'A portal session cannot make portal links; ask your server to make one.')
    if (!principal.tenantId || !principal.clientId) throw new AppError('forbidden', 'This route is for tenant clients.')
    const scopes = TENANT_SCOPES.filter((s) => principal.scopes.has(s))
    return this.insertLink(principal.tenantId, principal.clientId, scopes, expiresIn)
  }

  /** `paylink portal link --tenant T`: a link with every tenant scope, made by the operator. */
  async createLinkForOperator(tenantId: string, expiresIn: number = PORTAL_TTL.default): Promise<PortalLink> {
    const tenant = /^ten_[0-9a-z]{1,64}$/.test(tenantId) ? await this.store.tenants.find(tenantId as TenantId) : undefined
    if (!tenant) throw notFound('tenant')
    return this.insertLink(tenant.id, null, TENANT_SCOPES, expiresIn)
  }

  private async insertLink(tenantId: TenantId, clientId: ClientId | null, scopes: readonly string[], expiresIn: number): Promise<PortalLink> {
    if (!Number.isInteger(expiresIn) || expiresIn < PORTAL_TTL.min || expiresIn > PORTAL_TTL.max) {
      throw invalid('expires_in', `must be a whole number of seconds from ${PORTAL_TTL.min} to ${PORTAL_TTL.max}`)
    }
    const token = PORTAL_LINK_PREFIX + randomToken(32)
    const now = this.clock.now()
    const expiresAt = new Date(now.getTime() + expiresIn * 1000)
    await this.store.portal.insertLink(tenantId, { id: newId('portalSession'), linkHash: sha256(token), clientId, scopes, expiresAt, now })
    return { url: `${this.options.publicBaseUrl}/portal/${token}`, expiresAt }
  }

  /**
   * The background sweep: deletes links and sessions a week after they ended
   * (`PORTAL_KEEP_ENDED_MS`), at most once a minute per process and `limit` rows a pass.
   * Until then an old link still answers "used" or "expired"; after, "not found" — it
   * grants nothing either way. Answers how many rows went.
   */
  async sweepExpired(limit = 500): Promise<number> {
    const now = this.clock.now().getTime()
    if (now - this.lastSweep < SWEEP_EVERY_MS) return 0
    this.lastSweep = now
    return this.store.portal.deleteExpiredAcrossTenants(new Date(now - PORTAL_KEEP_ENDED_MS), limit)
  }

  /** `POST /portal/api/sessions`: the link's token for a session, once. */
  async exchange(token: string): Promise<PortalSession> {
    if (!LINK_TOKEN.test(token)) throw linkError('unknown')
    const secret = PORTAL_SECRET_PREFIX + randomToken(32)
    const linkHash = sha256(token)
    const won = await this.store.portal.exchangeAcrossTenants(linkHash, sha256(secret), this.clock.now())
    if (!won) throw linkError((await this.peekLink(token)).state)
    return { secret, expiresAt: won.expiresAt, tenant: { id: won.tenantId, name: won.tenantName }, scopes: won.scopes }
  }

  /** What a link is now; consumes nothing. */
  async peekLink(token: string): Promise<PortalPeek> {
    if (!LINK_TOKEN.test(token)) return { state: 'unknown' }
    const link = await this.store.portal.findLinkAcrossTenants(sha256(token))
    if (!link) return { state: 'unknown' }
    const state = link.exchangedAt ? 'used' : this.live(link) ? 'valid' : 'expired'
    return { state, tenantId: link.tenantId, allowedOrigins: link.allowedOrigins }
  }

  /** What a session is now (a reload of the portal with the secret it kept): `valid`, `expired` or `unknown`. */
  async sessionTenant(secret: string): Promise<PortalPeek> {
    const session = SESSION_SECRET.test(secret) ? await this.store.portal.findSessionAcrossTenants(sha256(secret)) : undefined
    if (!session) return { state: 'unknown' }
    return { state: this.live(session) ? 'valid' : 'expired', tenantId: session.tenantId, allowedOrigins: session.allowedOrigins }
  }

  /** A bearer `pps_…` secret as a principal, or undefined when it opens no live session. */
  async authenticate(secret: string): Promise<Principal | undefined> {
    const now = this.clock.now().getTime()
    let hit = this.verified.get(secret)
    if (hit && hit.expiresAt <= now) {
      this.verified.delete(secret)
      return undefined
    }
    if (!hit) {
      const session = SESSION_SECRET.test(secret) ? await this.store.portal.findSessionAcrossTenants(sha256(secret)) : undefined
      if (!session || !session.clientActive || session.expiresAt.getTime() <= now) return undefined
      hit = {
        principal: Object.freeze({ clientId: session.clientId, tenantId: session.tenantId, scopes: new Set(session.scopes), portalSessionId: session.id }),
        expiresAt: session.expiresAt.getTime(),
      }
      if (this.verified.size >= SESSION_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!)
      this.verified.set(secret, hit)
    }
    const { clientId, tenantId } = hit.principal
    if (clientId && !(await this.tokens.clientActive(clientId, tenantId!))) return undefined
    return hit.principal
  }

  private live(s: PortalSessionRecord): boolean {
    return s.clientActive && s.expiresAt.getTime() > this.clock.now().getTime()
  }
}

function linkError(state: PortalPeek['state']): AppError {
  if (state === 'used') return new AppError('portal_link_used')
  if (state === 'expired') return new AppError('portal_link_expired')
  return new AppError('portal_link_not_found')
}
