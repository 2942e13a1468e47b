/**
 * The hosted page through real HTTP: GET /pay/{token} (the used-once rule, top-level
 * navigation, prefetch, expiry, unknown tokens), the headers of every /pay response, what
 * the page shows, and POST /pay/{token}/confirm and /challenge against the sandbox.
 * SPEC sections "Links and payment intents", "The page", "Sandbox test cards", "Processor
 * interface"; issue 3 items 1–4. Saved cards and the no-card-data search: saved-cards.test.ts.
 * What only a browser can show (scripts running, postMessage, framing refused) is in test/browser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CARDS,
  EXP_YEAR,
  FRAME,
  NOT_LUHN,
  TOP_LEVEL,
  answerChallenge,
  chargesFor,
  confirm,
  intentOf,
  loadPage,
  mint,
  newCard,
  openLink,
  sessionOf,
  setupPayer,
  spaced,
  startServer,
  type OpenLink,
  type TenantOptions,
  type TestServer,
} from '../helpers/index.js'

let server: TestServer
let shop: Shop
beforeAll(async () => {
  server = await startServer()
  shop = await openShop()
})
afterAll(() => server.close())

const ORIGINS = ['https://shop.example', 'https://checkout.shop.example']

type Shop = Awaited<ReturnType<typeof openShop>>
let shops = 0

/** A tenant as the CLI makes it (name, framing origins, top-level use), with a token, a user and an approved sandbox account. */
async function openShop(opts: TenantOptions = {}) {
  const name = opts.name ?? `Corner Shop ${++shops}`
  return { name, ...(await setupPayer(server, { origins: ORIGINS, ...opts, name })) }
}

/** A confirm's body with a new card (see newCard). */
const card = (number: string, extra: Record<string, unknown> = {}) => ({ card: newCard(number, extra) })

