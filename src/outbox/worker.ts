/**
 * The delivery worker, a short pipeline: claim → send → record.
 *
 * Claim leases due deliveries of every tenant in one statement that skips the rows other
 * workers hold (`claimDueDeliveriesAcrossTenants`), so any number of workers share the queue
 * and never send one delivery at the same time. The lease (60 s, far above the 10 s timeout)
 * is what makes a crash safe: a delivery whose worker died is taken again when its lease runs
 * out — at least once, never lost. Each attempt is recorded with the delivery's new state in
 * one transaction.
 */
import type { Store } from '../storage/store.js'
import type { Clock } from '../domain/shared/clock.js'
import type { Sealer } from '../domain/shared/crypto.js'
import { newId } from '../domain/shared/ids.js'
import type { ClaimedDelivery } from '../domain/webhooks/model.js'
import { secretContext, signatureHeader } from '../domain/webhooks/signing.js'
import { send, type SendInput, type SendResult } from './sender.js'
import { DISABLE_AFTER_FAILING_MS, nextDelay, parseRetryAfter } from './retry-policy.js'

export const LEASE_MS = 60_000
export const TIMEOUT_MS = 10_000

export interface WorkerOptions {
  store: Store
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
    const claimed = await this.o.store.webhooks.claimDueDeliveriesAcrossTenants(now, this.o.batchSize ?? 20, new Date(now.getTime() + LEASE_MS))
    await Promise.all(claimed.map((c) => this.track(this.deliver(c))))
    return claimed.length
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p)
    return p.finally(() => this.inFlight.delete(p))
  }

  private async deliver(c: ClaimedDelivery): Promise<void> {
    const target = await this.o.store.webhooks.deliveryTarget(c.tenantId, c.eventId, c.endpointId)
    const started = this.o.clock.now()
    if (!target || target.endpointStatus !== 'enabled' || target.endpointDeleted) {
      await this.record(c, started, { error: 'endpoint disabled or deleted', durationMs: 0 }, 'failed', null)
      return
    }
    const context = secretContext(c.tenantId, c.endpointId)
    const secrets = [this.o.sealer.open(target.sealedSecret, context).toString('utf8')]
    if (target.sealedPreviousSecret && target.previousSecretExpiresAt && target.previousSecretExpiresAt > started) {
      secrets.push(this.o.sealer.open(target.sealedPreviousSecret, context).toString('utf8'))
    }
    const timestamp = Math.floor(started.getTime() / 1000)
    const result = await (this.o.send ?? send)({
      url: target.url,
      body: target.body,
      timeoutMs: TIMEOUT_MS,
      allowPrivate: this.o.allowPrivate,
      headers: { 'webhook-id': c.eventId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signatureHeader(secrets, c.eventId, timestamp, target.body) },
    })
    const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300
    if (ok) {
      this.o.onAttempt?.('succeeded', this.o.clock.now().getTime() - target.eventCreatedAt.getTime())
      return this.record(c, started, result, 'succeeded', null)
    }
    if (result.statusCode === 410 || nextDelay(c.attempts, undefined, () => 0.5) === undefined) this.o.onAttempt?.('failed')
    else this.o.onAttempt?.('retry')
    if (result.statusCode === 410) return this.record(c, started, result, 'failed', null, 'the endpoint answered 410 Gone')
    const delay = nextDelay(c.attempts, parseRetryAfter(result.retryAfter, started), this.o.random)
    return this.record(c, started, result, delay === undefined ? 'failed' : 'pending', delay === undefined ? null : new Date(started.getTime() + delay))
  }

  /** Records the attempt with the delivery's new state and what it tells of the endpoint, in one transaction. */
  private async record(c: ClaimedDelivery, at: Date, result: SendResult, status: 'succeeded' | 'failed' | 'pending', next: Date | null, disableReason?: string) {
    const statusCode = result.statusCode ?? null
    const error = result.error ?? (result.statusCode !== undefined && (result.statusCode < 200 || result.statusCode >= 300) ? `HTTP ${result.statusCode}` : null)
    await this.o.store.transaction(async (tx) => {
      await tx.webhooks.recordAttempt(c.tenantId, {
        id: newId('attempt'),
        deliveryId: c.id,
        eventId: c.eventId,
        endpointId: c.endpointId,
        attempt: c.attempts,
        attemptedAt: at,
        statusCode,
        durationMs: result.durationMs,
        error,
      })
      await tx.webhooks.setDeliveryState(c.tenantId, c.id, { status, nextAttemptAt: next, lastStatusCode: statusCode, lastError: error, at })
      if (status === 'succeeded') return tx.webhooks.clearEndpointFailing(c.tenantId, c.endpointId)
      if (disableReason) return tx.webhooks.disableEndpoint(c.tenantId, c.endpointId, disableReason, at)
      const failingSince = await tx.webhooks.markEndpointFailing(c.tenantId, c.endpointId, at)
      if (failingSince && at.getTime() - failingSince.getTime() >= DISABLE_AFTER_FAILING_MS) {
        await tx.webhooks.disableEndpoint(c.tenantId, c.endpointId, 'failing for 5 days', at, { onlyIfEnabled: true })
      }
    })
    this.o.log?.('webhook attempt', { delivery_id: c.id, event_id: c.eventId, attempt: c.attempts, status_code: result.statusCode, outcome: status })
  }

  /** Stops claiming; waits for deliveries in flight to be sent and recorded. */
  async stop(): Promise<void> {
    this.stopping = true
    await Promise.allSettled([...this.inFlight])
  }
}
