/**
 * Rate limits through HTTP (SPEC "The envelope"; issue 5 item 6 and "How it is checked"):
 * minting per tenant, the token endpoint per client, confirmations per IP and per link,
 * /pay page loads per IP and unknown-token guessing per IP. Each refusal is a 429 in the
 * envelope (`rate_limited`) with Retry-After.
 *
 * The same rules run twice: in memory (whose windows follow the server's injected clock, so
 * recovery after the window is checked by moving it), and on the machine's Redis (whose
 * windows are real time: counting and Retry-After only), where two servers sharing one
 * Redis also share the counts.
 *
 * Limits are scaled with RATE_LIMIT_MULTIPLIER: 0.1 for most rules (token 3 per client,
 * confirmations 3 per IP and 2 per link, page loads 12 per IP, unknown tokens 2 per IP) and
 * 0.01 for minting (6 per tenant). Every request that counts per IP comes from an address of
 * its own in 127/8 (the socket's local address), so tests, backends and runs never share a
 * count; the Redis keys this file makes are deleted at the end.
 */
import http from 'node:http'
import { createHash, randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, NOT_LUHN, createTenant, newCard, openTestDb, sessionOf, setupPayer, startServer, type TestServer, type TestTenant } from '../helpers/index.js'
import type { Db } from '../../src/storage/db.js'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'
import { SESSION_HEADER } from '../../src/page/routes.js'

/**
 * Each database's run uses its own Redis logical database (1 for PGlite, 2 for PostgreSQL):
 * windows are real minutes in Redis, so a run straight after another must not inherit its
 * counts (every test server connects from 127.0.0.1, which per-IP rules share).
 */
const REDIS_URL = `${(process.env.PAYLINK_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/${process.env.PAYLINK_TEST_DB === 'pg' ? 2 : 1}`
const REDIS_PREFIX = 'paylink:rl:'
const MINUTE = 60_000

// ---------------------------------------------------------------------------------------
// HTTP from a chosen source address

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  body: any
}

/** Subjects whose Redis keys this file may have made, to delete them afterwards. */
const made = { ips: new Set<string>(), tenants: new Set<string>(), clients: new Set<string>(), links: new Set<string>() }

/** A loopback address of its own (127.x.y.z, never 127.0.0.1): a fresh client IP for the per-IP rules. */
function newIp(): string {
  const [a, b, c] = randomBytes(3)
  const ip = `127.${(a! % 254) + 1}.${b}.${(c! % 254) + 1}`
  made.ips.add(ip)
  return ip
}

