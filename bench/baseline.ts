/**
 * The bare baselines for the mint benchmark: Fastify and `pg`, nothing else. Each answers
 * the same route with the same kind of JSON body and does one single-row insert with, like
 * paylink, the SHA-256 of 32 random bytes in a unique link_token_hash, as a named prepared
 * statement on a pool of the same size as paylink's (10). No auth, validation, rate limits,
 * metrics, envelope or hooks: what is left is the floor any implementation on this stack pays.
 *
 * - `BASELINE_KIND=schema` (the default): into paylink's own `payment_intents`, with its
 *   indexes and foreign keys — what paylink's code costs over its schema.
 * - `BASELINE_KIND=lean`: into a table of its own with only a primary key and the unique
 *   token hash (`bench_lean_links`, made at start) — the leanest correct mint, and so what
 *   paylink's code and schema together cost.
 *
 *   DATABASE_URL=… PORT=… BASELINE_TENANT=ten_… BASELINE_ACCOUNT=cpa_… [BASELINE_KIND=lean] node --import tsx bench/baseline.ts
 */
import { createHash, randomBytes } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })
const tenantId = process.env.BASELINE_TENANT!
const accountId = process.env.BASELINE_ACCOUNT!
const ttlMs = 600_000

const lean = process.env.BASELINE_KIND === 'lean'

const INSERT = {
  name: 'baseline_insert',
  text: `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, expires_at, created_at, updated_at, link_token_hash)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $8, $9)`,
}
const LEAN_INSERT = { name: 'baseline_lean_insert', text: 'INSERT INTO bench_lean_links (id, link_token_hash) VALUES ($1, $2)' }
if (lean) await pool.query('CREATE TABLE IF NOT EXISTS bench_lean_links (id text PRIMARY KEY, link_token_hash bytea NOT NULL UNIQUE)')

const app = Fastify({ logger: false })

app.post('/v1/platform/card/payment-link', async (request, reply) => {
  const body = request.body as { user_id: string; amount: string | number; currency?: string }
  const id = `pi_${randomBytes(15).toString('hex')}`
  const now = new Date()
  const expiresAt = new Date(now.getTime() + ttlMs)
  const tokenHash = createHash('sha256').update(randomBytes(32)).digest()
  if (lean) await pool.query({ ...LEAN_INSERT, values: [id, tokenHash] })
  else await pool.query({ ...INSERT, values: [tenantId, id, body.user_id, accountId, Math.round(Number(body.amount) * 100), body.currency ?? 'USD', expiresAt, now, tokenHash] })
  return reply.code(201).send({ payment_intent_id: id, expires_at: expiresAt.toISOString() })
})

await app.listen({ port: Number(process.env.PORT ?? 3100), host: '127.0.0.1' })
process.stdout.write('baseline listening\n')

const stop = async () => {
  await app.close()
  await pool.end()
  process.exit(0)
}
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
