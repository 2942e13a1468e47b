/**
 * Bearer-token authentication. A route declares the scope it needs in its config
 * (`config: { scope: 'users:write' }`); the hook runs before the body is read, so an
 * unauthenticated request learns nothing about its body. No or bad token: 401 with
 * `WWW-Authenticate`; a token without the scope: 403.
 *
 * The bearer is an access token (a JWT) or a tenant portal session's secret (`pps_…`,
 * src/domain/portal/service.ts): both give the same `Principal`, so a portal session goes
 * through the same routes and scope checks as the API.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AppError } from '../../domain/shared/errors.js'
import type { TenantId } from '../../domain/shared/ids.js'
import type { Principal, TokenService } from '../../domain/oauth/tokens.js'
import type { Scope } from '../../domain/oauth/scopes.js'
import { RULES, type RateLimiter } from './rate-limit.js'
import { isPortalSecret, type PortalService } from '../../domain/portal/service.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a caller's token must carry. */
    scope?: Scope
    /** Errors of this route are answered in RFC 6749 §5.2 form (the token endpoint), except 429. */
    oauthErrors?: boolean
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

const challenge = (extra = '') => ({ 'www-authenticate': `Bearer realm="paylink", error="invalid_token"${extra}` })

export function registerAuth(app: FastifyInstance, tokens: TokenService, portal: PortalService, limiter: RateLimiter) {
  app.decorateRequest('principal', null)
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope
    if (!scope) return
    const header = request.headers.authorization
    const match = header ? /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header) : null
    if (!match) throw new AppError('unauthorized', 'Send an access token: Authorization: Bearer <token>.', undefined, challenge())
    const bearer = match[1]!
    // A JWT is checked by its signature alone; a portal secret by a database lookup, so guessing those is rate-limited per address.
    const secret = isPortalSecret(bearer)
    if (secret) await limiter.check(RULES.unknownSecretPerIp, request.ip, { peek: true })
    const principal = secret ? await portal.authenticate(bearer) : await tokens.verify(bearer)
    if (!principal) {
      if (secret) await limiter.check(RULES.unknownSecretPerIp, request.ip).catch(() => {})
      throw new AppError('unauthorized', 'The access token is invalid or expired.', undefined, challenge())
    }
    if (!principal.scopes.has(scope)) {
      throw new AppError('forbidden', `The access token lacks the scope "${scope}".`, undefined, {
        'www-authenticate': `Bearer realm="paylink", error="insufficient_scope", scope="${scope}"`,
      })
    }
    request.principal = principal
  })
}

/** The calling tenant; only on routes with a tenant scope. */
export function tenantOf(request: FastifyRequest): TenantId {
  const tenantId = request.principal?.tenantId
  // (Its 403 gets the insufficient_scope challenge from the envelope, as every 403 of a bearer route.)
  if (!tenantId) throw new AppError('forbidden', 'This route is for tenant clients.')
  return tenantId
}