/** One request to `server` from `ip` (a new connection each time, so the address is the one given). */
function call(server: TestServer, method: string, path: string, opts: { ip?: string; headers?: Record<string, string>; body?: string | object } = {}): Promise<Answer> {
  const url = new URL(server.baseUrl)
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
  const headers: Record<string, string> = { ...opts.headers }
  if (payload !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(payload))
    if (typeof opts.body === 'object') headers['content-type'] = 'application/json'
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path, method, headers, agent: false, ...(opts.ip ? { localAddress: opts.ip } : {}) },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (text += d))
        res.on('end', () => {
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {
            // HTML or empty: keep the text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body })
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

/** Asserts a 429 in the envelope with a Retry-After of 1..`maxSeconds`; returns the Retry-After. */
function expectLimited(res: Answer, maxSeconds: number): number {
  expect(res.status, res.text).toBe(429)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  expect(res.body).toMatchObject({ success: false, data: null, error: { code: 'rate_limited', message: expect.any(String) }, request_id: expect.stringMatching(/^req_/) })
  const retryAfter = Number(res.headers['retry-after'])
  expect(Number.isInteger(retryAfter), `Retry-After: ${res.headers['retry-after']}`).toBe(true)
  expect(retryAfter).toBeGreaterThanOrEqual(1)
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds)
  return retryAfter
}

const tokenRequest = (server: TestServer, client: { clientId: string; clientSecret: string }, ip?: string) =>
  call(server, 'POST', '/oauth/token', {
    ...(ip ? { ip } : {}),
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  })

/** A token of `server` for `client` (each call counts once against the client's token limit). */
async function tokenFor(server: TestServer, client: { clientId: string; clientSecret: string }): Promise<string> {
  const res = await tokenRequest(server, client)
  expect(res.status, res.text).toBe(200)
  return res.body.access_token
}

/** setupPayer, remembering the tenant and client for the Redis clean-up. */
async function payer(server: TestServer) {
  const p = await setupPayer(server)
  made.tenants.add(p.tenant.tenantId)
  made.clients.add(p.tenant.clientId)
  return p
}

async function tenantOf(server: TestServer): Promise<TestTenant> {
  const t = await createTenant(server)
  made.tenants.add(t.tenantId)
  made.clients.add(t.clientId)
  return t
}

type Payer = Awaited<ReturnType<typeof payer>>

const mint = (server: TestServer, p: Payer, token = p.token) =>
  call(server, 'POST', '/v1/platform/card/payment-link', { headers: { authorization: `Bearer ${token}` }, body: { user_id: p.userId, amount: '12.50' } })

/** Mints a link and returns its token (the last path segment of pay_url). */
async function newLink(server: TestServer, p: Payer, token = p.token): Promise<string> {
  const res = await mint(server, p, token)
  expect(res.status, res.text).toBe(201)
  const linkToken = new URL(res.body.data.pay_url).pathname.split('/').pop()!
  made.links.add(linkToken)
  return linkToken
}

/** A token nobody minted (the same shape as a real one); confirmations count it per link too. */
function unknownToken(): string {
  const token = randomBytes(32).toString('base64url')
  made.links.add(token)
  return token
}

const loadPage = (server: TestServer, token: string, ip: string) => call(server, 'GET', `/pay/${token}`, { ip })

/** Loads a link as its frame does (claiming it) and returns the page-session secret. */
async function claim(server: TestServer, token: string, ip: string): Promise<string> {
  const res = await loadPage(server, token, ip)
  expect(res.status, res.text).toBe(200)
  const session = sessionOf(res.text)
  expect(session).toBeTruthy()
  return session!
}

const confirm = (server: TestServer, token: string, ip: string, body: object, session?: string) =>
  call(server, 'POST', `/pay/${token}/confirm`, { ip, headers: session ? { [SESSION_HEADER]: session } : {}, body })
/** Luhn-invalid: refused with 422 after the limits are counted, consuming nothing. */
const BAD_CARD = { card: newCard(NOT_LUHN) }
const GOOD_CARD = { card: newCard(CARDS.visa) }

// ---------------------------------------------------------------------------------------
// The rules, on either backend

interface Backend {
  name: string
  env: Record<string, string>
  /** Whether the window follows the server's clock (memory), so recovery can be checked. */
  clockWindows: boolean
}

/**
 * Redis runs in CI (CI=true) and whenever PAYLINK_TEST_REDIS_URL is set; elsewhere only if a
 * Redis answers on the default address, so `npm test` needs no Redis on a new machine.
 */
const redisReachable = async () => {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 500, retryStrategy: () => null })
  try {
    await probe.connect()
    await probe.ping()
    return true
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}
const useRedis = process.env.CI === 'true' || process.env.PAYLINK_TEST_REDIS_URL !== undefined || (await redisReachable())
if (!useRedis) console.warn('rate-limits: no Redis at', REDIS_URL, '— the Redis half of this suite is skipped (CI always runs it).')

const BACKENDS: Backend[] = [
  { name: 'in memory', env: {}, clockWindows: true },
  ...(useRedis ? [{ name: 'on Redis', env: { REDIS_URL }, clockWindows: false }] : []),
]

let db: Db
beforeAll(async () => {
  db = await openTestDb()
  if (!useRedis) return
  // Start from no counts in this run's logical database: a previous run's windows may still be open.
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 1000)
      if (keys.length) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
})

afterAll(async () => {
  await db?.close()
  // Delete exactly the Redis keys this file's subjects could have made.
  const keys = [
    ...[...made.ips].flatMap((ip) => ['confirm_ip', 'page_ip', 'unknown_token_ip', 'token_ip'].map((rule) => `${rule}:${ip}`)),
    ...[...made.tenants].map((t) => `mint_tenant:${t}`),
    ...[...made.clients].map((c) => `token_client:${c}`),
    ...[...made.links].map((l) => `confirm_link:${createHash('sha256').update(l).digest('base64url').slice(0, 22)}`),
  ].map((k) => REDIS_PREFIX + k)
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500))
  } catch {
    // Redis unreachable: its tests failed already, and nothing was written.
  } finally {
    redis.disconnect()
  }
})

