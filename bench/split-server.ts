/**
 * paylink's app (every hook, the logger, validation, metrics, rate limits) with two extra
 * routes that do only what the bare baseline does — the same single-row INSERT from the
 * same body — for `bench/split.ts`:
 *
 * - `POST /bench/insert`: no authentication;
 * - `POST /bench/insert-authenticated`: behind the same bearer-token check as the mint.
 *
 * The difference between these and the bare baseline is the framework's cost; between
 * them and the real mint, the mint's own (its statement, token, validation, answer).
 * Started like `paylink serve` (same variables) plus BASELINE_TENANT and BASELINE_ACCOUNT.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { loadConfig, resolveEncryptionKey } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { postgresDb, sql } from '../src/storage/db.js'
import { buildApp } from '../src/app.js'
import { systemClock } from '../src/domain/shared/clock.js'

const config = loadConfig(process.env)
const logger = createLogger(config.logLevel)
const db = postgresDb(config.databaseUrl!)
const { app } = await buildApp({ config, db, clock: systemClock, encryptionKey: resolveEncryptionKey(config, () => {}), logger, defaultMetrics: true })

// The baseline's statement and handler (bench/baseline.ts), on paylink's pool.
const INSERT = sql(
  'bench_baseline_insert',
  `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, expires_at, created_at, updated_at, link_token_hash)
   VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8, $9)`,
)
const insert = async (request: FastifyRequest, reply: FastifyReply) => {
  const body = request.body as { user_id: string; amount: string | number; currency?: string }
  const id = `pi_${randomBytes(15).toString('hex')}`
  const now = new Date()
  const expiresAt = new Date(now.getTime() + 600_000)
  const tokenHash = createHash('sha256').update(randomBytes(32)).digest()
  await db.query(INSERT, [process.env.BASELINE_TENANT, id, body.user_id, process.env.BASELINE_ACCOUNT, Math.round(Number(body.amount) * 100), body.currency ?? 'USD', expiresAt, now, tokenHash])
  return reply.code(201).send({ payment_intent_id: id, expires_at: expiresAt.toISOString() })
}
app.post('/bench/insert', { schema: { hide: true } }, insert)
app.post('/bench/insert-authenticated', { schema: { hide: true }, config: { scope: 'payments:write' } }, insert)

await app.listen({ port: config.port, host: config.host })
process.stdout.write('split server listening\n')
const stop = () => void app.close().then(() => db.close()).then(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
