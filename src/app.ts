/**
 * The HTTP application: buildApp(deps) builds the services (src/composition.ts) and the
 * Fastify app on them, without listening, so tests can start it on any port;
 * buildHttpApp(services) builds the app alone. External plugins first, then ours (errors,
 * auth), then the routes, each given only the services it names.
 */
import Fastify, { type FastifyBaseLogger } from 'fastify'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { documentAppAnswers } from './http/openapi.js'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { buildServices, type ServiceDeps, type Services } from './composition.js'
import { newId } from './domain/shared/ids.js'
import { ALL_SCOPES } from './domain/oauth/scopes.js'
import { AppError, ERROR_CATALOGUE, type ErrorCode } from './domain/shared/errors.js'
import { HTTP_STATUS } from './http/status.js'
import type { Socket } from 'node:net'
import type { App } from './http/types.js'
import { parseJsonBody } from './http/json.js'
import { validatorCompiler } from './http/plugins/validation.js'
import { registerErrorEnvelope, sendError } from './http/plugins/envelope.js'
import { registerAuth } from './http/plugins/auth.js'
import { oauthRoutes } from './http/routes/oauth.js'
import { userRoutes } from './http/routes/users.js'
import { cardProcessingRoutes } from './http/routes/card-processing.js'
import { paymentLinkRoutes } from './http/routes/payment-links.js'
import { paymentIntentRoutes } from './http/routes/payment-intents.js'
import { cardRoutes } from './http/routes/cards.js'
import { webhookRoutes } from './http/routes/webhooks.js'
import { processorWebhookRoutes } from './http/routes/processor-webhooks.js'
import { refundRoutes } from './http/routes/refunds.js'
import { adminRoutes } from './http/routes/admin.js'
import { opsRoutes } from './http/routes/ops.js'
import { portalRoutes } from './http/routes/portal.js'
import { paymentInsightRoutes } from './http/routes/payment-insights.js'
import { isPayUrl, pageRoutes } from './page/routes.js'
import { portalPageRoutes } from './portal/routes.js'
import { payHeaders } from './page/headers.js'

export type { App } from './http/types.js'
export type { Services } from './composition.js'

export interface Deps extends Omit<ServiceDeps, 'onBackgroundError' | 'log'> {
  /** A pino logger; none in tests unless they capture logs. */
  logger?: FastifyBaseLogger
}

export async function buildApp(deps: Deps): Promise<{ app: App; services: Services }> {
  const services = await buildServices({
    ...deps,
    onBackgroundError: (err) => deps.logger?.error({ err }, 'background job failed'),
    log: (msg, extra) => deps.logger?.info(extra ?? {}, msg),
  })
  return { app: await buildHttpApp(services, { ...(deps.logger ? { logger: deps.logger } : {}) }), services }
}

