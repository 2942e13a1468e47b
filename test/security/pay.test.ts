/**
 * The hosted page under attack (issue 6 item 3; SPEC "Links and payment intents", "The
 * page"): guessing link tokens and page sessions is rate-limited (on a server with
 * RATE_LIMIT_MULTIPLIER 1, the production limits); every /pay answer, errors and refusals
 * included, carries the SPEC's headers; confirm and challenge need the page-session secret
 * of that very link; and a link that is used, failed or expired can never be charged
 * (the sandbox's charges for its intent stay at the count they had).
 */
import type { IncomingHttpHeaders } from 'node:http'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, FRAME, NOT_LUHN, TOP_LEVEL, chargesFor, intentOf, mint, newCard, openLink, pagePost, sessionOf, setupPayer, spaced, startServer, tokenOf, type Payer, type TestServer } from '../helpers/index.js'
import { closeAgent, envelopeProblem, newIp, raw } from './support.js'

const ORIGINS = ['https://shop.example']
let server: TestServer
/** The production limits: RATE_LIMIT_MULTIPLIER 1. */
let strict: TestServer
let payer: Payer
let strictPayer: Payer

const figures = { headerChecks: 0, guesses: 0, refusedGuesses: 0, sessionAttempts: 0, chargeAttempts: 0, chargesMade: 0 }

beforeAll(async () => {
  server = await startServer()
  strict = await startServer({ RATE_LIMIT_MULTIPLIER: '1' }, { db: server.db })
  payer = await setupPayer(server)
  strictPayer = await setupPayer(strict)
})
afterAll(async () => {
  console.log(
    `[security/pay] ${figures.headerChecks} /pay answers checked for the SPEC headers; ${figures.guesses} token and session guesses, ${figures.refusedGuesses} refused with 429; ` +
      `${figures.sessionAttempts} calls without the right page session (all 401); ${figures.chargeAttempts} attempts to charge used, failed or expired links, ${figures.chargesMade} charges made`,
  )
  closeAgent(server)
  closeAgent(strict)
  await strict.close()
  await server.close()
})

const randomToken = () => randomBytes(32).toString('base64url')
const pathOf = (url: string) => new URL(url).pathname

// ---------------------------------------------------------------------------------------
// The SPEC's headers

const SPEC_CSP = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "form-action 'self'", "base-uri 'none'"]

/** What is wrong with a /pay answer's headers; `ancestors` are the frame-ancestors values it may carry. */
function headerProblems(headers: IncomingHttpHeaders | Headers, ancestors: string[]): string[] {
  const get = (h: string) => (headers instanceof Headers ? headers.get(h) : ((headers[h] as string | undefined) ?? null))
  const problems: string[] = []
  const csp = get('content-security-policy')
  if (!csp) problems.push('no Content-Security-Policy')
  else {
    const directives = csp.split(';').map((d) => d.trim())
    for (const d of SPEC_CSP) if (!directives.includes(d)) problems.push(`CSP lacks "${d}"`)
    const fa = directives.find((d) => d.startsWith('frame-ancestors '))
    if (!fa || !ancestors.includes(fa.slice('frame-ancestors '.length))) problems.push(`CSP frame-ancestors is "${fa}"`)
    const other = directives.filter((d) => !SPEC_CSP.includes(d) && d !== fa)
    if (other.length) problems.push(`CSP has more: ${other.join('; ')}`)
  }
  if (get('referrer-policy') !== 'no-referrer') problems.push(`Referrer-Policy ${get('referrer-policy')}`)
  if (get('cache-control') !== 'no-store') problems.push(`Cache-Control ${get('cache-control')}`)
  if (get('x-content-type-options') !== 'nosniff') problems.push(`X-Content-Type-Options ${get('x-content-type-options')}`)
  return problems
}

