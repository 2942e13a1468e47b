/**
 * When to try a delivery again (SPEC "Webhooks"): after 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h and 10 h, each ±20% jitter; then it has failed. A `Retry-After` from the receiver
 * is honoured within the bounds of the schedule (no sooner than 5 s, no later than 10 h).
 * An endpoint failing without a success for 5 days is disabled.
 */
export const RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]
export const RETRY_AFTER_BOUNDS_MS = { min: 5_000, max: 36_000_000 }
export const DISABLE_AFTER_FAILING_MS = 5 * 24 * 3_600_000
export const JITTER = 0.2

/** Milliseconds until the next attempt after `attempts` failed ones, or undefined when there is none. */
export function nextDelay(attempts: number, retryAfterMs: number | undefined, random: () => number = Math.random): number | undefined {
  const base = RETRY_SCHEDULE_MS[attempts - 1]
  if (base === undefined) return undefined
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs)) {
    return Math.min(RETRY_AFTER_BOUNDS_MS.max, Math.max(RETRY_AFTER_BOUNDS_MS.min, retryAfterMs))
  }
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()))
}

/** Reads Retry-After (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime())
}