// --- reading HTML the way the page is written: double-quoted attributes, escaped text ---
const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
const attrsOf = (s: string): Record<string, string> => Object.fromEntries([...s.matchAll(/([\w:-]+)(?:="([^"]*)")?/g)].map((m) => [m[1]!.toLowerCase(), unescape(m[2] ?? '')]))
const tags = (html: string, tag: string) => [...html.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'gi'))].map((m) => attrsOf(m[1]!))
const byId = (html: string, id: string) => [...html.matchAll(/<(\w+)\b([^>]*)>/g)].map((m): Record<string, string> => ({ tag: m[1]!, ...attrsOf(m[2]!) })).find((a) => a.id === id)
const innerText = (html: string, id: string) => unescape(new RegExp(`<(\\w+)\\b[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html)?.[2]?.replace(/<[^>]*>/g, '') ?? '').trim()
const labelFor = (html: string, id: string) => unescape(new RegExp(`<label for="${id}">([\\s\\S]*?)</label>`).exec(html)?.[1]?.replace(/<[^>]*>/g, '') ?? '').replace(/\s+/g, ' ').trim()
/** The words on the page (hidden screens included), entities decoded, spaces collapsed. */
const textOf = (html: string) => unescape(html.replace(/<[^>]*>/g, ' ')).replace(/[\s\u00a0\u202f]+/g, ' ')
const spaces = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ')

const csp = (ancestors: string) =>
  `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors ${ancestors}`

/** The SPEC's /pay headers; `frameAncestors` lists the values this response may carry. */
function expectPayHeaders(headers: Headers, ...frameAncestors: string[]) {
  expect(frameAncestors.map(csp)).toContain(headers.get('content-security-policy'))
  expect(headers.get('referrer-policy')).toBe('no-referrer')
  expect(headers.get('cache-control')).toBe('no-store')
  expect(headers.get('x-content-type-options')).toBe('nosniff')
}

describe('GET /pay/{token}: the first framed load claims the link', () => {
  it('renders the payment page (200) holding a fresh page-session secret', async () => {
    const first = await openLink(shop)
    const second = await openLink(shop)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toMatch(/^text\/html/)
    expect(first.session).toMatch(/^[A-Za-z0-9_-]{43,}$/)
    expect(second.session).toMatch(/^[A-Za-z0-9_-]{43,}$/)
    expect(second.session).not.toBe(first.session)
    expect(textOf(first.html)).toContain(`Pay ${shop.name}`)
  })

  it('answers every later load of that URL with the "already used" page (410), with no session', async () => {
    const { payUrl, intentId } = await openLink(shop)
    for (const headers of [FRAME, FRAME, TOP_LEVEL]) {
      const again = await loadPage(payUrl, headers)
      expect(again.status).toBe(410)
      expect(textOf(again.html)).toContain('This payment link was already used')
      expect(sessionOf(again.html)).toBeUndefined()
      expect(byId(again.html, 'pay-form')).toBeUndefined()
    }
    expect((await intentOf(shop, intentId)).status).toBe('pending')
  })

  it('shows "already used" once the link is paid', async () => {
    const { payUrl, session } = await openLink(shop)
    expect((await confirm(payUrl, session, card(spaced(CARDS.visa)))).status).toBe(200)
    const again = await loadPage(payUrl)
    expect(again.status).toBe(410)
    expect(textOf(again.html)).toContain('This payment link was already used')
  })
})

describe('GET /pay/{token}: a top-level navigation', () => {
  it('gets a page explaining the payment opens inside the shop, and does not claim the link', async () => {
    const { payUrl, intentId } = await mint(shop)
    const top = await loadPage(payUrl, TOP_LEVEL)
    expect(top.status).toBe(200)
    expect(textOf(top.html)).toContain('Open this payment from the shop')
    expect(sessionOf(top.html)).toBeUndefined()
    expect(byId(top.html, 'pay-form')).toBeUndefined()
    expectPayHeaders(top.headers, ORIGINS.join(' '))

    const framed = await loadPage(payUrl)
    expect(framed.status).toBe(200)
    expect(sessionOf(framed.html)).toBeDefined()
    const paid = await confirm(payUrl, sessionOf(framed.html), card(spaced(CARDS.visa)))
    expect(paid.body.data).toMatchObject({ payment_intent_id: intentId, status: 'succeeded' })
  })

  it('claims the link and renders the page when the tenant allows top-level use', async () => {
    const open = await openShop({ allowTopLevel: true })
    const { payUrl, intentId } = await mint(open)
    const top = await loadPage(payUrl, TOP_LEVEL)
    expect(top.status).toBe(200)
    const session = sessionOf(top.html)
    expect(session).toMatch(/^[A-Za-z0-9_-]{43,}$/)
    expect(byId(top.html, 'pay-form')).toBeDefined()
    expect((await loadPage(payUrl, FRAME)).status).toBe(410)
    expect((await loadPage(payUrl, TOP_LEVEL)).status).toBe(410)
    const paid = await confirm(payUrl, session, card(spaced(CARDS.visa)))
    expect(paid.body.data).toMatchObject({ payment_intent_id: intentId, status: 'succeeded' })
  })
})

describe('GET /pay/{token}: a prefetch never claims the link', () => {
  it.each<{ how: string; headers: Record<string, string> }>([
    { how: 'Sec-Purpose: prefetch', headers: { 'sec-purpose': 'prefetch' } },
    { how: 'Sec-Purpose: prefetch;prerender in a frame', headers: { 'sec-purpose': 'prefetch;prerender', ...FRAME } },
    { how: 'Purpose: prefetch (older browsers)', headers: { purpose: 'prefetch', ...FRAME } },
  ])('$how gets 204 with no body, and the framed load still works', async ({ headers }) => {
    const { payUrl } = await mint(shop)
    const pre = await loadPage(payUrl, headers)
    expect(pre.status).toBe(204)
    expect(pre.html).toBe('')
    expectPayHeaders(pre.headers, ORIGINS.join(' '))
    const framed = await loadPage(payUrl)
    expect(framed.status).toBe(200)
    expect(sessionOf(framed.html)).toBeDefined()
  })
})

describe('GET /pay/{token}: an unknown token', () => {
  it('is a "not found" page (404) that reveals nothing', async () => {
    const { payUrl, token: realToken } = await mint(shop)
    const lookalike = realToken.slice(0, -1) + (realToken.endsWith('A') ? 'B' : 'A')
    // Made up, one character off, too short, too long, and the real one with a full stop or a zero-width space stuck to it.
    const tokens = ['x'.repeat(43), lookalike, 'abc', 'A'.repeat(99), `${realToken}.`, `${realToken}%E2%80%8B`]
    const pages = await Promise.all(tokens.map((t) => loadPage(`${server.baseUrl}/pay/${t}`)))
    for (const page of pages) {
      expect(page.status).toBe(404)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      expect(textOf(page.html)).toContain('Payment link not found')
      expect(page.html).not.toContain(shop.name)
      expect(page.html).not.toContain('pi_')
      expect(page.html).not.toContain('shop.example')
      expect(page.html).not.toContain(realToken)
      expect(sessionOf(page.html)).toBeUndefined()
      expectPayHeaders(page.headers, "'none'")
      // The same page whatever was asked: nothing about any token, real or not.
      expect(page.html).toBe(pages[0]!.html)
    }
    expect((await loadPage(payUrl)).status).toBe(200)
  })
})

describe('every /pay response carries the SPEC headers, frame-ancestors from the tenant', () => {
  const theirs = ORIGINS.join(' ')

  it('on the page, the "already used" page, and the top-level explanation', async () => {
    const { payUrl, headers } = await openLink(shop)
    expectPayHeaders(headers, theirs)
    expectPayHeaders((await loadPage(payUrl)).headers, theirs)
    const other = await mint(shop)
    expectPayHeaders((await loadPage(other.payUrl, TOP_LEVEL)).headers, theirs)
  })

  it("uses each tenant's own list", async () => {
    const solo = await openShop({ origins: ['https://solo.example:8443'] })
    const { headers } = await openLink(solo)
    expectPayHeaders(headers, 'https://solo.example:8443')
  })

  it('on confirm and challenge answers, their errors, and the assets', async () => {
    // A JSON answer or an asset is never a framed document: the tenant's list or 'none' both keep other sites out.
    const { payUrl, session, html } = await openLink(shop)
    const json = [
      await confirm(payUrl, undefined, card(spaced(CARDS.visa))),
      await confirm(payUrl, session, card(spaced(NOT_LUHN))),
      await answerChallenge(payUrl, session, 'approve'),
      await confirm(payUrl, session, card(spaced(CARDS.challenge))),
      await answerChallenge(payUrl, session, 'approve'),
      await confirm(payUrl, session, card(spaced(CARDS.visa))),
    ]
    expect(json.map((r) => r.status)).toEqual([401, 422, 409, 200, 200, 409])
    for (const r of json) expectPayHeaders(r.headers, theirs, "'none'")
    const assets = [...tags(html, 'script').map((s) => s.src!), ...tags(html, 'link').map((l) => l.href!)]
    expect(assets).toHaveLength(2)
    for (const path of [...assets, '/pay/assets/nothing.js']) expectPayHeaders((await fetch(server.baseUrl + path)).headers, theirs, "'none'")
  })
})

describe('the page: no inline or third-party script, and what it shows', () => {
  it('sends the page gzip-compressed to a browser that takes it', async () => {
    const link = await mint(shop)
    const r = await fetch(link.payUrl, { headers: { ...FRAME, 'accept-encoding': 'gzip' } })
    expect(r.status).toBe(200)
    expect(r.headers.get('content-encoding')).toBe('gzip')
    expect(r.headers.get('vary')).toContain('accept-encoding')
    expect(await r.text()).toContain('data-session=')
  })

  it('answers the browser’s /favicon.ico (no 404 in the console)', async () => {
    const r = await fetch(`${server.baseUrl}/favicon.ico`)
    expect(r.status).toBe(204)
    expect(r.headers.get('cache-control')).toBe('public, max-age=86400')
  })

  it('loads its one script from /pay/assets/, served as JavaScript, and nothing from elsewhere', async () => {
    const { html } = await openLink(shop)
    const scripts = tags(html, 'script')
    expect(scripts).toHaveLength(1)
    expect(scripts[0]!.src).toMatch(/^\/pay\/assets\/[\w.-]+\.js$/)
    expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/i)
    expect(html).not.toMatch(/<style\b|\sstyle="|\son\w+="|javascript:/i)
    const js = await fetch(server.baseUrl + scripts[0]!.src)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toMatch(/^(text|application)\/javascript\b/)
    expect((await js.text()).length).toBeGreaterThan(100)
    const [style] = tags(html, 'link').filter((l) => l.rel === 'stylesheet')
    expect(style!.href).toMatch(/^\/pay\/assets\/[\w.-]+\.css$/)
    expect((await fetch(server.baseUrl + style!.href)).headers.get('content-type')).toMatch(/^text\/css\b/)
    // Every URL the page loads or posts to is our own; the only absolute URLs are the tenant's origins it may talk to.
    for (const [, value] of html.matchAll(/\s(?:src|href|action|formaction)="([^"]*)"/g)) expect(value).toMatch(/^\/(?!\/)/)
    const withoutOrigins = html.replace(/data-origins="[^"]*"/, '')
    expect(withoutOrigins).not.toMatch(/https?:|\/\//)
  })

  it('shows the tenant name escaped, the amount, the card fields and an unchecked "Save card for future use"', async () => {
    const fancy = await openShop({ name: `Zoë's "Café" & <b>Bar</b>` })
    const { html } = await openLink(fancy)
    expect(html).not.toContain('<b>Bar</b>')
    expect(innerText(html, 'title-ready')).toBe(`Pay Zoë's "Café" & <b>Bar</b>`)
    expect(innerText(html, 'amount')).toBe('$12.50')
    expect(innerText(html, 'pay-button')).toBe('Pay $12.50')
    for (const [id, autocomplete, label] of [
      ['cc-number', 'cc-number', 'Card number'],
      ['cc-exp', 'cc-exp', 'Expiry date (MM / YY)'],
      ['cc-csc', 'cc-csc', 'Security code'],
    ]) {
      expect(byId(html, id!)).toMatchObject({ tag: 'input', autocomplete, inputmode: 'numeric' })
      expect(labelFor(html, id!)).toBe(label)
    }
    expect(byId(html, 'cc-name')).toMatchObject({ tag: 'input', autocomplete: 'cc-name' })
    expect(labelFor(html, 'cc-name')).toBe('Name on card')
    const save = byId(html, 'save-card')
    expect(save).toMatchObject({ tag: 'input', type: 'checkbox' })
    expect(save).not.toHaveProperty('checked')
    expect(labelFor(html, 'save-card')).toBe('Save card for future use')
    expect(tags(html, 'input').filter((i) => i.name === 'source')).toEqual([])
  })

  it.each([
    { acceptLanguage: undefined, lang: 'en', amount: '$12.50', pay: 'Pay $12.50' },
    { acceptLanguage: 'en-US,en;q=0.9', lang: 'en', amount: '$12.50', pay: 'Pay $12.50' },
    { acceptLanguage: 'de-DE,de;q=0.9,en;q=0.8', lang: 'de', amount: '12,50 $', pay: '12,50 $ bezahlen' },
    { acceptLanguage: 'fr-FR,fr;q=0.9', lang: 'fr', amount: '12,50 $US', pay: 'Payer 12,50 $US' },
    { acceptLanguage: 'es-ES,es;q=0.9', lang: 'es', amount: '12,50 US$', pay: 'Pagar 12,50 US$' },
    { acceptLanguage: 'ja-JP, de;q=0.5, fr;q=0.7', lang: 'fr', amount: '12,50 $US', pay: 'Payer 12,50 $US' },
    { acceptLanguage: 'ja-JP', lang: 'en', amount: '$12.50', pay: 'Pay $12.50' },
  ])('formats the amount for Accept-Language $acceptLanguage: $amount', async ({ acceptLanguage, lang, amount, pay }) => {
    const { payUrl } = await mint(shop, { amount: '12.5' })
    const page = await loadPage(payUrl, { ...FRAME, ...(acceptLanguage ? { 'accept-language': acceptLanguage } : {}) })
    expect(page.status).toBe(200)
    expect(/<html lang="(\w+)"/.exec(page.html)?.[1]).toBe(lang)
    expect(spaces(innerText(page.html, 'amount'))).toBe(amount)
    expect(spaces(innerText(page.html, 'pay-button'))).toBe(pay)
  })

  it('formats other currencies too', async () => {
    const { payUrl } = await mint(shop, { amount: '9', currency: 'EUR' })
    const de = await loadPage(payUrl, { ...FRAME, 'accept-language': 'de' })
    expect(spaces(innerText(de.html, 'amount'))).toBe('9,00 €')
  })
})

