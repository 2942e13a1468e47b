/**
 * Start-up: configuration → database (PGlite or PostgreSQL) → migrations → services (the
 * composition root) → HTTP and/or worker by ROLE (a worker builds no HTTP app); graceful shutdown on SIGINT/SIGTERM. Any problem before listening stops
 * the process with one clear line.
 */
import type { Logger } from 'pino'
import { loadConfig, resolveEncryptionKey, type Config } from './config.js'
import { createLogger } from './logger.js'
import { postgresDb, type Db } from './storage/db.js'
import { openEmbeddedDb } from './storage/embedded.js'
import { migrate } from './storage/migrate.js'
import { buildHttpApp } from './app.js'
import { buildServices } from './composition.js'
import { systemClock } from './domain/shared/clock.js'
import { demoBanner, ensureDemoTenant } from './demo/setup.js'
import { startDemoShop } from './demo/shop.js'
import { trackConnections } from './http/drain.js'

/** Opens the configured database: PostgreSQL when DATABASE_URL is set, else the embedded one. */
export async function openDatabase(config: Config, purpose: string): Promise<Db> {
  return config.databaseUrl
    ? postgresDb(config.databaseUrl, { pooler: config.databasePooler, ...(config.databaseDirectUrl ? { directUrl: config.databaseDirectUrl } : {}) })
    : openEmbeddedDb(config.dataDir, purpose)
}

export async function serve(options: { env?: NodeJS.ProcessEnv; demo?: boolean } = {}) {
  const env = options.env ?? process.env
  const config = loadConfig(env)
  // The demo runs on a development start on the embedded database, or when asked for.
  const demo = config.role !== 'worker' && (options.demo || (!config.databaseUrl && config.nodeEnv !== 'production'))
  const demoPort = Number(env.DEMO_PORT || 3001)
  if (demo) config.allowPrivateWebhookUrls = true // the demo shop's webhook endpoint is on 127.0.0.1
  const logger: Logger = createLogger(config.logLevel)
  const encryptionKey = resolveEncryptionKey(config, (m) => logger.warn(m))
  const db = await openDatabase(config, `paylink serve (port ${config.port})`)
  let closing = false
  const closers: (() => Promise<void>)[] = []
  try {
    const applied = await migrate(db)
    if (applied.length) logger.info({ applied }, 'migrations applied')
    const services = await buildServices({
      config,
      db,
      clock: systemClock,
      encryptionKey,
      defaultMetrics: true,
      onBackgroundError: (err) => logger.error({ err }, 'background job failed'),
      log: (msg, extra) => logger.info(extra ?? {}, msg),
    })
    const app = config.role === 'worker' ? undefined : await buildHttpApp(services, { logger })
    const drain = app && trackConnections(app.server)
    const shutdown = async (signal: string) => {
      if (closing) return
      closing = true
      logger.info({ signal }, 'shutting down: finishing requests in flight')
      // Each step is named, so a shutdown that has to be forced says what it was waiting on.
      let step = 'the worker'
      const force = setTimeout(() => {
        logger.error({ waiting_on: step }, `shutdown did not finish within 15 s (waiting on ${step}): exiting now`)
        process.exit(1)
      }, 15_000).unref()
      // The worker stops claiming first; deliveries in flight are recorded (or leased for a retry).
      await services.background.stop().catch((err) => logger.error({ err }, 'error while stopping the worker'))
      step = 'the demo shop'
      await Promise.allSettled(closers.map((c) => c()))
      step = 'requests in flight'
      // Requests in flight are answered (up to 10 s); then every connection ends, unused ones at once.
      const closed = app ? app.close() : services.close()
      drain?.(10_000)
      await closed.catch((err) => logger.error({ err }, 'error while closing'))
      step = 'the database'
      await db.close().catch(() => {})
      clearTimeout(force)
      process.exit(0)
    }
    process.once('SIGINT', () => void shutdown('SIGINT'))
    process.once('SIGTERM', () => void shutdown('SIGTERM'))
    if (app) {
      await app.listen({ port: config.port, host: config.host })
      // The address really bound (PORT=0 picks one), and the public address, when they differ.
      const bound = app.server.address()
      const listening = bound && typeof bound === 'object' ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : `${config.host}:${config.port}`
      logger.info(
        { listening, url: config.publicBaseUrl, database: db.kind === 'pglite' ? `embedded (${config.dataDir})` : 'postgresql', role: config.role },
        `paylink is listening on ${listening}, reached as ${config.publicBaseUrl} — API docs at ${config.publicBaseUrl}/docs`,
      )
    } else {
      logger.info({ role: config.role }, 'paylink worker started')
    }
    if (config.role !== 'api') await services.startWorker()
    if (demo) {
      // The demo is a convenience: if it cannot start (its port is taken), paylink runs on without it.
      try {
        const shopOrigin = `http://127.0.0.1:${demoPort}`
        const creds = await ensureDemoTenant(services, config.dataDir, shopOrigin)
        const apiBase = `http://127.0.0.1:${config.port}`
        const shop = await startDemoShop({ port: demoPort, apiBase, credentials: creds, log: (m) => logger.warn(m) })
        closers.push(shop.close)
        process.stdout.write(demoBanner(config.publicBaseUrl, shop.url, creds) + '\n')
      } catch (err) {
        logger.warn({ err: (err as Error).message }, `the demo shop did not start on port ${demoPort}; set DEMO_PORT to another port`)
      }
    }
    return { app, db, config }
  } catch (err) {
    await db.close().catch(() => {})
    throw err
  }
}
