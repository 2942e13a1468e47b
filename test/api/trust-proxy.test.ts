/**
 * TRUST_PROXY (SPEC "Configuration"; issue 13 item 1): behind a trusted load balancer the
 * per-IP limits and the logs see the visitor's address from X-Forwarded-For; without it the
 * header is ignored, so a spoofed one escapes nothing. The documented limits apply
 * (RATE_LIMIT_MULTIPLIER 1: 20 unknown tokens per IP per 10 minutes); every request comes
 * from 127.0.0.1, as from one load balancer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { FRAME, mint, openTestDb, setupPayer, startServer, type TestServer } from '../helpers/index.js'
import type { Db } from '../../src/storage/db.js'

let db: Db
let trusted: TestServer
let untrusted: TestServer
const logs: string[] = []
beforeAll(async () => {
  db = await openTestDb()
  trusted = await startServer({ RATE_LIMIT_MULTIPLIER: '1', TRUST_PROXY: '127.0.0.1/32, ::1', LOG_LEVEL: 'info' }, { db, logs })
  untrusted = await startServer({ RATE_LIMIT_MULTIPLIER: '1' }, { db })
})
afterAll(async () => {
  await trusted?.close()
  await untrusted?.close()
  await db?.close()
})

let n = 0
const visitor = () => `203.0.113.${++n}`
const unknownToken = () => `${'g'.repeat(30)}${String(++n).padStart(13, '0')}`
const load = (server: TestServer, path: string, forwardedFor: string) => fetch(`${server.baseUrl}${path}`, { headers: { ...FRAME, 'x-forwarded-for': forwardedFor } })

describe('behind a trusted proxy', () => {
  it('limits the visitor who guesses tokens, not everyone behind the load balancer', async () => {
    const guesser = visitor()
    const statuses = []
    for (let i = 0; i < 25; i++) statuses.push((await load(trusted, `/pay/${unknownToken()}`, guesser)).status)
    expect(statuses.slice(0, 20).every((s) => s === 404)).toBe(true)
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true)

    const payer = await setupPayer(trusted)
    const link = await mint(payer)
    const page = await load(trusted, new URL(link.payUrl).pathname, `${visitor()}, 10.0.0.7`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('data-session=')
    // The guesser stays limited, from a valid link too.
    expect((await load(trusted, new URL((await mint(payer)).payUrl).pathname, guesser)).status).toBe(429)
  })

  it('logs the visitor’s address', async () => {
    const who = visitor()
    await load(trusted, `/pay/${unknownToken()}`, who)
    expect(logs.some((l) => l.includes(`"ip":"${who}"`))).toBe(true)
  })
})

describe('without TRUST_PROXY', () => {
  it('ignores X-Forwarded-For: a spoofed header does not escape the limit', async () => {
    const statuses = []
    for (let i = 0; i < 25; i++) statuses.push((await load(untrusted, `/pay/${unknownToken()}`, visitor())).status)
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5)
    const payer = await setupPayer(untrusted)
    expect((await load(untrusted, new URL((await mint(payer)).payUrl).pathname, visitor())).status).toBe(429)
  })
})

describe('TRUST_PROXY is checked at start', () => {
  it.each([['true'], ['10.0.0.0/33'], ['proxy.internal'], ['0'], ['11']])('refuses %s with one clear line', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(ConfigError)
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/)
  })

  it.each([
    ['', false],
    ['off', false],
    ['2', 2],
    ['10.0.0.0/8,fd00::/8, loopback', ['10.0.0.0/8', 'fd00::/8', 'loopback']],
  ])('reads %j', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(expected)
  })
})
