/** Time comes from a clock that tests can move, so expiry and retries run in milliseconds. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock that stands still until told to move. */
export class ManualClock implements Clock {
  private t: number
  constructor(start: Date | string | number = '2030-01-01T00:00:00.000Z') {
    this.t = new Date(start).getTime()
  }
  now() {
    return new Date(this.t)
  }
  advance(ms: number) {
    this.t += ms
  }
  set(to: Date | string | number) {
    this.t = new Date(to).getTime()
  }
}
