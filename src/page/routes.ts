/**
 * /pay: the hosted payment page, its two calls and its assets.
 *
 * GET /pay/{token} follows the used-once rule: a framed load (Sec-Fetch-Dest: iframe, or
 * no Fetch Metadata at all, for browsers without it) claims the link; a top-level
 * navigation gets an explanation unless the tenant allows top-level use; a prefetch gets
 * 204 and claims nothing; a fetch() from script claims nothing. Every /pay response has
 * the SPEC's headers, with frame-ancestors from the tenant's allowed origins.
 */
import { Type } from 'typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App, Uses } from '../http/types.js'
import { AppError } from '../domain/shared/errors.js'
import { formatMajor } from '../domain/shared/money.js'
import type { Confirmation, LoadKind, OpenResult, ReturnResult } from '../domain/payments/model.js'
import type { Redirect } from '../processors/card-processor.js'
import { ok } from '../http/plugins/envelope.js'
import { Envelope, errorResponses, rateLimited } from '../http/schemas/common.js'
import { payHeaders } from './headers.js'
import { formatAmount, negotiate, STRINGS } from './i18n.js'
import { renderPage, type Screen } from './templates.js'
import { pageAssets, sendAsset, sendGzippedIfAccepted } from './assets.js'
import { RULES } from '../http/plugins/rate-limit.js'
import { sha256 } from '../domain/shared/crypto.js'
import { PaymentResult } from '../http/schemas/objects.js'
import { paymentResultJson } from '../http/presenters/index.js'

export const SESSION_HEADER = 'x-paylink-session'