describe('POST /pay/{token}/confirm needs the page-session secret', () => {
  it.each([
    { what: 'no session header', session: () => undefined },
    { what: 'a wrong secret', session: () => 'A'.repeat(43) },
    { what: "another link's secret", session: async () => (await openLink(shop)).session },
  ])('refuses $what with 401 and charges nothing', async ({ session }) => {
    const { payUrl, intentId, session: right } = await openLink(shop)
    const r = await confirm(payUrl, await session(), card(spaced(CARDS.visa)))
    expect(r.status).toBe(401)
    expect(r.body.error.code).toBe('unauthorized')
    expect(await chargesFor(server, intentId)).toBe(0)
    expect((await intentOf(shop, intentId)).status).toBe('pending')
    expect((await confirm(payUrl, right, card(spaced(CARDS.visa)))).body.data.status).toBe('succeeded')
  })

  it('refuses a confirm on a link that was never opened in its frame', async () => {
    const { payUrl, intentId } = await mint(shop)
    await loadPage(payUrl, TOP_LEVEL)
    expect((await confirm(payUrl, 'A'.repeat(43), card(spaced(CARDS.visa)))).status).toBe(401)
    expect(await chargesFor(server, intentId)).toBe(0)
  })
})

describe('POST /pay/{token}/confirm checks card fields first; a bad field is a 422 that consumes nothing', () => {
  const thisYear = new Date().getUTCFullYear()
  it('names each bad field, then accepts a good card on the same link', async () => {
    const { payUrl, session, intentId } = await openLink(shop)
    const bad: [unknown, string][] = [
      [card(spaced(NOT_LUHN)), 'card.number'],
      [card('1234'), 'card.number'],
      [card(spaced(CARDS.visa), { exp_year: thisYear - 1 }), 'card.exp_year'],
      [card(spaced(CARDS.visa), { exp_month: 13 }), 'card.exp_month'],
      [card(spaced(CARDS.visa), { cvc: '12' }), 'card.cvc'],
      [card(spaced(CARDS.visa), { cvc: '1234' }), 'card.cvc'],
      [card(spaced(CARDS.visa), { cvc: '12a' }), 'card.cvc'],
      [card(spaced(CARDS.amex), { cvc: '123' }), 'card.cvc'],
    ]
    for (const [body, field] of bad) {
      const r = await confirm(payUrl, session, body)
      expect(r.status, JSON.stringify(body)).toBe(422)
      expect(r.body.error.code).toBe('validation_error')
      expect(r.body.error.details.map((d: { field: string }) => d.field)).toEqual([field])
    }
    expect(await chargesFor(server, intentId)).toBe(0)
    expect((await intentOf(shop, intentId)).status).toBe('pending')
    const good = await confirm(payUrl, session, card(spaced(CARDS.amex), { cvc: '1234' }))
    expect(good.body.data).toMatchObject({ status: 'succeeded', card: { brand: 'amex', last4: '0005' } })
  })

  it('refuses a body that is not JSON with 415, for confirm and challenge alike, consuming nothing', async () => {
    const { payUrl, session, intentId } = await openLink(shop)
    const bodies: [string, string][] = [
      ['text/plain', JSON.stringify(card(spaced(CARDS.visa)))],
      ['application/x-www-form-urlencoded', 'card[number]=4242424242424242&card[cvc]=123'],
    ]
    for (const what of ['confirm', 'challenge']) {
      for (const [type, body] of bodies) {
        const r = await fetch(`${payUrl}/${what}`, { method: 'POST', headers: { 'content-type': type, 'x-paylink-session': session }, body })
        expect(r.status, `${what} ${type}`).toBe(415)
        expect((await r.json()).error.code).toBe('unsupported_media_type')
        expect(r.headers.get('content-security-policy')).toContain('frame-ancestors')
      }
    }
    expect(await chargesFor(server, intentId)).toBe(0)
    expect((await confirm(payUrl, session, card(spaced(CARDS.visa)))).body.data).toMatchObject({ status: 'succeeded' })
  })

  it.runIf(new Date().getUTCMonth() > 0)('refuses last month of this year as an expiry in the past', async () => {
    const { payUrl, session } = await openLink(shop)
    const r = await confirm(payUrl, session, card(spaced(CARDS.visa), { exp_year: thisYear, exp_month: new Date().getUTCMonth() }))
    expect(r.status).toBe(422)
    expect(r.body.error.details.map((d: { field: string }) => d.field)).toEqual(['card.expiry'])
  })

  it('refuses an amount, an unknown field and a mistyped one, naming them, then still takes the payment', async () => {
    const { payUrl, session, intentId } = await openLink(shop, { amount: 12.5 })
    const good = card(spaced(CARDS.visa))
    for (const [body, field] of [
      [{ ...good, amount: 0.01 }, 'amount'],
      [{ ...good, card: { ...good.card, amount: 1 } }, 'card.amount'],
      [{ ...good, currency: 'USD' }, 'currency'],
      [{ ...good, card: { ...good.card, exp_month: '12' } }, 'card.exp_month'],
      [{ ...good, save_card: 'yes' }, 'save_card'],
      [{}, 'card'],
    ] as const) {
      const r = await confirm(payUrl, session, body)
      expect(r.status, JSON.stringify(body)).toBe(422)
      expect(r.body.error.code).toBe('validation_error')
      expect(r.body.error.details.map((d: { field: string }) => d.field)).toContain(field)
    }
    expect(await chargesFor(server, intentId)).toBe(0)
    const paid = await confirm(payUrl, session, good)
    expect(paid.status).toBe(200)
    expect((await intentOf(shop, intentId)).amount_minor).toBe(1250)
  })
})

