/**
 * buildApp(deps): the whole HTTP application, without listening, so tests can start it
 * on any port. External plugins first, then ours (errors, auth), then the routes.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config.js'
import type { Db } from './storage/db.js'
import { createStore, repositoriesOn } from './storage/store.js'
import type { Clock } from './domain/shared/clock.js'
import { Sealer } from './domain/shared/crypto.js'
import { newId } from './domain/shared/ids.js'
import { SigningKeys } from './domain/oauth/keys.js'
import { TokenService } from './domain/oauth/tokens.js'
import { ALL_SCOPES } from './domain/oauth/scopes.js'
import { TenantService } from './domain/tenants/service.js'
import { CardProcessingService } from './domain/tenants/card-processing.js'
import { UserService } from './domain/users/service.js'
import { PaymentService } from './domain/payments/service.js'
import { CheckoutService, type OnFinal } from './domain/payments/checkout.js'
import { SavedCardService } from './domain/cards/saved-cards.js'
import { ProcessorSet } from './processors/registry.js'
import { isPayUrl, pageRoutes } from './page/routes.js'
import { payHeaders } from './page/headers.js'
import { cardRoutes } from './http/routes/cards.js'
import { webhookRoutes } from './http/routes/webhooks.js'
import { WebhookService } from './domain/webhooks/service.js'
import { Lifecycle } from './domain/payments/lifecycle.js'
import { DeliveryWorker } from './outbox/worker.js'
import { BackgroundRunner } from './outbox/runner.js'
import { OUTBOX_CHANNEL, OutboxNotifier } from './outbox/notify.js'
import { writeOutcomeEvent } from './outbox/writer.js'
import { Metrics } from './observability/metrics.js'
import { MemoryRateStore, RateLimiter, RedisRateStore } from './http/plugins/rate-limit.js'
import { Redis } from 'ioredis'
import './processors/builtins.js'
import { parseJsonBody } from './http/json.js'
import { validatorCompiler } from './http/plugins/validation.js'
import { registerErrorEnvelope, sendError } from './http/plugins/envelope.js'
import { AppError } from './domain/shared/errors.js'
import { registerAuth } from './http/plugins/auth.js'
import { oauthRoutes } from './http/routes/oauth.js'
import { userRoutes } from './http/routes/users.js'
import { cardProcessingRoutes } from './http/routes/card-processing.js'
import { paymentLinkRoutes } from './http/routes/payment-links.js'
import { paymentIntentRoutes } from './http/routes/payment-intents.js'
import { adminRoutes } from './http/routes/admin.js'
import { opsRoutes } from './http/routes/ops.js'

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

export interface Deps {
  config: Config
  db: Db
  clock: Clock
  /** The 32-byte DATA_ENCRYPTION_KEY. */
  encryptionKey: Buffer
  /** A pino logger; none in tests unless they capture logs. */
  logger?: FastifyBaseLogger
  /** Also export Node's process metrics (the real server; not tests). */
  defaultMetrics?: boolean
}

/** Everything the routes call; built once per app. */
export interface Services {
  config: Config
  db: Db
  clock: Clock
  sealer: Sealer
  keys: SigningKeys
  tokens: TokenService
  tenants: TenantService
  cardProcessing: CardProcessingService
  users: UserService
  payments: PaymentService
  savedCards: SavedCardService
  processors: ProcessorSet
  checkout: CheckoutService
  webhooks: WebhookService
  lifecycle: Lifecycle
  deliveryWorker: DeliveryWorker
  /** Webhook delivery, link expiry and payment recovery; started by `startWorker` (main, for ROLE all/worker). */
  background: BackgroundRunner
  /** Starts `background`, and on PostgreSQL listens for other processes' new deliveries; stopped by `close`. */
  startWorker(): Promise<void>
  metrics: Metrics
  limiter: RateLimiter
  /** Closes what the services hold open (Redis, the listening connection). The database is the caller's. */
  close(): Promise<void>
}

