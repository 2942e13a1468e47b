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
 * of a retry window or make several calls at one instant; `thaw()` lets it run on from there.
 */
export class TestClock implements Clock {
  private offsetMs = 0
  private stopped: ManualClock | undefined

  now(): Date {
    return this.stopped ? this.stopped.now() : new Date(Date.now() + this.offsetMs)
  }

  advance(ms: number) {
    if (this.stopped) this.stopped.advance(ms)
    else this.offsetMs += ms
  }

  /** Stops the clock at `at` (where it stands, by default): from now on it moves only by `advance()`. */
  freeze(at: Date | number = this.now()) {
    this.stopped = new ManualClock(at)
  }

  /** Runs on with real time from where the frozen clock stands. */
  thaw() {
    if (!this.stopped) return
    this.offsetMs = this.stopped.now().getTime() - Date.now()
    this.stopped = undefined
  }

  /** Back to real time: running, no offset. */
  reset() {
    this.stopped = undefined
    this.offsetMs = 0
  }
}