describe('every sandbox test card gives its SPEC outcome, and the intent says the same', () => {
  it.each([
    { number: spaced(CARDS.visa), brand: 'visa', status: 'succeeded', failure: null },
    { number: spaced(CARDS.mastercard), brand: 'mastercard', status: 'succeeded', failure: null },
    { number: spaced(CARDS.amex), brand: 'amex', status: 'succeeded', failure: null },
    { number: spaced(CARDS.declined), brand: 'visa', status: 'failed', failure: 'card_declined' },
    { number: spaced(CARDS.insufficientFunds), brand: 'visa', status: 'failed', failure: 'insufficient_funds' },
    { number: spaced(CARDS.expired), brand: 'visa', status: 'failed', failure: 'expired_card' },
    { number: spaced(CARDS.incorrectCvc), brand: 'visa', status: 'failed', failure: 'incorrect_cvc' },
    { number: spaced(CARDS.processingError), brand: 'visa', status: 'failed', failure: 'processing_error' },
    { number: '6011 1111 1111 1117', brand: 'discover', status: 'succeeded', failure: null },
  ])('$number: $status $failure', async ({ number, brand, status, failure }) => {
    const { payUrl, session, intentId } = await openLink(shop)
    const last4 = number.slice(-4)
    const r = await confirm(payUrl, session, card(number))
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ payment_intent_id: intentId, status, failure_code: failure, card: { brand, last4 }, saved_card_id: null })
    if (failure) expect(r.body.data.failure_message).toMatch(/\w{3,}/)
    else expect(r.body.data.failure_message).toBeNull()
    const intent = await intentOf(shop, intentId)
    expect(intent).toMatchObject({
      status,
      failure_code: failure,
      failure_message: r.body.data.failure_message,
      card: { brand, last4, exp_month: 12, exp_year: EXP_YEAR },
    })
    expect(await chargesFor(server, intentId)).toBe(1)
  })
})

