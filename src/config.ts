/**
 * Typed configuration, read from the environment once at start and checked whole:
 * every problem is reported on its own line, and the process does not start.
 */
import fs from 'node:fs'
import { isIP } from 'node:net'
import path from 'node:path'
import { randomBytes } from 'node:crypto'

export type Role = 'all' | 'api' | 'worker'

export interface Config {
  nodeEnv: string
  port: number
  host: string
  publicBaseUrl: string
  databaseUrl?: string
  dataDir: string
  linkTtlSeconds: number
  accessTokenTtlSeconds: number
  /**
   * DATABASE_POOLER: `transaction` when PgBouncer in transaction-pooling mode stands between
   * paylink and PostgreSQL (named statements off, LISTEN on DATABASE_DIRECT_URL or polling).
   */
  databasePooler: 'none' | 'transaction'
  /** DATABASE_DIRECT_URL: PostgreSQL itself, past the pooler, for LISTEN. */
  databaseDirectUrl?: string
  /** 32 bytes; undefined until resolved by `resolveEncryptionKey` outside production. */
  dataEncryptionKey?: Buffer
  /** DATA_ENCRYPTION_KEY_PREVIOUS: read-only, while `paylink reencrypt` moves every sealed value to the current key. */
  dataEncryptionKeyPrevious?: Buffer
  redisUrl?: string
  role: Role
  logLevel: string
  allowPrivateWebhookUrls: boolean
  /** Scales every rate limit (1 = the documented limits). */
  rateLimitMultiplier: number
  /** How long a payment may stay `processing` before recovery asks the processor. */
  processingRecoverySeconds: number
  /**
   * How long one call to a card processor may take before its outcome is unknown
   * (PROCESSOR_TIMEOUT_SECONDS; default 30 s, and always shorter than
   * PROCESSING_RECOVERY_SECONDS so recovery never races a call still in flight).
   */
  processorTimeoutMs: number
  /**
   * Which proxies' `X-Forwarded-For` is believed (TRUST_PROXY): `false` (off, the default:
   * the socket's address is the client's), a hop count, or addresses and CIDRs of the load
   * balancers. The per-IP rate limits and the logs then see the visitor's address.
   */
  trustProxy: false | number | string[]
  /** How often a worker looks for due work when nothing wakes it (new webhooks wake it at once on PostgreSQL). */
  workerPollSeconds: number
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'))
    this.name = 'ConfigError'
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Decodes a 32-byte key given as 64 hex characters or base64/base64url. */
export function decodeKey(text: string): Buffer | undefined {
  const t = text.trim()
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64')
  return key.length === 32 ? key : undefined
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = []
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name]
    if (raw === undefined || raw === '') return fallback
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`)
      return fallback
    }
    return n
  }
  const nodeEnv = env.NODE_ENV ?? 'development'
  const port = int('PORT', 3000, 0, 65535)
  const linkTtlSeconds = int('LINK_TTL_SECONDS', 600, 30, 86_400)
  const accessTokenTtlSeconds = int('ACCESS_TOKEN_TTL_SECONDS', 900, 60, 86_400)
  const processingRecoverySeconds = int('PROCESSING_RECOVERY_SECONDS', 120, 1, 86_400)
  const workerPollSeconds = int('WORKER_POLL_SECONDS', 1, 1, 3600)
  const trustProxy = parseTrustProxy(env.TRUST_PROXY, problems)
  const processorTimeoutMs = env.PROCESSOR_TIMEOUT_SECONDS
    ? int('PROCESSOR_TIMEOUT_SECONDS', 30, 1, 600) * 1000
    : Math.min(30_000, Math.max(100, (processingRecoverySeconds * 1000) / 2))
  if (processorTimeoutMs >= processingRecoverySeconds * 1000) problems.push('PROCESSOR_TIMEOUT_SECONDS must be shorter than PROCESSING_RECOVERY_SECONDS')

  let publicBaseUrl = env.PUBLIC_BASE_URL || `http://localhost:${port}`
  try {
    const u = new URL(publicBaseUrl)
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error()
    if (u.search || u.hash) throw new Error()
    publicBaseUrl = u.toString().replace(/\/+$/, '')
    if (nodeEnv === 'production' && u.protocol !== 'https:') problems.push('PUBLIC_BASE_URL must be https:// in production')
  } catch {
    problems.push(`PUBLIC_BASE_URL must be an http(s) URL without query or fragment (got "${publicBaseUrl}")`)
  }

  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL must start with postgres:// or postgresql://')

