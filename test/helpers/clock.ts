/**
 * The tests' one clock. No test replaces a clock's `now`: it moves this one by its methods.
 */
import { ManualClock, type Clock } from '../../src/domain/shared/clock.js'

export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/**
 * Real time plus an offset that tests move forward: ordering stays natural, expiry is instant.
 * `freeze()` stops it (a ManualClock underneath), so that a test can stand exactly at the edge
 * of a retry window or make several calls at one instant; `thaw()` lets real time run again.
 */
export class TestClock implements Clock {
  private offsetMs = 0
  /** While frozen: the clock that stands still, and the running time it was frozen from. */
  private frozen: { clock: ManualClock; from: number } | undefined

  now(): Date {
    return this.frozen ? this.frozen.clock.now() : new Date(Date.now() + this.offsetMs)
  }

  advance(ms: number) {
    if (this.frozen) this.frozen.clock.advance(ms)
    else this.offsetMs += ms
  }

  /** Stops the clock at `at` (where it stands, by default): from now on it moves only by `advance()`. */
  freeze(at: Date | number = this.now()) {
    if (this.frozen) this.frozen.clock.set(at)
    else this.frozen = { clock: new ManualClock(at), from: this.now().getTime() }
  }

  /** Lets real time run again; what the clock was moved while frozen stays moved. */
  thaw() {
    if (!this.frozen) return
    this.offsetMs += this.frozen.clock.now().getTime() - this.frozen.from
    this.frozen = undefined
  }

  /** Runs `fn` with the clock frozen, so that everything in it happens at one instant. */
  async atOneInstant<T>(fn: () => Promise<T>): Promise<T> {
    this.freeze()
    try {
      return await fn()
    } finally {
      this.thaw()
    }
  }

  /** Back to real time: running, no offset. */
  reset() {
    this.frozen = undefined
    this.offsetMs = 0
  }
}