describe('a second confirm after the outcome is a 409', () => {
  it.each([spaced(CARDS.visa), spaced(CARDS.declined)])('after paying with %s', async (number) => {
    const { payUrl, session, intentId } = await openLink(shop)
    const first = await confirm(payUrl, session, card(number))
    expect(first.status).toBe(200)
    const second = await confirm(payUrl, session, card(spaced(CARDS.mastercard)))
    expect(second.status).toBe(409)
    expect(second.body.error.code).toBe('payment_in_progress')
    const intent = await intentOf(shop, intentId)
    expect(intent.status).toBe(first.body.data.status)
    expect(intent.card.last4).toBe(number.slice(-4))
    expect(await chargesFor(server, intentId)).toBe(1)
  })
})

describe('3-D Secure: 4000 0027 6000 3184 asks for a challenge in the page', () => {
  const CHALLENGE_CARD = spaced(CARDS.challenge)

  it('answers requires_authentication with a challenge, and the intent stays processing', async () => {
    const { payUrl, session, intentId } = await openLink(shop)
    const r = await confirm(payUrl, session, card(CHALLENGE_CARD))
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ payment_intent_id: intentId, status: 'requires_authentication', card: { brand: 'visa', last4: '3184' } })
    expect(r.body.data.challenge).toMatchObject({ id: expect.any(String), prompt: expect.stringMatching(/\w/) })
    expect((await intentOf(shop, intentId)).status).toBe('processing')
    expect((await confirm(payUrl, session, card(spaced(CARDS.visa)))).status).toBe(409)
    expect((await intentOf(shop, intentId)).status).toBe('processing')
  })

  it.each([
    { answer: 'approve', status: 'succeeded', failure: null },
    { answer: 'decline', status: 'failed', failure: 'authentication_failed' },
  ])('"$answer" ends the payment $status $failure', async ({ answer, status, failure }) => {
    const { payUrl, session, intentId } = await openLink(shop)
    expect((await confirm(payUrl, session, card(CHALLENGE_CARD))).body.data.status).toBe('requires_authentication')
    const r = await answerChallenge(payUrl, session, answer)
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ payment_intent_id: intentId, status, failure_code: failure, card: { brand: 'visa', last4: '3184' } })
    expect(await intentOf(shop, intentId)).toMatchObject({ status, failure_code: failure, failure_message: r.body.data.failure_message, card: { last4: '3184' } })
    expect((await answerChallenge(payUrl, session, answer)).status).toBe(409)
    expect(await chargesFor(server, intentId)).toBe(1)
  })

  it('takes an answer only with the page-session secret, only while a challenge waits, and only approve or decline', async () => {
    const { payUrl, session, intentId } = await openLink(shop)
    expect((await answerChallenge(payUrl, session, 'approve')).status).toBe(409)
    expect((await confirm(payUrl, session, card(CHALLENGE_CARD))).status).toBe(200)
    expect((await answerChallenge(payUrl, undefined, 'approve')).status).toBe(401)
    expect((await answerChallenge(payUrl, 'A'.repeat(43), 'approve')).status).toBe(401)
    const odd = await answerChallenge(payUrl, session, 'maybe')
    expect(odd.status).toBe(422)
    expect(odd.body.error.details.map((d: { field: string }) => d.field)).toContain('answer')
    expect((await intentOf(shop, intentId)).status).toBe('processing')
    expect((await answerChallenge(payUrl, session, 'approve')).body.data.status).toBe('succeeded')
  })
})

