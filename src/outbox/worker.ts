/**
 * The delivery worker, a short pipeline: claim → send → record.
 *
 * Claim leases due deliveries with `FOR UPDATE SKIP LOCKED` in one statement, so any
 * number of workers share the queue and never send one delivery at the same time. The
 * lease (60 s, far above the 10 s timeout) is what makes a crash safe: a delivery whose
 * worker died is taken again when its lease runs out — at least once, never lost.
 * Each attempt is recorded with the delivery's new state in one transaction.
 */
import type { Db } from '../storage/db.js'
import { sql } from '../storage/db.js'
import type { Clock } from '../domain/shared/clock.js'
import type { Sealer } from '../domain/shared/crypto.js'
import { newId } from '../domain/shared/ids.js'
import { signatureHeader } from '../domain/webhooks/signing.js'
import { send, type SendInput, type SendResult } from './sender.js'
import { DISABLE_AFTER_FAILING_MS, nextDelay, parseRetryAfter } from './retry-policy.js'

export const LEASE_MS = 60_000
export const TIMEOUT_MS = 10_000

const CLAIM = sql(
  'deliveries_claim',
  `WITH due AS (
     SELECT tenant_id, id FROM deliveries
      WHERE status = 'pending' AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until <= $1)
      ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
   )
   UPDATE deliveries d SET leased_until = $3, attempts = d.attempts + 1, updated_at = $1
     FROM due WHERE d.tenant_id = due.tenant_id AND d.id = due.id
   RETURNING d.tenant_id, d.id, d.event_id, d.endpoint_id, d.attempts`,
)
const LOAD = sql(
  'delivery_load',
  `SELECT ev.body, ev.created_at, e.url, e.status AS endpoint_status, e.deleted_at, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at
     FROM events ev JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.id = $3
    WHERE ev.tenant_id = $1 AND ev.id = $2`,
)
const RECORD_ATTEMPT = sql(
  'delivery_attempt_insert',
  `INSERT INTO delivery_attempts (tenant_id, id, delivery_id, event_id, endpoint_id, attempt, attempted_at, status_code, duration_ms, error)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
)
const SET_DELIVERY = sql(
  'delivery_set_state',
  `UPDATE deliveries SET status = $3, next_attempt_at = COALESCE($4, next_attempt_at), leased_until = NULL, last_status_code = $5, last_error = $6, updated_at = $7
    WHERE tenant_id = $1 AND id = $2`,
)

interface Claimed {
  tenant_id: string
  id: string
  event_id: string
  endpoint_id: string
  attempts: number
}

export interface WorkerOptions {
  db: Db
  clock: Clock
  sealer: Sealer
  allowPrivate: boolean
  batchSize?: number
  /** Replaceable in tests; the real one does HTTP. */
  send?: (input: SendInput) => Promise<SendResult>
  random?: () => number
  log?: (msg: string, extra?: Record<string, unknown>) => void
  /** Told of every attempt: its result, and for a success the lag from the event's commit. */
  onAttempt?: (result: 'succeeded' | 'retry' | 'failed', lagMs?: number) => void
}

export class DeliveryWorker {
  private readonly inFlight = new Set<Promise<unknown>>()
  private stopping = false

  constructor(private readonly o: WorkerOptions) {}

  /** The last drain stopped at its batch limit while deliveries were still being claimed: more may be due now. */
  backlogged = false

  /** Claims and sends every due delivery, batch after batch; returns how many were attempted. */
  async drain(maxBatches = 20): Promise<number> {
    let total = 0
    let n = 0
    let batches = 0
    for (; batches < maxBatches && !this.stopping; batches++) {
      n = await this.runBatch()
      total += n
      if (n === 0) break
    }
    this.backlogged = batches === maxBatches && n > 0
    return total
  }

  async runBatch(): Promise<number> {
    if (this.stopping) return 0
    const now = this.o.clock.now()
    const claimed = await this.o.db.query<Claimed>(CLAIM, [now, this.o.batchSize ?? 20, new Date(now.getTime() + LEASE_MS)])
    await Promise.all(claimed.map((c) => this.track(this.deliver(c))))
    return claimed.length
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p)
    return p.finally(() => this.inFlight.delete(p))
  }

  private async deliver(c: Claimed): Promise<void> {
    const [row] = await this.o.db.query<Record<string, unknown>>(LOAD, [c.tenant_id, c.event_id, c.endpoint_id])
    const started = this.o.clock.now()
    if (!row || row.endpoint_status !== 'enabled' || row.deleted_at) {
      await this.record(c, started, { error: 'endpoint disabled or deleted', durationMs: 0 }, 'failed', null)
      return
    }
    const secrets = [this.o.sealer.open(row.secret_encrypted as string, `whsec:${c.tenant_id}:${c.endpoint_id}`).toString('utf8')]
    if (row.previous_secret_encrypted && row.previous_secret_expires_at && new Date(row.previous_secret_expires_at as Date) > started) {
      secrets.push(this.o.sealer.open(row.previous_secret_encrypted as string, `whsec:${c.tenant_id}:${c.endpoint_id}`).toString('utf8'))
    }
    const body = row.body as string
    const timestamp = Math.floor(started.getTime() / 1000)
    const result = await (this.o.send ?? send)({
      url: row.url as string,
      body,
      timeoutMs: TIMEOUT_MS,
      allowPrivate: this.o.allowPrivate,
      headers: { 'webhook-id': c.event_id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader(secrets, c.event_id, timestamp, body) },
    })
    const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300
    if (ok) {
      this.o.onAttempt?.('succeeded', this.o.clock.now().getTime() - new Date(row.created_at as Date).getTime())
      return this.record(c, started, result, 'succeeded', null)
    }
    if (result.statusCode === 410 || nextDelay(c.attempts, undefined, () => 0.5) === undefined) this.o.onAttempt?.('failed')
    else this.o.onAttempt?.('retry')
    if (result.statusCode === 410) return this.record(c, started, result, 'failed', null, 'the endpoint answered 410 Gone')
    const delay = nextDelay(c.attempts, parseRetryAfter(result.retryAfter, started), this.o.random)
    return this.record(c, started, result, delay === undefined ? 'failed' : 'pending', delay === undefined ? null : new Date(started.getTime() + delay))
  }

  private async record(c: Claimed, at: Date, result: SendResult, status: 'succeeded' | 'failed' | 'pending', next: Date | null, disableReason?: string) {
    const error = result.error ?? (result.statusCode !== undefined && (result.statusCode < 200 || result.statusCode >= 300) ? `HTTP ${result.statusCode}` : null)
    await this.o.db.transaction(async (tx) => {
      await tx.query(RECORD_ATTEMPT, [c.tenant_id, newId('attempt'), c.id, c.event_id, c.endpoint_id, c.attempts, at, result.statusCode ?? null, result.durationMs, error])
      await tx.query(SET_DELIVERY, [c.tenant_id, c.id, status, next, result.statusCode ?? null, error, at])
      if (status === 'succeeded') {
        await tx.query('UPDATE webhook_endpoints SET failing_since = NULL WHERE tenant_id = $1 AND id = $2 AND failing_since IS NOT NULL', [c.tenant_id, c.endpoint_id])
        return
      }
      if (disableReason) {
        await tx.query(`UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`, [c.tenant_id, c.endpoint_id, disableReason, at])
        return
      }
      const [ep] = await tx.query<{ failing_since: Date }>(
        'UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $3) WHERE tenant_id = $1 AND id = $2 RETURNING failing_since',
        [c.tenant_id, c.endpoint_id, at],
      )
      if (ep && at.getTime() - new Date(ep.failing_since).getTime() >= DISABLE_AFTER_FAILING_MS) {
        await tx.query(`UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND status = 'enabled'`, [
          c.tenant_id,
          c.endpoint_id,
          'failing for 5 days',
          at,
        ])
      }
    })
    this.o.log?.('webhook attempt', { delivery_id: c.id, event_id: c.event_id, attempt: c.attempts, status_code: result.statusCode, outcome: status })
  }

  /** Stops claiming; waits for deliveries in flight to be sent and recorded. */
  async stop(): Promise<void> {
    this.stopping = true
    await Promise.allSettled([...this.inFlight])
  }
}
