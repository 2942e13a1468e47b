/**
 * /portal: the tenant portal's HTML and assets (SPEC "Tenant portal"). Its data comes from
 * the API itself: the script exchanges the link's token (POST /portal/api/sessions) and
 * then calls /v1/platform/* with the session's secret as its bearer token.
 *
 * GET /portal/{token} only looks at the link (peekLink consumes nothing, so a prefetch or
 * an unfurler spends nothing): a valid link gets the shell, whose script makes the one
 * exchange; a used, expired or unknown one a page that says so (410 / 404) and grants nothing.
 * GET /portal/app is where the script moves the address to once the token is exchanged
 * (history.replaceState), so that the token leaves the address bar and the history; a
 * reload there serves the same shell, and the script finds its session in sessionStorage.
 *
 * Every answer carries the page's strict headers (src/page/headers.ts) with
 * `frame-ancestors 'self'` plus the tenant's allowed origins, so a tenant can embed the
 * portal in its own admin. /portal/app names its tenant in the query (`?tenant=ten_…`) for
 * that header only: the origins it reveals are the ones every /pay page of the tenant
 * shows already, and the shell holds no data; an unknown tenant gets `'self'` alone.
 */
import { Type } from 'typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App, Uses } from '../http/types.js'
import { AppError } from '../domain/shared/errors.js'
import { RULES } from '../http/plugins/rate-limit.js'
import { payHeaders } from '../page/headers.js'
import { negotiate } from '../page/i18n.js'
import { portalStrings } from './i18n.js'
import { portalAssets } from './assets.js'
import { sendAsset, sendGzippedIfAccepted } from '../page/assets.js'
import { renderRefusal, renderShell, type Refusal } from './templates.js'

/** The page's headers, framed by the portal itself and the tenant's origins. */
export const portalHeaders = (allowedOrigins: readonly string[]) => ({
  ...payHeaders(["'self'", ...allowedOrigins]),
  vary: 'accept-language, accept-encoding',
})

const REFUSAL_STATUS: Record<Refusal, number> = { used: 410, expired: 410, not_found: 404 }

export async function portalPageRoutes(app: App, { portal, tenants, limiter }: Uses<'portal' | 'tenants' | 'limiter'>) {
  const assets = await portalAssets()

  const send = (request: FastifyRequest, reply: FastifyReply, status: number, origins: readonly string[], html: string) => {
    reply.code(status).headers(portalHeaders(origins)).type('text/html; charset=utf-8')
    return sendGzippedIfAccepted(request, reply, html)
  }
  const language = (request: FastifyRequest) => {
    const { lang, locale } = negotiate(request.headers['accept-language'])
    return { lang, locale, t: portalStrings(lang) }
  }
  const shell = (request: FastifyRequest, reply: FastifyReply, mode: 'exchange' | 'app', origins: readonly string[]) =>
    send(request, reply, 200, origins, renderShell({ ...language(request), mode, scriptPath: assets.script.path, stylePath: assets.style.path }))

  app.get('/portal/assets/:file', { schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
    const a = assets.byPath.get(`/portal/assets/${request.params.file}`)
    if (!a) throw new AppError('not_found', 'No such asset.')
    reply.type(a.contentType).headers({ 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff', vary: 'accept-encoding' })
    return sendAsset(request, reply, a)
  })

  app.get(
    '/portal/app',
    { schema: { hide: true, querystring: Type.Object({ tenant: Type.Optional(Type.String({ maxLength: 80 })) }) } },
    async (request, reply) => {
      await limiter.check(RULES.pagePerIp, request.ip)
      const tenantId = request.query.tenant
      const origins = tenantId ? await tenants.getTenant(tenantId).then((t) => t.allowedOrigins, () => []) : []
      return shell(request, reply, 'app', origins)
    },
  )

  app.get('/portal/:token', { schema: { hide: true, params: Type.Object({ token: Type.String({ maxLength: 200 }) }) } }, async (request, reply) => {
    await limiter.check(RULES.pagePerIp, request.ip)
    await limiter.check(RULES.unknownTokenPerIp, request.ip, { peek: true })
    const link = await portal.peekLink(request.params.token)
    if (link.state === 'valid') return shell(request, reply, 'exchange', link.allowedOrigins ?? [])
    // Unknown tokens count towards the guessing limit shared with /pay (the hit itself never refuses this answer).
    if (link.state === 'unknown') await limiter.check(RULES.unknownTokenPerIp, request.ip).catch(() => {})
    const refusal: Refusal = link.state === 'unknown' ? 'not_found' : link.state
    const { lang, t } = language(request)
    return send(request, reply, REFUSAL_STATUS[refusal], link.allowedOrigins ?? [], renderRefusal({ lang, t, stylePath: assets.style.path }, refusal))
  })
}