describe('of any number of concurrent confirms exactly one charges', () => {
  it('20 simultaneous confirms of one link: one 200, nineteen 409, one sandbox charge', async () => {
    const { payUrl, session, intentId } = await openLink(shop)
    const results = await Promise.all(Array.from({ length: 20 }, () => confirm(payUrl, session, card(spaced(CARDS.visa)))))
    const statuses = results.map((r) => r.status).sort()
    expect(statuses).toEqual([200, ...Array<number>(19).fill(409)])
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('payment_in_progress')
    expect(await chargesFor(server, intentId)).toBe(1)
    expect((await intentOf(shop, intentId)).status).toBe('succeeded')
  })
})

// Keep last: it moves this file's clock past the link TTL once (the shop's access token, good
// for 900 s, outlives one 601 s step).
describe('an expired link', () => {
  let unopened: Awaited<ReturnType<typeof mint>>
  let opened: OpenLink
  let challenged: OpenLink
  beforeAll(async () => {
    unopened = await mint(shop)
    opened = await openLink(shop)
    challenged = await openLink(shop)
    expect((await confirm(challenged.payUrl, challenged.session, card(spaced(CARDS.challenge)))).body.data.status).toBe('requires_authentication')
    server.clock.advance(601_000)
  })

  it('is a clear "expired" page (410), and the intent becomes failed / link_expired', async () => {
    const page = await loadPage(unopened.payUrl)
    expect(page.status).toBe(410)
    expect(textOf(page.html)).toContain('This payment link has expired')
    expect(sessionOf(page.html)).toBeUndefined()
    expect(byId(page.html, 'pay-form')).toBeUndefined()
    expectPayHeaders(page.headers, ORIGINS.join(' '))
    expect((await loadPage(unopened.payUrl, TOP_LEVEL)).status).toBe(410)
    const intent = await intentOf(shop, unopened.intentId)
    expect(intent).toMatchObject({ status: 'failed', failure_code: 'link_expired' })
    expect(intent.failure_message).toMatch(/\w{3,}/)
  })

  it('refuses a confirm from a page opened before it expired: 410 link_expired, nothing charged', async () => {
    const late = await confirm(opened.payUrl, opened.session, card(spaced(CARDS.visa)))
    expect(late.status).toBe(410)
    expect(late.body.error.code).toBe('link_expired')
    expect(await chargesFor(server, opened.intentId)).toBe(0)
    expect(await intentOf(shop, opened.intentId)).toMatchObject({ status: 'failed', failure_code: 'link_expired' })
    expect((await loadPage(opened.payUrl)).status).toBe(410)
  })

  it('fails a 3-D Secure challenge not answered in time as authentication_failed, even when approved late', async () => {
    const tooLate = await answerChallenge(challenged.payUrl, challenged.session, 'approve')
    expect(tooLate.body.data).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' })
    expect(await intentOf(shop, challenged.intentId)).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' })
    const [charge] = await server.db.query<{ status: string }>('SELECT status FROM sandbox_charges WHERE idempotency_key = $1', [challenged.intentId])
    expect(charge!.status).toBe('failed')
  })
})