export async function buildServices(
  deps: Omit<Deps, 'logger'> & { onBackgroundError?: (err: unknown) => void; log?: (msg: string, extra?: Record<string, unknown>) => void },
): Promise<Services> {
  const { config, db, clock } = deps
  const sealer = new Sealer(deps.encryptionKey)
  const keys = new SigningKeys(db, sealer, clock)
  await keys.init()
  const tokens = new TokenService(db, keys, clock, { issuer: config.publicBaseUrl, audience: `${config.publicBaseUrl}/v1`, ttlSeconds: config.accessTokenTtlSeconds })
  const savedCards = new SavedCardService(createStore(db), clock, sealer, deps.encryptionKey)
  const processors = new ProcessorSet({ db, clock })
  const metrics = new Metrics({ defaultMetrics: deps.defaultMetrics ?? false })
  const limiter = new RateLimiter(
    config.redisUrl ? new RedisRateStore(new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true })) : new MemoryRateStore(() => clock.now().getTime()),
    config.rateLimitMultiplier,
    (rule) => metrics.rateLimited.inc({ rule }),
  )
  let background: BackgroundRunner | undefined
  // New deliveries: this process's runner, and (PostgreSQL) every other process's, through NOTIFY.
  const notifier = db.listen ? new OutboxNotifier(createStore(db), (err) => deps.onBackgroundError?.(err)) : undefined
  const wake = () => {
    background?.wake()
    notifier?.poke()
  }
  // A final outcome writes its webhook event in the same transaction (the outbox).
  const onFinal: OnFinal = async (tx, intent) => {
    await writeOutcomeEvent(repositoriesOn(tx), intent, clock.now())
    setImmediate(wake)
  }
  const checkout = new CheckoutService({ db, clock, sealer, processors, savedCards, onFinal })
  const payments = new PaymentService(db, clock, sealer, { publicBaseUrl: config.publicBaseUrl, linkTtlSeconds: config.linkTtlSeconds }, (i) => checkout.expireIfDue(i))
  const lifecycle = new Lifecycle(db, clock, checkout, processors, config.processingRecoverySeconds * 1000)
  const deliveryWorker = new DeliveryWorker({
    store: createStore(db),
    clock,
    sealer,
    allowPrivate: config.allowPrivateWebhookUrls,
    ...(deps.log ? { log: deps.log } : {}),
    onAttempt: (result, lagMs) => {
      metrics.webhookAttempts.inc({ result })
      if (lagMs !== undefined) metrics.deliveryLag.observe(lagMs / 1000)
    },
  })
  background = new BackgroundRunner(deliveryWorker, lifecycle, (err) => deps.onBackgroundError?.(err), config.workerPollSeconds * 1000)
  const runner = background
  let unlisten: (() => Promise<void>) | undefined
  const startWorker = async () => {
    runner.start()
    try {
      unlisten = await db.listen?.(OUTBOX_CHANNEL, () => runner.wake())
    } catch (err) {
      // Polling still finds every delivery; only the instant wake-up is missing.
      deps.onBackgroundError?.(err)
    }
  }
  return {
    config,
    db,
    clock,
    sealer,
    keys,
    tokens,
    savedCards,
    processors,
    checkout,
    webhooks: new WebhookService(createStore(db), clock, sealer, config.allowPrivateWebhookUrls, wake),
    lifecycle,
    deliveryWorker,
    background: runner,
    metrics,
    limiter,
    startWorker,
    close: async () => {
      notifier?.stop()
      await unlisten?.()
      await limiter.close()
    },
    tenants: new TenantService(db, clock, tokens, sealer),
    cardProcessing: new CardProcessingService(db, clock),
    users: new UserService(db, clock),
    payments,
  }
}

export async function buildApp(deps: Deps): Promise<{ app: App; services: Services }> {
  const services = await buildServices({
    ...deps,
    onBackgroundError: (err) => deps.logger?.error({ err }, 'background job failed'),
    log: (msg, extra) => deps.logger?.info(extra ?? {}, msg),
  })
  const { config } = deps
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    genReqId: () => newId('request'),
    requestIdHeader: false,
    bodyLimit: 64 * 1024,
    trustProxy: false,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
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
  // The JSON API reads JSON only: the form parser (for /oauth/token) and the text parser must not reach it.
  // The hooks below run on every request and do no I/O: they are written in callback form,
  // which spares Fastify a promise per hook.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.routeOptions.url?.startsWith('/v1/')) {
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
  registerAuth(app, services.tokens)

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
        { name: 'admin', description: 'Operator routes (scope `admin`).' },
        { name: 'operations', description: 'Health, readiness, metrics.' },
      ],
      components: {
        securitySchemes: {
          oauth2: {
            type: 'oauth2',
            description: 'RFC 9068 JWT access tokens from the client credentials grant.',
            flows: { clientCredentials: { tokenUrl: `${config.publicBaseUrl}/oauth/token`, scopes: Object.fromEntries(ALL_SCOPES.map((s) => [s, s])) } },
          },
        },
      },
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })

  for (const routes of [oauthRoutes, userRoutes, cardProcessingRoutes, paymentLinkRoutes, paymentIntentRoutes, cardRoutes, webhookRoutes, adminRoutes, opsRoutes]) {
    routes(app, services)
  }
  await pageRoutes(app, services)
  return { app, services }
}
