/**
 * Access to the tenant portal (SPEC "Tenant portal"; src/domain/portal/service.ts):
 * - POST /v1/platform/portal-sessions: the tenant's server asks for a one-time link
 *   (scope `payments:read`; the session gets the calling token's tenant scopes). A portal
 *   session cannot ask (403): it would mint itself a longer life.
 * - POST /portal/api/sessions: the portal's page exchanges the link's token, once, for a
 *   session secret it then sends as `Authorization: Bearer pps_…` to the same /v1/platform
 *   routes the API has. No authentication (the token is the credential); limited like the
 *   payment page's loads, and an unknown token counts against the caller's address.
 * Both answers hold a credential: `Cache-Control: no-store`, errors included.
 */
import type { FastifyReply } from 'fastify'
import type { App, Uses } from '../types.js'
import { AppError } from '../../domain/shared/errors.js'
import { ok } from '../plugins/envelope.js'
import { RULES } from '../plugins/rate-limit.js'
import { Envelope, errorResponses } from '../schemas/common.js'
import { PortalExchangeBody, PortalLink, PortalSession, PortalSessionsBody } from '../schemas/portal.js'
import { portalLinkJson, portalSessionJson } from '../presenters/index.js'
import { answers, operation } from './operation.js'

const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store')

export function portalRoutes(app: App, { portal, limiter }: Uses<'portal' | 'limiter'>) {
  app.post(
    '/v1/platform/portal-sessions',
    operation(
      'payments:read',
      [
        'createPortalSession',
        'Get a one-time link to the tenant portal',
        'portal',
        'A link to paylink’s tenant portal for your staff: payments, refunds and webhook deliveries. It opens once (a second opening grants nothing) and the portal session it opens ends at `expires_at`. The session may do what the calling token’s scopes allow (refunds need `payments:write`, webhook changes `webhooks:write`). Not callable with a portal session.',
      ],
      { body: PortalSessionsBody },
      answers(PortalLink, 201),
    ),
    async (request, reply) => {
      noStore(reply)
      if (!request.principal) throw new AppError('unauthorized')
      const link = await portal.createLink(request.principal, request.body?.expires_in)
      return reply.code(201).send(ok(request, portalLinkJson(link)))
    },
  )

  app.post(
    '/portal/api/sessions',
    {
      schema: {
        operationId: 'exchangePortalLink',
        summary: 'Exchange a portal link’s token for a portal session (once)',
        description:
          'Called by the portal’s own page. The first exchange of a link wins a session; the link then answers 410 `portal_link_used`. An expired link is 410 `portal_link_expired`, an unknown one 404 `portal_link_not_found`.',
        tags: ['portal'],
        body: PortalExchangeBody,
        response: { 201: Envelope(PortalSession), ...errorResponses },
      },
    },
    async (request, reply) => {
      noStore(reply)
      await limiter.check(RULES.pagePerIp, request.ip)
      await limiter.check(RULES.unknownTokenPerIp, request.ip, { peek: true })
      try {
        const session = await portal.exchange(request.body.token)
        return reply.code(201).send(ok(request, portalSessionJson(session)))
      } catch (err) {
        if (err instanceof AppError && err.code === 'portal_link_not_found') await limiter.check(RULES.unknownTokenPerIp, request.ip).catch(() => {})
        throw err
      }
    },
  )
}