/** Sends `req` and records any header problem under `what`. */
async function check(target: TestServer, what: string, req: Parameters<typeof raw>[1], ancestors: string[], found: string[]) {
  const res = await raw(target, req)
  figures.headerChecks++
  const problems = headerProblems(res.headers, ancestors)
  if (problems.length) found.push(`${what} (${res.status}): ${problems.join(', ')}`)
  // JSON answers under /pay are in the envelope too.
  if (/^application\/json/.test(String(res.headers['content-type'] ?? '')) && envelopeProblem(res.status, res.json)) found.push(`${what} (${res.status}): not the envelope`)
  return res
}

describe('every /pay answer carries the SPEC headers', () => {
  it('on the page in each state, its calls, its assets, refusals and errors', async () => {
    const found: string[] = []
    const tenant = ORIGINS.join(' ')
    const any = [tenant, "'none'"]
    const json = { 'content-type': 'application/json' }

    const fresh = await mint(payer)
    const ready = await check(server, 'a framed first load', { method: 'GET', path: pathOf(fresh.payUrl), headers: FRAME }, [tenant], found)
    expect(ready.status).toBe(200)
    const session = sessionOf(ready.text)!
    expect(session).toBeDefined()
    // The page itself: no inline script, no script from elsewhere, no inline handlers.
    const scripts = [...ready.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/pay\/assets\/[^"]+"/)
      expect(body!.trim()).toBe('')
    }
    expect(ready.text).not.toMatch(/\son[a-z]+\s*=/i)
    expect(ready.text).not.toMatch(/(src|href)="(https?:)?\/\//i)

    await check(server, 'the same link again (used)', { method: 'GET', path: pathOf(fresh.payUrl), headers: FRAME }, any, found)
    const top = await mint(payer)
    await check(server, 'a top-level navigation', { method: 'GET', path: pathOf(top.payUrl), headers: TOP_LEVEL }, any, found)
    await check(server, 'a script-initiated fetch', { method: 'GET', path: pathOf(top.payUrl), headers: { 'sec-fetch-dest': 'empty' } }, any, found)
    await check(server, 'a prefetch', { method: 'GET', path: pathOf(top.payUrl), headers: { 'sec-purpose': 'prefetch' } }, any, found)
    await check(server, 'a HEAD', { method: 'HEAD', path: pathOf(top.payUrl) }, any, found)
    await check(server, 'an unknown token', { method: 'GET', path: `/pay/${randomToken()}`, headers: FRAME }, any, found)
    await check(server, 'a malformed token', { method: 'GET', path: '/pay/abc', headers: FRAME }, any, found)
    await check(server, 'a token over the schema limit', { method: 'GET', path: `/pay/${'a'.repeat(150)}` }, any, found)
    await check(server, 'a token over the router limit', { method: 'GET', path: `/pay/${'a'.repeat(250)}` }, any, found)
    await check(server, 'bad percent-encoding', { method: 'GET', path: '/pay/%zz' }, any, found)
    await check(server, 'an unknown path under /pay', { method: 'GET', path: `/pay/${tokenOf(top.payUrl)}/nothing` }, any, found)
    await check(server, '/pay itself', { method: 'GET', path: '/pay' }, any, found)
    await check(server, '/pay/', { method: 'GET', path: '/pay/' }, any, found)
    await check(server, 'OPTIONS', { method: 'OPTIONS', path: pathOf(top.payUrl) }, any, found)
    await check(server, 'a POST to the page', { method: 'POST', path: pathOf(top.payUrl), headers: json, body: '{}' }, any, found)

    // The assets: the script and the style the page names, plain and gzipped, and one that does not exist.
    for (const asset of [...ready.text.matchAll(/(?:src|href)="(\/pay\/assets\/[^"]+)"/g)].map((m) => m[1]!)) {
      await check(server, `asset ${asset}`, { method: 'GET', path: asset }, any, found)
      await check(server, `asset ${asset} gzipped`, { method: 'GET', path: asset, headers: { 'accept-encoding': 'gzip' } }, any, found)
    }
    await check(server, 'an unknown asset', { method: 'GET', path: '/pay/assets/nope.js' }, any, found)

    // Confirm and challenge: every kind of refusal, then success.
    const confirmPath = `${pathOf(fresh.payUrl)}/confirm`
    const challengePath = `${pathOf(fresh.payUrl)}/challenge`
    const card = JSON.stringify({ card: newCard(spaced(CARDS.visa)) })
    await check(server, 'confirm without a session', { method: 'POST', path: confirmPath, headers: json, body: card }, any, found)
    await check(server, 'confirm on an unknown link', { method: 'POST', path: `/pay/${randomToken()}/confirm`, headers: { ...json, 'x-paylink-session': session }, body: card }, any, found)
    await check(server, 'confirm with a bad card', { method: 'POST', path: confirmPath, headers: { ...json, 'x-paylink-session': session }, body: JSON.stringify({ card: newCard(spaced(NOT_LUHN)) }) }, any, found)
    await check(server, 'confirm with broken JSON', { method: 'POST', path: confirmPath, headers: { ...json, 'x-paylink-session': session }, body: '{' }, any, found)
    await check(server, 'confirm as text/plain', { method: 'POST', path: confirmPath, headers: { 'content-type': 'text/plain', 'x-paylink-session': session }, body: card }, any, found)
    await check(server, 'confirm with a body over the limit', { method: 'POST', path: confirmPath, headers: { ...json, 'x-paylink-session': session }, body: JSON.stringify({ card: { name: 'x'.repeat(70_000) } }) }, any, found)
    await check(server, 'challenge with nothing to answer', { method: 'POST', path: challengePath, headers: { ...json, 'x-paylink-session': session }, body: '{"answer":"approve"}' }, any, found)
    const paid = await check(server, 'confirm that pays', { method: 'POST', path: confirmPath, headers: { ...json, 'x-paylink-session': session }, body: card }, any, found)
    expect(paid.status).toBe(200)
    await check(server, 'confirm on a paid link', { method: 'POST', path: confirmPath, headers: { ...json, 'x-paylink-session': session }, body: card }, any, found)

    // 3-D Secure: the challenge, then its answer.
    const tds = await openLink(payer)
    const asked = await check(server, 'confirm that asks for 3-D Secure', { method: 'POST', path: `${pathOf(tds.payUrl)}/confirm`, headers: { ...json, 'x-paylink-session': tds.session }, body: JSON.stringify({ card: newCard(CARDS.challenge) }) }, any, found)
    expect(asked.json.data.status).toBe('requires_authentication')
    await check(server, 'the answer to the challenge', { method: 'POST', path: `${pathOf(tds.payUrl)}/challenge`, headers: { ...json, 'x-paylink-session': tds.session }, body: '{"answer":"approve"}' }, any, found)

    // An expired link, as the page and as a confirm.
    const expiring = await openLink(payer)
    const unopened = await mint(payer)
    try {
      server.clock.advance((server.config.linkTtlSeconds + 1) * 1000)
      await check(server, 'an expired link', { method: 'GET', path: pathOf(unopened.payUrl), headers: FRAME }, any, found)
      await check(server, 'confirm on an expired link', { method: 'POST', path: `${pathOf(expiring.payUrl)}/confirm`, headers: { ...json, 'x-paylink-session': expiring.session }, body: card }, any, found)
    } finally {
      server.clock.reset()
    }

    // The refusals of the production limits (429), page and confirm.
    const ip = newIp()
    for (let i = 0; i < 21; i++) await raw(strict, { method: 'GET', path: `/pay/${randomToken()}`, ip })
    await check(strict, 'a page load refused for guessing (429)', { method: 'GET', path: `/pay/${randomToken()}`, ip }, any, found)
    for (let i = 0; i < 30; i++) await raw(strict, { method: 'POST', path: `/pay/${randomToken()}/confirm`, ip, headers: json, body: card })
    await check(strict, 'a confirm refused for guessing (429)', { method: 'POST', path: `/pay/${randomToken()}/confirm`, ip, headers: json, body: card }, any, found)

    expect(found).toEqual([])
  })
})

describe('guessing is rate-limited (RATE_LIMIT_MULTIPLIER 1)', () => {
  const expectLimited = (res: { status: number; headers: IncomingHttpHeaders; json: any }) => {
    expect(res.status).toBe(429)
    expect(res.json).toMatchObject({ success: false, data: null, error: { code: 'rate_limited' } })
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    figures.refusedGuesses++
  }

  it('link tokens: 20 unknown tokens per IP per 10 minutes, then 429; a real link is then refused to that IP without being claimed', async () => {
    const ip = newIp()
    // Well-formed random tokens and malformed ones count alike.
    for (let i = 0; i < 20; i++) {
      const res = await raw(strict, { method: 'GET', path: `/pay/${i % 4 ? randomToken() : `guess${i}`}`, headers: FRAME, ip })
      figures.guesses++
      expect(res.status).toBe(404)
    }
    const refused = await raw(strict, { method: 'GET', path: `/pay/${randomToken()}`, headers: FRAME, ip })
    figures.guesses++
    expectLimited(refused)
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(60)
    // Even a real link is refused to the guessing address, and stays unclaimed for its user.
    const real = await mint(strictPayer)
    const blocked = await raw(strict, { method: 'GET', path: pathOf(real.payUrl), headers: FRAME, ip })
    expectLimited(blocked)
    expect(blocked.text).not.toContain('data-session')
    const elsewhere = await raw(strict, { method: 'GET', path: pathOf(real.payUrl), headers: FRAME, ip: newIp() })
    expect(elsewhere.status).toBe(200)
    expect(sessionOf(elsewhere.text)).toBeDefined()
  })

  it('link tokens through confirm and challenge: 30 calls per IP per minute, then 429', async () => {
    const ip = newIp()
    const card = JSON.stringify({ card: newCard(spaced(CARDS.visa)) })
    for (let i = 0; i < 30; i++) {
      const challenge = i % 2 === 1
      const res = await raw(strict, {
        method: 'POST',
        path: `/pay/${randomToken()}/${challenge ? 'challenge' : 'confirm'}`,
        headers: { 'content-type': 'application/json', 'x-paylink-session': randomToken() },
        body: challenge ? '{"answer":"approve"}' : card,
        ip,
      })
      figures.guesses++
      expect(res.status).toBe(404)
    }
    figures.guesses++
    expectLimited(await raw(strict, { method: 'POST', path: `/pay/${randomToken()}/confirm`, headers: { 'content-type': 'application/json' }, body: card, ip }))
  })

  it('page sessions: 20 wrong sessions per link per minute from any address, then 429 even with the right one; the link pays after the window', async () => {
    const link = await openLink(strictPayer)
    const card = JSON.stringify({ card: newCard(spaced(CARDS.visa)) })
    for (let i = 0; i < 20; i++) {
      const res = await raw(strict, { method: 'POST', path: `${pathOf(link.payUrl)}/confirm`, headers: { 'content-type': 'application/json', 'x-paylink-session': randomToken() }, body: card, ip: newIp() })
      figures.guesses++
      figures.sessionAttempts++
      expect(res.status).toBe(401)
    }
    expectLimited(await raw(strict, { method: 'POST', path: `${pathOf(link.payUrl)}/confirm`, headers: { 'content-type': 'application/json', 'x-paylink-session': link.session }, body: card, ip: newIp() }))
    expect(await chargesFor(strict, link.intentId)).toBe(0)
    try {
      strict.clock.advance(61_000)
      const paid = await raw(strict, { method: 'POST', path: `${pathOf(link.payUrl)}/confirm`, headers: { 'content-type': 'application/json', 'x-paylink-session': link.session }, body: card, ip: newIp() })
      expect(paid.status).toBe(200)
      expect(paid.json.data.status).toBe('succeeded')
    } finally {
      strict.clock.reset()
    }
    expect(await chargesFor(strict, link.intentId)).toBe(1)
  })
})

describe('the page-session secret is required', () => {
  it("refuses confirm and challenge without the link's own session (401), charges nothing, and then pays with it", async () => {
    const link = await openLink(payer)
    const other = await openLink(payer)
    const card = { card: newCard(spaced(CARDS.visa)) }
    const attempts: Array<[string, Record<string, string> | undefined, string?]> = [
      ['no session', undefined],
      ['an empty session', { 'x-paylink-session': '' }],
      ['a random session', { 'x-paylink-session': randomToken() }],
      ["another link's session", { 'x-paylink-session': other.session }],
      ['the session in upper case', { 'x-paylink-session': link.session.toUpperCase() }],
      ['the session cut short', { 'x-paylink-session': link.session.slice(0, -1) }],
      ['the session with one more character', { 'x-paylink-session': `${link.session}A` }],
      ['the link token as the session', { 'x-paylink-session': link.token }],
      ['the session as a cookie', { cookie: `paylink_session=${link.session}; x-paylink-session=${link.session}` }],
      ['the session as a bearer token', { authorization: `Bearer ${link.session}` }],
      ['the session in the query', undefined, `?session=${link.session}&x-paylink-session=${link.session}`],
    ]
    const failures: string[] = []
    for (const what of ['confirm', 'challenge'] as const) {
      const body = JSON.stringify(what === 'confirm' ? card : { answer: 'approve' })
      for (const [name, headers, query] of attempts) {
        const res = await fetch(`${link.payUrl}/${what}${query ?? ''}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
        const code = ((await res.json()) as any).error?.code
        figures.sessionAttempts++
        if (res.status !== 401 || code !== 'unauthorized') failures.push(`${what} with ${name} → ${res.status} ${code}`)
      }
    }
    // In the body it is an unknown field.
    const inBody = await pagePost(link.payUrl, 'confirm', undefined, { ...card, session: link.session })
    expect(inBody.status).toBe(422)
    expect(failures).toEqual([])
    expect(await chargesFor(server, link.intentId)).toBe(0)
    expect((await intentOf(payer, link.intentId)).status).toBe('pending')

    const paid = await pagePost(link.payUrl, 'confirm', link.session, card)
    expect(paid.status).toBe(200)
    expect(paid.body.data.status).toBe('succeeded')
    expect(await chargesFor(server, link.intentId)).toBe(1)
  })

  it('has no session to give for a link not opened in a frame: confirm on it is refused and does not claim it', async () => {
    const link = await mint(payer)
    await fetch(link.payUrl, { headers: TOP_LEVEL })
    await fetch(link.payUrl, { headers: { 'sec-purpose': 'prefetch' } })
    await fetch(link.payUrl, { method: 'HEAD' })
    for (const session of [undefined, randomToken()]) {
      const res = await pagePost(link.payUrl, 'confirm', session, { card: newCard(spaced(CARDS.visa)) })
      figures.sessionAttempts++
      expect(res.status).toBe(401)
    }
    expect(await chargesFor(server, link.intentId)).toBe(0)
    // Still the user's to open and pay.
    const html = await (await fetch(link.payUrl, { headers: FRAME })).text()
    expect(sessionOf(html)).toBeDefined()
  })
})

describe('a used or expired link can never be charged', () => {
  const card = (number = spaced(CARDS.visa)) => ({ card: newCard(number) })

  /** Every way to try to charge `link` again; each must fail, and the charge count must not move. */
  async function tryToCharge(link: { payUrl: string; session: string; intentId: string }, savedCardId?: string) {
    const before = await chargesFor(server, link.intentId)
    const answers = [
      await pagePost(link.payUrl, 'confirm', link.session, card()),
      await pagePost(link.payUrl, 'confirm', link.session, card(spaced(CARDS.mastercard))),
      await pagePost(link.payUrl, 'confirm', link.session, card(spaced(CARDS.amex))),
      ...(savedCardId ? [await pagePost(link.payUrl, 'confirm', link.session, { saved_card_id: savedCardId })] : []),
      await pagePost(link.payUrl, 'challenge', link.session, { answer: 'approve' }),
      await pagePost(link.payUrl, 'confirm', randomToken(), card()),
    ]
    // Reloading the page gives no new session.
    const reload = await fetch(link.payUrl, { headers: FRAME })
    expect(reload.status).toBe(410)
    expect(sessionOf(await reload.text())).toBeUndefined()
    figures.chargeAttempts += answers.length
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.body)).toBeGreaterThanOrEqual(400)
      expect(a.status).toBeLessThan(500)
      expect(envelopeProblem(a.status, a.body)).toBeUndefined()
    }
    const after = await chargesFor(server, link.intentId)
    figures.chargesMade += after - before
    expect(after).toBe(before)
    return answers
  }

  it('once it has succeeded (409), with a saved card too', async () => {
    const link = await openLink(payer)
    const paid = await pagePost(link.payUrl, 'confirm', link.session, { ...card(), save_card: true })
    expect(paid.body.data.status).toBe('succeeded')
    const answers = await tryToCharge(link, paid.body.data.saved_card_id)
    expect(answers[0]!.status).toBe(409)
    expect(await chargesFor(server, link.intentId)).toBe(1)
    expect((await intentOf(payer, link.intentId)).status).toBe('succeeded')
  })

  it('once it has failed (409): a declined card cannot be followed by a good one', async () => {
    const link = await openLink(payer)
    const declined = await pagePost(link.payUrl, 'confirm', link.session, card(spaced(CARDS.declined)))
    expect(declined.body.data).toMatchObject({ status: 'failed', failure_code: 'card_declined' })
    expect((await tryToCharge(link))[0]!.status).toBe(409)
    expect((await intentOf(payer, link.intentId)).status).toBe('failed')
  })

  it('once it has expired after being opened (410 link_expired), and when it expired before anyone opened it', async () => {
    const opened = await openLink(payer)
    const unopened = await mint(payer)
    try {
      server.clock.advance((server.config.linkTtlSeconds + 1) * 1000)
      const answers = await tryToCharge(opened)
      expect(answers[0]!.status).toBe(410)
      expect(answers[0]!.body.error.code).toBe('link_expired')
      const page = await fetch(unopened.payUrl, { headers: FRAME })
      expect(page.status).toBe(410)
      expect(sessionOf(await page.text())).toBeUndefined()
      figures.chargeAttempts++
      expect((await pagePost(unopened.payUrl, 'confirm', randomToken(), card())).status).toBe(401)
    } finally {
      server.clock.reset()
    }
    expect(await chargesFor(server, opened.intentId)).toBe(0)
    expect(await chargesFor(server, unopened.intentId)).toBe(0)
    expect(await intentOf(payer, opened.intentId)).toMatchObject({ status: 'failed', failure_code: 'link_expired' })
    expect(await intentOf(payer, unopened.intentId)).toMatchObject({ status: 'failed', failure_code: 'link_expired' })
  })

  it('when a 3-D Secure challenge is approved only after the link expired: it fails, and the charge never succeeds', async () => {
    const link = await openLink(payer)
    const asked = await pagePost(link.payUrl, 'confirm', link.session, card(spaced(CARDS.challenge)))
    expect(asked.body.data.status).toBe('requires_authentication')
    try {
      server.clock.advance((server.config.linkTtlSeconds + 1) * 1000)
      figures.chargeAttempts++
      const late = await pagePost(link.payUrl, 'challenge', link.session, { answer: 'approve' })
      expect(late.body.data).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' })
    } finally {
      server.clock.reset()
    }
    const rows = await server.db.query<{ status: string }>('SELECT status FROM sandbox_charges WHERE idempotency_key = $1', [link.intentId])
    expect(rows.map((r) => r.status)).toEqual(['failed'])
    await tryToCharge(link)
  })

  it('when 20 confirms race on one link: one charge', async () => {
    const link = await openLink(payer)
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => pagePost(link.payUrl, 'confirm', link.session, card(i % 2 ? spaced(CARDS.visa) : spaced(CARDS.mastercard)))))
    figures.chargeAttempts += answers.length - 1
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    expect(answers.filter((a) => a.status !== 200).every((a) => a.status === 409)).toBe(true)
    expect(await chargesFor(server, link.intentId)).toBe(1)
  })
})