  const databasePooler = (env.DATABASE_POOLER || 'none') as Config['databasePooler']
  if (databasePooler !== 'none' && databasePooler !== 'transaction') problems.push('DATABASE_POOLER must be none or transaction (PgBouncer in transaction-pooling mode)')
  const databaseDirectUrl = env.DATABASE_DIRECT_URL || undefined
  if (databaseDirectUrl && !/^postgres(ql)?:\/\//.test(databaseDirectUrl)) problems.push('DATABASE_DIRECT_URL must be a postgres:// URL')
  let dataEncryptionKeyPrevious: Buffer | undefined
  if (env.DATA_ENCRYPTION_KEY_PREVIOUS) {
    dataEncryptionKeyPrevious = decodeKey(env.DATA_ENCRYPTION_KEY_PREVIOUS)
    if (!dataEncryptionKeyPrevious) problems.push('DATA_ENCRYPTION_KEY_PREVIOUS must be 32 bytes, as 64 hex characters or base64')
  }
  let dataEncryptionKey: Buffer | undefined
  if (env.DATA_ENCRYPTION_KEY) {
    dataEncryptionKey = decodeKey(env.DATA_ENCRYPTION_KEY)
    if (!dataEncryptionKey) problems.push('DATA_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64')
  } else if (nodeEnv === 'production') {
    problems.push('DATA_ENCRYPTION_KEY is required when NODE_ENV=production (32 bytes as hex or base64: openssl rand -base64 32)')
  }

  const role = (env.ROLE || 'all') as Role
  if (!['all', 'api', 'worker'].includes(role)) problems.push(`ROLE must be all, api or worker (got "${env.ROLE}")`)
  const logLevel = env.LOG_LEVEL || 'info'
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`)
  const redisUrl = env.REDIS_URL || undefined
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL must start with redis:// or rediss://')
  const allow = env.ALLOW_PRIVATE_WEBHOOK_URLS ?? 'false'
  if (!['true', 'false'].includes(allow)) problems.push('ALLOW_PRIVATE_WEBHOOK_URLS must be true or false')

  const multiplierText = env.RATE_LIMIT_MULTIPLIER || '1'
  const rateLimitMultiplier = Number(multiplierText)
  if (!Number.isFinite(rateLimitMultiplier) || rateLimitMultiplier <= 0 || rateLimitMultiplier > 1_000_000) {
    problems.push(`RATE_LIMIT_MULTIPLIER must be a positive number (got "${multiplierText}")`)
  }

  if (problems.length) throw new ConfigError(problems)
  return {
    nodeEnv,
    port,
    host: env.HOST || '0.0.0.0',
    publicBaseUrl,
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || './.paylink'),
    linkTtlSeconds,
    accessTokenTtlSeconds,
    dataEncryptionKey,
    databasePooler,
    ...(databaseDirectUrl ? { databaseDirectUrl } : {}),
    ...(dataEncryptionKeyPrevious ? { dataEncryptionKeyPrevious } : {}),
    redisUrl,
    role,
    logLevel,
    allowPrivateWebhookUrls: allow === 'true',
    rateLimitMultiplier,
    processingRecoverySeconds,
    processorTimeoutMs,
    trustProxy,
    workerPollSeconds,
  }
}

/**
 * Outside production a missing DATA_ENCRYPTION_KEY is generated once into
 * `DATA_DIR/encryption.key` (mode 0600) and reused; `warn` is told so.
 */
export function resolveEncryptionKey(config: Config, warn: (msg: string) => void): Buffer {
  if (config.dataEncryptionKey) return config.dataEncryptionKey
  const file = path.join(config.dataDir, 'encryption.key')
  fs.mkdirSync(config.dataDir, { recursive: true })
  if (fs.existsSync(file)) {
    const key = decodeKey(fs.readFileSync(file, 'utf8'))
    if (!key) throw new ConfigError([`${file} does not hold a 32-byte key; restore it or remove it with the database`])
    return key
  }
  const key = randomBytes(32)
  fs.writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' })
  warn(`DATA_ENCRYPTION_KEY is not set: generated one into ${file}. Set DATA_ENCRYPTION_KEY in production and keep it safe.`)
  return key
}

/** Names proxy-addr understands for address ranges, besides addresses and CIDRs. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * TRUST_PROXY: absent, `false` or `off` → off; a whole number → that many proxies in front;
 * else a comma-separated list of addresses, CIDRs (`10.0.0.0/8`, `fd00::/8`) or the names
 * `loopback`, `linklocal`, `uniquelocal`. `true` is refused: believing every hop lets any
 * visitor choose its own address.
 */
function parseTrustProxy(text: string | undefined, problems: string[]): false | number | string[] {
  const value = (text ?? '').trim()
  if (value === '' || value === 'false' || value === 'off') return false
  if (/^\d+$/.test(value)) {
    const hops = Number(value)
    if (hops >= 1 && hops <= 10) return hops
    problems.push('TRUST_PROXY as a hop count must be 1 to 10')
    return false
  }
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean)
  const bad = entries.filter((e) => {
    if (PROXY_RANGES.has(e)) return false
    const [addr = '', bits, ...rest] = e.split('/')
    const kind = isIP(addr)
    if (!kind || rest.length) return true
    if (bits === undefined) return false
    return !/^\d+$/.test(bits) || Number(bits) > (kind === 4 ? 32 : 128)
  })
  if (!entries.length || bad.length) {
    problems.push(`TRUST_PROXY must be off, a hop count, or addresses and CIDRs of your proxies (not understood: ${bad.join(', ') || value})`)
    return false
  }
  return entries
}
