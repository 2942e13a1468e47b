/**
 * The composition root: the one place that builds paylink's services from configuration,
 * a database and a clock, and wires them together (store → domain services → background
 * worker). `serve` (src/main.ts), the CLI, the tests and the bench all start here; the HTTP
 * app (src/app.ts) only receives what this builds, and each route only the services it
 * names (see src/http/types.ts).
 */
import { Redis } from 'ioredis'
import type { Config } from './config.js'
import type { Db } from './storage/db.js'
import { createStore } from './storage/store.js'
import { pendingMigrations } from './storage/migrate.js'
import type { Clock } from './domain/shared/clock.js'
import { Sealer } from './domain/shared/crypto.js'
import { SigningKeys } from './domain/oauth/keys.js'
import { TokenService } from './domain/oauth/tokens.js'
import { TenantService } from './domain/tenants/service.js'
import { CardProcessingService } from './domain/tenants/card-processing.js'
import { UserService } from './domain/users/service.js'
import { PaymentService } from './domain/payments/service.js'
import { CheckoutService, type OnFinal } from './domain/payments/checkout.js'
import { Lifecycle } from './domain/payments/lifecycle.js'
import { ProcessorEvents } from './domain/payments/processor-events.js'
import { RefundService } from './domain/payments/refunds.js'
import { SavedCardService } from './domain/cards/saved-cards.js'
import { WebhookService } from './domain/webhooks/service.js'
import { PortalService } from './domain/portal/service.js'
import { PaymentInsights } from './domain/portal/insights.js'
import { ProcessorSet } from './processors/registry.js'
import './processors/builtins.js'
import { DeliveryWorker } from './outbox/worker.js'
import { BackgroundRunner } from './outbox/runner.js'
import { OUTBOX_CHANNEL, OutboxNotifier } from './outbox/notify.js'
import { writeOutcomeEvent, writeRefundEvent } from './outbox/writer.js'
import { Metrics } from './observability/metrics.js'
import { MemoryRateStore, RateLimiter, RedisRateStore } from './http/plugins/rate-limit.js'
import { IdempotentReplies } from './http/idempotency.js'
import { reencrypt, type ReencryptReport } from './maintenance/reencrypt.js'

export interface ServiceDeps {
  config: Config
  db: Db
  clock: Clock
  /** The 32-byte DATA_ENCRYPTION_KEY. */
  encryptionKey: Buffer
  /** Also export Node's process metrics (the real server; not tests). */
  defaultMetrics?: boolean
  /** A background job failed (logged by the caller). */
  onBackgroundError?: (err: unknown) => void
  /** An informational line from the background jobs (every webhook attempt). */
  log?: (msg: string, extra?: Record<string, unknown>) => void
}

/** Everything paylink does, built once per process. */
export interface Services {
  config: Config
  clock: Clock
  sealer: Sealer
  keys: SigningKeys
  tokens: TokenService
  tenants: TenantService
  cardProcessing: CardProcessingService
  users: UserService
  payments: PaymentService
  idempotency: IdempotentReplies
  savedCards: SavedCardService
  processors: ProcessorSet
  checkout: CheckoutService
  webhooks: WebhookService
  lifecycle: Lifecycle
  refunds: RefundService
  /** The tenant portal's links and sessions: making a link, its one exchange, `peekLink` / `sessionTenant` for its HTML route, and `pps_…` bearer secrets. */
  portal: PortalService
  /** The at-a-glance figures and a payment's timeline. */
  insights: PaymentInsights
  /** What processors tell by webhook, applied once. */
  processorEvents: ProcessorEvents
  deliveryWorker: DeliveryWorker
  /** Webhook delivery, link expiry and payment recovery; started by `startWorker` (main, for ROLE all/worker). */
  background: BackgroundRunner
  /** Starts `background`, and on PostgreSQL listens for other processes' new deliveries; stopped by `close`. */
  startWorker(): Promise<void>
  /** For /readyz: the migrations not yet applied, or undefined when the database does not answer. */
  pendingMigrations(): Promise<number[] | undefined>
  metrics: Metrics
  limiter: RateLimiter
  /** `paylink reencrypt`: every sealed value moved from DATA_ENCRYPTION_KEY_PREVIOUS to DATA_ENCRYPTION_KEY. */
  reencrypt(): Promise<ReencryptReport>
  /** Closes what the services hold open (Redis, the listening connection). The database is the caller's. */
  close(): Promise<void>
}

