/**
 * The background loop of a `ROLE=all` or `ROLE=worker` process: deliver due webhooks,
 * expire due links, recover stuck payments. It polls every second and can be woken
 * early when this process has just queued something. `stop()` stops claiming and waits
 * for deliveries in flight to be recorded.
 */
import type { DeliveryWorker } from './worker.js'
import type { Lifecycle } from '../domain/payments/lifecycle.js'

export class BackgroundRunner {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true

  constructor(
    private readonly worker: DeliveryWorker,
    private readonly lifecycle: Lifecycle,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 1000,
  ) {}

  /** One pass of every job; tests call this directly with a moved clock. */
  async tick(): Promise<void> {
    await this.lifecycle.sweepExpired()
    await this.lifecycle.recoverProcessing()
    await this.worker.drain()
  }

  start() {
    this.stopped = false
    this.schedule(0)
  }

  /** Runs a pass soon (something was just queued). */
  wake() {
    if (!this.stopped && !this.running) this.schedule(50)
  }

  private schedule(ms: number) {
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.running = this.tick()
        .catch(this.onError)
        .finally(() => {
          this.running = undefined
          if (!this.stopped) this.schedule(this.intervalMs)
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
