/**
 * The background loop of a `ROLE=all` or `ROLE=worker` process: deliver due webhooks,
 * expire due links, recover stuck payments, sweep ended portal sessions. It polls every WORKER_POLL_SECONDS (1), is woken
 * early when this process or (through a notice, see notify.ts) another has just queued
 * something, and goes on at once while a backlog lasts.
 * `stop()` stops claiming and waits for deliveries in flight to be recorded.
 */
import type { DeliveryWorker } from './worker.js'
import type { Lifecycle } from '../domain/payments/lifecycle.js'

/** What else a pass tidies: ended portal links and sessions. */
export interface Housekeeping {
  sweepExpired(): Promise<unknown>
}

export class BackgroundRunner {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true
  /** Woken during a pass: what woke it may have committed after the pass looked. */
  private wanted = false

  constructor(
    private readonly worker: DeliveryWorker,
    private readonly lifecycle: Lifecycle,
    private readonly portal: Housekeeping,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 1000,
  ) {}

  /** One pass of every job; tests call this directly with a moved clock. */
  async tick(): Promise<void> {
    await this.lifecycle.sweepExpired()
    await this.lifecycle.recoverProcessing()
    await this.lifecycle.recoverRefunds()
    await this.portal.sweepExpired()
    await this.worker.drain()
  }

  start() {
    this.stopped = false
    this.schedule(0)
  }

  /** Runs a pass soon (something was just queued); during a pass, another one right after it. */
  wake() {
    if (this.stopped) return
    if (this.running) this.wanted = true
    else this.schedule(50)
  }

  private schedule(ms: number) {
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.running = this.tick()
        .catch(this.onError)
        .finally(() => {
          this.running = undefined
          // A pass that stopped at its batch limit with a backlog, or was woken meanwhile, goes on at once; otherwise the next poll.
          const again = this.worker.backlogged || this.wanted
          this.wanted = false
          if (!this.stopped) this.schedule(again ? 0 : this.intervalMs)
        })
    }, ms)
    this.timer.unref()
  }

  async stop() {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.worker.stop()
    await this.running
  }
}