/** Whether a request URL is under /pay (the page's headers go on every answer there). */
export const isPayUrl = (url: string) => /^\/pay(?:[/?#]|$)/.test(url)

function loadKind(request: FastifyRequest): LoadKind {
  // A HEAD request (a link checker, an unfurler) gets no page to hold a session: it must not claim the link.
  if (request.method === 'HEAD') return 'prefetch'
  const h = request.headers
  const purpose = `${h['sec-purpose'] ?? ''} ${h.purpose ?? ''} ${h['x-moz'] ?? ''}`.toLowerCase()
  if (purpose.includes('prefetch') || purpose.includes('prerender')) return 'prefetch'
  const dest = h['sec-fetch-dest']
  if (dest === undefined || dest === 'iframe' || dest === 'frame') return 'frame'
  if (dest === 'document') return 'document'
  return 'other'
}

const STATUS: Record<Screen, number> = { ready: 200, used: 410, expired: 410, not_found: 404, top_level: 200, returned: 200, redirect: 200 }

const TokenParams = Type.Object({
  token: Type.String({ maxLength: 200, description: 'The link token: the last segment of `pay_url`.', examples: ['q3XbL0mZ7sVw1cYk9RfT2uHn5JdA8pEo4GiKx6NlUyM'] }),
})
const SessionHeader = Type.Object({ [SESSION_HEADER]: Type.Optional(Type.String({ maxLength: 100, description: 'The page-session secret the page was rendered with.' })) })

export async function pageRoutes(app: App, { checkout, limiter, metrics }: Uses<'checkout' | 'limiter' | 'metrics'>) {
  const linkKey = (token: string) => sha256(token).toString('base64url').slice(0, 22)
  /** Counts a confirmation's outcome and time, and applies the confirmation limits first. */
  const confirming = async (ip: string, token: string, run: () => Promise<Confirmation>) => {
    await limiter.check(RULES.confirmPerIp, ip)
    await limiter.check(RULES.confirmPerLink, linkKey(token))
    const stop = metrics.confirmDuration.startTimer()
    try {
      const result = paymentResultJson(await run())
      stop({ outcome: result.status })
      metrics.confirmations.inc({ outcome: result.status })
      return result
    } catch (err) {
      stop({ outcome: 'rejected' })
      metrics.confirmations.inc({ outcome: 'rejected' })
      throw err
    }
  }

  const assets = await pageAssets()

  // Every /pay answer carries the page headers; the page route narrows frame-ancestors.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (isPayUrl(request.url)) for (const [k, v] of Object.entries(payHeaders([]))) if (!reply.hasHeader(k)) reply.header(k, v)
    done(null, payload)
  })

  app.get('/pay/assets/:file', { schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
    const a = assets.byPath.get(`/pay/assets/${request.params.file}`)
    if (!a) throw new AppError('not_found', 'No such asset.')
    reply.type(a.contentType).header('vary', 'accept-encoding')
    return sendAsset(request, reply, a)
  })

  // Browsers ask every origin for one; answering keeps the page's console free of a 404.
  app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send())

  app.get(
    '/embed.js',
    { schema: { operationId: 'getEmbedScript', summary: 'The embed helper for tenant pages: Paylink.mount(element, payUrl, {onEvent})', tags: ['page'] } },
    async (request, reply) => {
      const a = assets.embed
      reply.type(a.contentType).headers({ 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff', 'cross-origin-resource-policy': 'cross-origin', vary: 'accept-encoding' })
      return sendAsset(request, reply, a)
    },
  )

  const render = (reply: FastifyReply, request: FastifyRequest, result: OpenResult | ReturnResult, redirect?: Redirect) => {
    const { lang, locale } = negotiate(request.headers['accept-language'])
    const t = STRINGS[lang]
    const link = result.state === 'not_found' ? undefined : result.link
    const screen: Screen = redirect ? 'redirect' : result.state === 'preview' ? 'top_level' : result.state
    // The redirect page posts to the processor's origin, and only there; every other page posts nowhere but here.
    reply.headers({ ...payHeaders(link?.allowedOrigins ?? [], redirect ? new URL(redirect.url).origin : undefined), vary: 'sec-fetch-dest, sec-purpose, accept-language, accept-encoding' })
    const html = renderPage({
      screen,
      lang,
      t,
      scriptPath: assets.script.path,
      stylePath: assets.style.path,
      ...(link
        ? {
            tenantName: link.tenantName,
            amountText: formatAmount(formatMajor(link.intent.amountMinor, link.intent.currency), link.intent.currency, locale),
            paymentIntentId: link.intent.id,
            allowedOrigins: link.allowedOrigins,
          }
        : {}),
      ...(result.state === 'ready' ? { sessionSecret: result.sessionSecret, savedCards: result.savedCards } : {}),
      ...(result.state === 'returned' ? { result: paymentResultJson(result.confirmation) } : {}),
      ...(redirect ? { redirect: { url: redirect.url, fields: redirect.fields ?? {} } } : {}),
    })
    reply.code(STATUS[screen]).type('text/html; charset=utf-8')
    // Compressed like the assets.
    return sendGzippedIfAccepted(request, reply, html)
  }

  app.get('/pay/:token', { schema: { hide: true, params: TokenParams } }, async (request, reply) => {
    const kind = loadKind(request)
    await limiter.check(RULES.pagePerIp, request.ip)
    await limiter.check(RULES.unknownTokenPerIp, request.ip, { peek: true })
    const result = await checkout.open(request.params.token, kind)
    // Unknown tokens count towards the guessing limit (the hit itself never refuses this answer).
    if (result.state === 'not_found') await limiter.check(RULES.unknownTokenPerIp, request.ip).catch(() => {})
    if (result.state === 'preview') {
      reply.headers(payHeaders(result.link.allowedOrigins))
      return reply.code(204).send()
    }
    return render(reply, request, result)
  })

  /**
   * Back from the processor's 3-D Secure (SPEC "Card processors"): the processor sends the
   * shopper here by GET, or by POST with a form (Adyen's 3-D Secure 1). What came back is
   * handed to the adapter as sent; the `state` value proves the return.
   */
  const returnRoute = async (request: FastifyRequest<{ Params: { token: string }; Querystring: Record<string, string>; Body: unknown }>, reply: FastifyReply) => {
    await limiter.check(RULES.pagePerIp, request.ip)
    const { state, ...query } = request.query
    const form = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {}
    const returned: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...query, ...form })) if (typeof v === 'string') returned[k] = v
    const result = await checkout.returnFrom(request.params.token, state, returned)
    if (result.state === 'returned') metrics.confirmations.inc({ outcome: paymentResultJson(result.confirmation).status })
    return render(reply, request, result)
  }
  const ReturnQuery = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 8000 }))
  app.get('/pay/:token/return', { schema: { hide: true, params: TokenParams, querystring: ReturnQuery } }, returnRoute)
  app.post('/pay/:token/return', { schema: { hide: true, params: TokenParams, querystring: ReturnQuery } }, returnRoute)

  /** The page's form post for a processor's 3-D Secure that wants a POST: answered with that form, which the page's script submits. */
  app.post(
    '/pay/:token/redirect',
    { schema: { hide: true, params: TokenParams, body: Type.Object({ session: Type.String({ maxLength: 100 }) }, { additionalProperties: false }) } },
    async (request, reply) => {
      const { link, redirect } = await checkout.redirectFor(request.params.token, request.body.session)
      // The link is in use (this session's); the redirect decides the screen.
      return render(reply, request, { state: 'used', link }, redirect)
    },
  )

  app.post(
    '/pay/:token/confirm',
    {
      schema: {
        operationId: 'confirmPayment',
        summary: 'Pay (called by the hosted page)',
        description: `Called by the payment page's own script with the page-session secret in \`${SESSION_HEADER}\`. Either a new card (with \`save_card\`) or a \`saved_card_id\`. The body carries no amount: the amount is the one on the payment intent.`,
        tags: ['page'],
        params: TokenParams,
        headers: SessionHeader,
        body: Type.Object(
          {
            card: Type.Optional(
              Type.Object(
                {
                  number: Type.String({ maxLength: 30 }),
                  exp_month: Type.Integer(),
                  exp_year: Type.Integer(),
                  cvc: Type.String({ maxLength: 4 }),
                  name: Type.Optional(Type.String({ maxLength: 100 })),
                },
                { additionalProperties: false },
              ),
            ),
            save_card: Type.Optional(Type.Boolean()),
            saved_card_id: Type.Optional(Type.String({ maxLength: 80 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Envelope(PaymentResult), ...rateLimited, ...errorResponses },
      },
    },
    async (request) => {
      const { card, save_card, saved_card_id } = request.body
      if ((card === undefined) === (saved_card_id === undefined)) {
        throw new AppError('validation_error', 'Send either a card or a saved_card_id.', [{ field: card ? 'saved_card_id' : 'card', issue: card ? 'must not be sent with card' : 'is required (or saved_card_id)' }])
      }
      if (saved_card_id !== undefined && save_card !== undefined) throw new AppError('validation_error', 'save_card goes with a new card.', [{ field: 'save_card', issue: 'is only for a new card' }])
      const session = request.headers[SESSION_HEADER] as string | undefined
      // What 3-D Secure asks about the shopper's browser; nothing of it is stored.
      const browser = {
        ...(request.headers['user-agent'] ? { userAgent: request.headers['user-agent'] } : {}),
        ...(request.headers.accept ? { acceptHeader: request.headers.accept } : {}),
        ...(request.headers['accept-language'] ? { language: request.headers['accept-language'].split(',')[0]!.trim() } : {}),
      }
      const input = card ? { card, save_card: save_card ?? false } : { saved_card_id: saved_card_id! }
      const result = await confirming(request.ip, request.params.token, () => checkout.confirm(request.params.token, session, input, browser))
      return ok(request, result)
    },
  )

  app.post(
    '/pay/:token/challenge',
    {
      schema: {
        operationId: 'answerChallenge',
        summary: 'Answer a 3-D Secure challenge (called by the hosted page)',
        tags: ['page'],
        params: TokenParams,
        headers: SessionHeader,
        body: Type.Object({ answer: Type.Union([Type.Literal('approve'), Type.Literal('decline')]) }, { additionalProperties: false }),
        response: { 200: Envelope(PaymentResult), ...rateLimited, ...errorResponses },
      },
    },
    async (request) =>
      ok(request, await confirming(request.ip, request.params.token, () => checkout.answerChallenge(request.params.token, request.headers[SESSION_HEADER] as string | undefined, request.body.answer))),
  )
}