export async function buildHttpApp(services: Services, opts: { logger?: FastifyBaseLogger } = {}): Promise<App> {
  const { config } = services

  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    genReqId: () => newId('request'),
    requestIdHeader: false,
    bodyLimit: 64 * 1024,
    // A hop count trusts that many proxies nearest to us; addresses and CIDRs only those.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
    // What Node refuses before any route runs (a malformed request, headers over the limit) is the envelope too.
    clientErrorHandler: answerClientError,
    // A URL the router cannot read (bad percent-encoding, an over-long segment) is answered in the envelope too.
    // (Hooks do not run here: a URL under /pay gets the page's headers from this handler.)
    frameworkErrors: (_err, request, reply) =>
      sendError(request, reply.header('x-request-id', request.id).headers(isPayUrl(request.url) ? payHeaders([]) : {}), 'validation_error', 'The URL is not valid.', [
        { field: 'url', issue: 'must be valid percent-encoded UTF-8 with path segments of at most 200 characters' },
      ]),
  }).withTypeProvider<TypeBoxTypeProvider>() as App

  app.setValidatorCompiler(validatorCompiler)
  app.removeContentTypeParser(['application/json'])
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string))
    } catch (err) {
      done(err as Error, undefined)
    }
  })
  await app.register(formbody)
  // The JSON API and the page's own calls read JSON only: the form parser (for /oauth/token,
  // a processor's 3-D Secure return and the page's redirect form) and the text parser must not reach them.
  // The hooks below run on every request and do no I/O: they are written in callback form,
  // which spares Fastify a promise per hook.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const url = request.routeOptions.url
    if (url?.startsWith('/v1/') || url?.startsWith('/portal/api/') || url === '/pay/:token/confirm' || url === '/pay/:token/challenge') {
      const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0
      if (hasBody && !/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) return done(new AppError('unsupported_media_type'))
    }
    done(null, payload)
  })
  // Set first, so that every answer has it, errors included (Fastify keeps headers set before an error).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    services.metrics.httpDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    )
    done()
  })
  app.addHook('onClose', async () => {
    await services.close()
  })
  registerErrorEnvelope(app)
  registerAuth(app, services.tokens, services.portal, services.limiter)

  // Every operation states its security for the OpenAPI document: its scope, or none.
  app.addHook('onRoute', (route) => {
    if (!route.schema || route.schema.hide) return
    const scope = route.config?.scope
    route.schema = { ...route.schema, security: scope ? [{ oauth2: [scope] }] : [] }
  })
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'paylink API',
        version: '1.0.0',
        description:
          'Hosted card-payment links. Mint a one-time link with `POST /v1/platform/card/payment-link`, show it in an iframe, learn the outcome from a signed webhook. Every JSON answer is an envelope: `{success, data, error, request_id}`.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: config.publicBaseUrl }],
      tags: [
        { name: 'oauth', description: 'OAuth 2.0 client credentials and signing keys.' },
        { name: 'users', description: 'Your end users.' },
        { name: 'card-processing', description: "A user's card-processing (merchant) accounts." },
        { name: 'payments', description: 'Payment links and payment intents.' },
        { name: 'cards', description: "A user's saved cards." },
        { name: 'webhooks', description: 'Webhook endpoints, the event log and deliveries.' },
        { name: 'page', description: 'Calls made by the hosted payment page itself.' },
        { name: 'portal', description: 'The tenant portal: a one-time link for your staff, and the call its page makes to open it.' },
        { name: 'admin', description: 'Operator routes (scope `admin`).' },
        { name: 'processors', description: 'Webhooks from card processors (Stripe, Adyen), verified per account.' },
        { name: 'operations', description: 'Health, readiness, metrics.' },
      ],
      components: {
        securitySchemes: {
          oauth2: {
            type: 'oauth2',
            description: 'RFC 9068 JWT access tokens from the client credentials grant.',
            flows: { clientCredentials: { tokenUrl: `${config.publicBaseUrl}/oauth/token`, scopes: Object.fromEntries(ALL_SCOPES.map((s) => [s, s])) } },
          },
          clientBasic: { type: 'http', scheme: 'basic', description: 'The token endpoint’s `client_secret_basic`: the client id and secret, form-urlencoded, as HTTP Basic credentials.' },
        },
      },
    },
    // The headers, auth answers and path examples every operation shares (src/http/openapi.ts).
    transformObject: (doc) => documentAppAnswers('openapiObject' in doc ? doc.openapiObject : doc.swaggerObject),
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })

  for (const routes of [oauthRoutes, userRoutes, cardProcessingRoutes, paymentLinkRoutes, paymentIntentRoutes, paymentInsightRoutes, refundRoutes, cardRoutes, webhookRoutes, adminRoutes, opsRoutes, processorWebhookRoutes, portalRoutes]) {
    routes(app, services)
  }
  await pageRoutes(app, services)
  await portalPageRoutes(app, services)
  return app
}

/** Fastify's trust function for `n` proxies in front: the `n` nearest hops are believed. */
const trustHops = (n: number) => (_address: string, hop: number) => hop < n

/**
 * Node's HTTP parser refused the request (malformed, or headers over the limit): no route,
 * no request object. The answer is still the envelope with a stable code and a request id,
 * with the strictest of the page's headers (the URL is not known, and it may be a /pay one).
 */
function answerClientError(err: Error & { code?: string }, socket: Socket) {
  if (!socket.writable) return void socket.destroy()
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW'
  const code: ErrorCode = tooLarge ? 'header_too_large' : 'bad_request'
  const status = HTTP_STATUS[code]
  const body = JSON.stringify({ success: false, data: null, error: { code, message: ERROR_CATALOGUE[code].message }, request_id: newId('request') })
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close', ...payHeaders([]) }
  socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`)
}