describe.each(BACKENDS)('rate limits $name', ({ env, clockWindows }) => {
  /** Most rules at a tenth of the documented limits; `mintServer` at a hundredth (minting: 6 per tenant). */
  let server: TestServer
  let mintServer: TestServer

  beforeAll(async () => {
    ;[server, mintServer] = await Promise.all([
      startServer({ ...env, RATE_LIMIT_MULTIPLIER: '0.1' }, { db }),
      startServer({ ...env, RATE_LIMIT_MULTIPLIER: '0.01' }, { db }),
    ])
  })

  afterAll(async () => {
    await Promise.all([server?.close(), mintServer?.close()])
  })

  it('minting: 6 per tenant per minute, then 429 with Retry-After; other tenants are not affected', async () => {
    const p = await payer(mintServer)
    for (let i = 0; i < 6; i++) expect((await mint(mintServer, p)).status).toBe(201)
    const refused = await mint(mintServer, p)
    expectLimited(refused, 60)
    // A refused request mints nothing.
    const listed = await call(mintServer, 'GET', '/v1/platform/payment-intents?limit=100', { headers: { authorization: `Bearer ${p.token}` } })
    expect(listed.body.data).toHaveLength(6)

    const other = await payer(mintServer)
    expect((await mint(mintServer, other)).status).toBe(201)

    if (!clockWindows) return
    mintServer.clock.advance(30_000)
    const later = expectLimited(await mint(mintServer, p), 60)
    expect(later).toBeLessThanOrEqual(30)
    mintServer.clock.advance(later * 1000)
    expect((await mint(mintServer, p)).status).toBe(201)
  })

  it('the token endpoint: 3 per client per minute (at 0.1), then 429 in the envelope; another client of the tenant is not affected', async () => {
    const tenant = await tenantOf(server)
    for (let i = 0; i < 3; i++) {
      const res = await tokenRequest(server, tenant)
      expect(res.status, res.text).toBe(200)
      expect(res.body.token_type).toBe('Bearer')
    }
    expectLimited(await tokenRequest(server, tenant), 60)
    // Counted per client id, whatever the address.
    expectLimited(await tokenRequest(server, tenant, newIp()), 60)

    const second = await server.services.tenants.createClient(tenant.tenantId, [...TENANT_SCOPES])
    made.clients.add(second.clientId)
    expect((await tokenRequest(server, { clientId: second.clientId, clientSecret: second.clientSecret })).status).toBe(200)

    if (!clockWindows) return
    server.clock.advance(MINUTE)
    expect((await tokenRequest(server, tenant)).status).toBe(200)
  })

  it('confirmations per IP: 3 per minute (at 0.1), then 429; another IP is not affected', async () => {
    const ip = newIp()
    for (let i = 0; i < 3; i++) expect((await confirm(server, unknownToken(), ip, GOOD_CARD)).status).toBe(404)
    expectLimited(await confirm(server, unknownToken(), ip, GOOD_CARD), 60)
    // The challenge answer is a confirmation too.
    expectLimited(await call(server, 'POST', `/pay/${unknownToken()}/challenge`, { ip, body: { answer: 'approve' } }), 60)
    expect((await confirm(server, unknownToken(), newIp(), GOOD_CARD)).status).toBe(404)

    if (!clockWindows) return
    server.clock.advance(MINUTE)
    expect((await confirm(server, unknownToken(), ip, GOOD_CARD)).status).toBe(404)
  })

  it('confirmations per link: 2 per minute (at 0.1) whatever the IP, then 429; the link still pays after the window', async () => {
    const p = await payer(server)
    const token = await newLink(server, p)
    const session = await claim(server, token, newIp())
    for (let i = 0; i < 2; i++) {
      const res = await confirm(server, token, newIp(), BAD_CARD, session)
      expect(res.status, res.text).toBe(422)
      expect(res.body.error.code).toBe('validation_error')
    }
    // A fresh address: the per-link count refuses it.
    expectLimited(await confirm(server, token, newIp(), GOOD_CARD, session), 60)
    // The refused confirmation charged nothing.
    const intents = await call(server, 'GET', '/v1/platform/payment-intents', { headers: { authorization: `Bearer ${p.token}` } })
    expect(intents.body.data[0]).toMatchObject({ status: 'pending' })

    if (!clockWindows) return
    server.clock.advance(MINUTE)
    const paid = await confirm(server, token, newIp(), GOOD_CARD, session)
    expect(paid.status, paid.text).toBe(200)
    expect(paid.body.data).toMatchObject({ status: 'succeeded' })
  })

  it('/pay loads per IP: 12 per minute (at 0.1), then 429', async () => {
    const p = await payer(server)
    const token = await newLink(server, p)
    const ip = newIp()
    const first = await loadPage(server, token, ip)
    expect(first.status).toBe(200)
    for (let i = 1; i < 12; i++) expect((await loadPage(server, token, ip)).status).toBe(410)
    const refused = await loadPage(server, token, ip)
    expectLimited(refused, 60)
    // The page's headers are on the refusal too.
    expect(refused.headers['cache-control']).toBe('no-store')
    expect((await loadPage(server, token, newIp())).status).toBe(410)

    if (!clockWindows) return
    server.clock.advance(MINUTE)
    expect((await loadPage(server, token, ip)).status).toBe(410)
  })

  it('/pay token guessing: 2 unknown tokens per IP per 10 minutes (at 0.1); after that even a valid link is refused to that IP, without being claimed', async () => {
    const p = await payer(server)
    const ip = newIp()
    for (let i = 0; i < 2; i++) expect((await loadPage(server, unknownToken(), ip)).status).toBe(404)
    const guess = expectLimited(await loadPage(server, unknownToken(), ip), 600)
    expect(guess).toBeGreaterThan(60) // the 10-minute window
    // A real link is refused to the guessing address, and the refusal does not claim it.
    const token = await newLink(server, p)
    expectLimited(await loadPage(server, token, ip), 600)
    await claim(server, token, newIp())
    // Other addresses may still meet unknown tokens.
    expect((await loadPage(server, unknownToken(), newIp())).status).toBe(404)

    if (!clockWindows) return
    server.clock.advance(guess * 1000 - 30_000)
    expectLimited(await loadPage(server, unknownToken(), ip), 30)
    server.clock.advance(30_000)
    const fresh = await newLink(server, p)
    await claim(server, fresh, ip)
    expect((await loadPage(server, unknownToken(), ip)).status).toBe(404)
  })
})