export async function buildServices(deps: ServiceDeps): Promise<Services> {
  const { config, db, clock } = deps
  const store = createStore(db)
  const sealer = new Sealer(deps.encryptionKey, config.dataEncryptionKeyPrevious)
  const keys = new SigningKeys(store, sealer, clock)
  await keys.init()
  const tokens = new TokenService(store, keys, clock, { issuer: config.publicBaseUrl, audience: `${config.publicBaseUrl}/v1`, ttlSeconds: config.accessTokenTtlSeconds })
  const processors = new ProcessorSet({ db, clock, timeoutMs: config.processorTimeoutMs }, sealer)
  const savedCards = new SavedCardService(store, clock, sealer, deps.encryptionKey, processors, (err) => deps.onBackgroundError?.(err))
  await savedCards.init()
  const metrics = new Metrics({ defaultMetrics: deps.defaultMetrics ?? false })
  const limiter = new RateLimiter(
    config.redisUrl ? new RedisRateStore(new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true })) : new MemoryRateStore(() => clock.now().getTime()),
    config.rateLimitMultiplier,
    (rule) => metrics.rateLimited.inc({ rule }),
  )
  let background: BackgroundRunner | undefined
  // New deliveries: this process's runner, and (PostgreSQL) every other process's, through a notification.
  const notifier = db.listen ? new OutboxNotifier(store, (err) => deps.onBackgroundError?.(err)) : undefined
  const wake = () => {
    background?.wake()
    notifier?.poke()
  }
  // A final outcome writes its webhook event in the same transaction (the outbox).
  const onFinal: OnFinal = async (tx, intent) => {
    await writeOutcomeEvent(tx, intent, clock.now())
    setImmediate(wake)
  }
  const checkout = new CheckoutService({ store, clock, processors, savedCards, onFinal, written: () => setImmediate(wake), publicBaseUrl: config.publicBaseUrl, sealer })
  const payments = new PaymentService(
    store,
    clock,
    {
      publicBaseUrl: config.publicBaseUrl,
      linkTtlSeconds: config.linkTtlSeconds,
      onMintStatement: (rows, failed) => metrics.mintStatementRows.observe({ result: failed ? 'retried_alone' : 'written' }, rows),
    },
    (i) => checkout.expireIfDue(i),
  )
  const refunds = new RefundService(store, clock, processors, async (tx, refund) => {
    await writeRefundEvent(tx, refund, clock.now())
    setImmediate(wake)
  })
  const lifecycle = new Lifecycle(store, clock, checkout, refunds, config.processingRecoverySeconds * 1000)
  const deliveryWorker = new DeliveryWorker({
    store,
    clock,
    sealer,
    allowPrivate: config.allowPrivateWebhookUrls,
    ...(deps.log ? { log: deps.log } : {}),
    onAttempt: (result, lagMs) => {
      metrics.webhookAttempts.inc({ result })
      if (lagMs !== undefined) metrics.deliveryLag.observe(lagMs / 1000)
    },
  })
  const portal = new PortalService(store, clock, tokens, { publicBaseUrl: config.publicBaseUrl })
  background = new BackgroundRunner(deliveryWorker, lifecycle, portal, (err) => deps.onBackgroundError?.(err), config.workerPollSeconds * 1000)
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
    clock,
    sealer,
    keys,
    tokens,
    savedCards,
    processors,
    checkout,
    webhooks: new WebhookService(store, clock, sealer, config.allowPrivateWebhookUrls, wake),
    lifecycle,
    refunds,
    processorEvents: new ProcessorEvents(store, clock, checkout, refunds),
    deliveryWorker,
    background: runner,
    metrics,
    limiter,
    startWorker,
    pendingMigrations: () => pendingMigrations(db).catch(() => undefined),
    reencrypt: () => reencrypt(store, sealer),
    close: async () => {
      notifier?.stop()
      await unlisten?.()
      await limiter.close()
    },
    tenants: new TenantService(store, clock, tokens, sealer),
    cardProcessing: new CardProcessingService(store, clock),
    users: new UserService(store, clock),
    payments,
    idempotency: new IdempotentReplies(store, sealer, clock),
    portal,
    insights: new PaymentInsights(store, clock, payments),
  }
}
