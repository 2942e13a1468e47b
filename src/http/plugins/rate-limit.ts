/**
 * Rate limits: fixed windows counted in memory, or in Redis when REDIS_URL is set so that
 * every API process shares them. A refused request is a 429 in the envelope with
 * Retry-After. Rules (per window of one minute unless noted; RATE_LIMIT_MULTIPLIER scales
 * them all, for load tests):
 * - confirmations: 30 per IP, 20 per link;
 * - /pay page loads: 120 per IP, and 20 unknown tokens per IP per 10 minutes (guessing);
 * - the token endpoint: 300 per IP (before the slow secret check), and 30 tokens per client,
 *   counted only once the client has proved its secret, so nobody can use up another's;
 * - minting: 600 per tenant;
 * - portal session secrets (`Bearer pps_…`) that open nothing: 60 per IP per 10 minutes, then
 *   every such bearer from that address is refused before its database lookup.
 */
import type { Redis } from 'ioredis'
import { AppError } from '../../domain/shared/errors.js'

export interface RateRule {
  name: string
  limit: number
  windowMs: number
}

export const RULES = {
  confirmPerIp: { name: 'confirm_ip', limit: 30, windowMs: 60_000 },
  confirmPerLink: { name: 'confirm_link', limit: 20, windowMs: 60_000 },
  pagePerIp: { name: 'page_ip', limit: 120, windowMs: 60_000 },
  unknownTokenPerIp: { name: 'unknown_token_ip', limit: 20, windowMs: 600_000 },
  tokenPerIp: { name: 'token_ip', limit: 300, windowMs: 60_000 },
  tokenPerClient: { name: 'token_client', limit: 30, windowMs: 60_000 },
  mintPerTenant: { name: 'mint_tenant', limit: 600, windowMs: 60_000 },
  unknownSecretPerIp: { name: 'unknown_secret_ip', limit: 60, windowMs: 600_000 },
} satisfies Record<string, RateRule>

export interface RateStore {
  /** Counts one hit (or, with `peek`, only reads) and returns the count in the current window and the ms left in it. */
  hit(key: string, windowMs: number, peek?: boolean): Promise<{ count: number; resetMs: number }>
  close(): Promise<void>
}

export class MemoryRateStore implements RateStore {
  private readonly windows = new Map<string, { count: number; resetAt: number }>()
  private sweeps = 0
  constructor(private readonly now: () => number = Date.now) {}
  async hit(key: string, windowMs: number, peek = false) {
    const now = this.now()
    if (++this.sweeps % 1000 === 0) for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k)
    let w = this.windows.get(key)
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs }
      if (!peek) this.windows.set(key, w)
    }
    if (!peek) w.count++
    return { count: w.count, resetMs: w.resetAt - now }
  }
  async close() {}
}

const HIT = `local c = redis.call('INCRBY', KEYS[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {c, redis.call('PTTL', KEYS[1])}`

export class RedisRateStore implements RateStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'paylink:rl:',
  ) {}
  async hit(key: string, windowMs: number, peek = false) {
    const [count, ttl] = (await this.redis.eval(HIT, 1, this.prefix + key, windowMs, peek ? 0 : 1)) as [number, number]
    return { count, resetMs: ttl > 0 ? ttl : windowMs }
  }
  async close() {
    await this.redis.quit().catch(() => {})
  }
}

export class RateLimiter {
  constructor(
    private readonly store: RateStore,
    private readonly multiplier = 1,
    private readonly onLimited: (rule: string) => void = () => {},
  ) {}

  /** Counts a hit against `rule` for `subject`; throws rate_limited when over the limit. */
  async check(rule: RateRule, subject: string, opts: { peek?: boolean } = {}): Promise<void> {
    const limit = Math.max(1, Math.round(rule.limit * this.multiplier))
    const { count, resetMs } = await this.store.hit(`${rule.name}:${subject}`, rule.windowMs, opts.peek)
    if (count > limit || (opts.peek && count >= limit)) {
      this.onLimited(rule.name)
      const retryAfter = Math.max(1, Math.ceil(resetMs / 1000))
      throw new AppError('rate_limited', `Too many requests; retry in ${retryAfter} s.`, undefined, { 'retry-after': String(retryAfter) })
    }
  }

  close() {
    return this.store.close()
  }
}