describe.runIf(useRedis)('two servers sharing one Redis share the counts', () => {
  let a: TestServer
  let b: TestServer

  beforeAll(async () => {
    ;[a, b] = await Promise.all([
      startServer({ REDIS_URL, RATE_LIMIT_MULTIPLIER: '0.1' }, { db }),
      startServer({ REDIS_URL, RATE_LIMIT_MULTIPLIER: '0.1' }, { db }),
    ])
  })

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()])
  })

  it('the token endpoint: 2 tokens on one server and 1 on the other use up the client’s 3', async () => {
    const tenant = await tenantOf(a)
    expect((await tokenRequest(a, tenant)).status).toBe(200)
    expect((await tokenRequest(a, tenant)).status).toBe(200)
    expect((await tokenRequest(b, tenant)).status).toBe(200)
    expectLimited(await tokenRequest(b, tenant), 60)
    expectLimited(await tokenRequest(a, tenant), 60)
  })

  it('token guessing: one unknown token on each server uses up the IP’s 2', async () => {
    const ip = newIp()
    expect((await loadPage(a, unknownToken(), ip)).status).toBe(404)
    expect((await loadPage(b, unknownToken(), ip)).status).toBe(404)
    expectLimited(await loadPage(a, unknownToken(), ip), 600)
    expectLimited(await loadPage(b, unknownToken(), ip), 600)
  })

  it('confirmations per link: one failed confirmation on each server uses up the link’s 2', async () => {
    const p = await payer(a)
    const token = await newLink(a, p)
    const session = await claim(a, token, newIp())
    expect((await confirm(a, token, newIp(), BAD_CARD, session)).status).toBe(422)
    expect((await confirm(b, token, newIp(), BAD_CARD, session)).status).toBe(422)
    expectLimited(await confirm(a, token, newIp(), GOOD_CARD, session), 60)
    expectLimited(await confirm(b, token, newIp(), GOOD_CARD, session), 60)
  })

  it('minting per tenant: counts made on either server add up (at 0.1: 60)', async () => {
    const p = await payer(a)
    const onB = await tokenFor(b, p.tenant)
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? mint(b, p, onB) : mint(a, p))))
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(201))
    expectLimited(await mint(a, p), 60)
    expectLimited(await mint(b, p, onB), 60)
  })
})
