/**
 * The tenant portal in a real browser (SPEC "Tenant portal"; issue 14 "How it is checked"):
 * the tenant's server makes a one-time portal link; Chromium opens it inside the tenant's
 * admin (an iframe on another origin) and top-level; the staff find a payment paid a moment
 * ago, filter, search, read its timeline, refund part of it, manage webhook endpoints and
 * resend a failed delivery; the first screen's chart counts payments seeded at known hours.
 * A second opening of a link grants nothing; a read-only session cannot refund; another
 * tenant's session never sees this tenant's payment. Every screen is checked with axe-core
 * and photographed for the README (docs/screenshots/portal-*.png).
 *
 * One browser and one server (on a database of its own, so that the worker's tick delivers
 * only this file's webhooks) for the file; each test works in tenants of its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core'
import {
  CARDS,
  HOUR,
  MINUTE,
  apiClient,
  getToken,
  mint,
  pay,
  setupClockedPayer,
  setupPayer,
  startPrivateServer,
  startReceiver,
  type Api,
  type Minter,
  type Receiver,
  type TestServer,
} from '../helpers/index.js'
import { axeViolations, futureExpiry, launchBrowser, newShopperContext, openInShop, screenshotPage, startShop, type Shop } from './helpers.js'

let server: TestServer
let browser: Browser
let shop: Shop
let receiver: Receiver
const contexts: BrowserContext[] = []

beforeAll(async () => {
  ;[server, browser, shop, receiver] = await Promise.all([startPrivateServer({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true' }), launchBrowser(), startShop(), startReceiver('/hooks')])
})

afterEach(async () => {
  server.clock.reset()
  await Promise.all(contexts.splice(0).map((c) => c.close()))
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([shop?.close(), receiver?.close()])
  await server?.close()
})

/** A tenant's staff member's browser: its own storage, a desktop (1280) or phone (375) width, a language. */
async function staffBrowser(opts: { width?: number; locale?: string } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: 900 }, deviceScaleFactor: 1, locale: opts.locale ?? 'en-US', timezoneId: 'UTC' })
  contexts.push(context)
  return context
}

/** POST /v1/platform/portal-sessions as the tenant's server calls it: the link's URL. */
async function portalLink(api: Pick<Api, 'post'>, body: Record<string, unknown> = {}): Promise<string> {
  const r = await api.post('/v1/platform/portal-sessions', body)
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  expect(r.body.data.url).toMatch(new RegExp(`^${server.baseUrl}/portal/plk_`))
  return r.body.data.url
}

/** Opens the link top-level; waits until the token is exchanged and the first screen is drawn. */
async function openPortal(url: string, opts: { width?: number; locale?: string; heading?: string } = {}): Promise<Page> {
  const page = await (await staffBrowser(opts)).newPage()
  const answer = await page.goto(url)
  expect(answer?.status()).toBe(200)
  await page.waitForURL(/\/portal\/app\?tenant=ten_/)
  await heading(page, opts.heading ?? 'At a glance')
  return page
}

/** The screen's heading (h1), once visible. */
async function heading(where: Page | Frame, name: string | RegExp) {
  const h = where.getByRole('heading', { level: 1, name })
  await h.waitFor({ state: 'visible' })
  return h
}

async function expectNoAxeViolations(where: Page | Frame) {
  expect(await axeViolations('mainFrame' in where ? where.mainFrame() : where)).toEqual([])
}

/** The ids of the payments the list shows, in order. */
const listedIds = (page: Page) => page.locator('#payment-rows tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id))

/** Goes to the Payments screen by its navigation link and waits for the list. */
async function toPayments(page: Page) {
  await page.getByRole('navigation').getByRole('link', { name: 'Payments' }).click()
  await heading(page, 'Payments')
  await expect.poll(() => page.locator('#list-status').innerText()).toMatch(/shown|No payments/)
}

/** Searches an id in the Payments screen's search box. */
async function search(page: Page, id: string) {
  await page.getByLabel('Search by id').fill(id)
  await page.getByRole('button', { name: 'Search', exact: true }).click()
}

/** A shopper pays a new 12.50 link with the Visa test card in the payment page, framed by the tenant's shop. */
async function payInShop(payer: Minter) {
  const link = await mint(payer)
  const context = await newShopperContext(browser)
  contexts.push(context)
  const { frame } = await openInShop(context, shop, link.payUrl)
  const expiry = futureExpiry()
  await frame.getByLabel('Card number').pressSequentially(CARDS.visa)
  await frame.getByLabel('Expiry date').pressSequentially(expiry.typed)
  await frame.getByLabel('Security code').pressSequentially('123')
  await frame.getByRole('button', { name: 'Pay $12.50' }).click()
  await frame.getByRole('heading', { name: 'Payment successful' }).waitFor()
  return link
}

describe('opening the portal with a one-time link', () => {
  it('opens inside the tenant’s admin on another origin (frame-ancestors), keeps the session in sessionStorage only, and drops the token from the address', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const url = await portalLink(a.api)
    const first = await fetch(url, { headers: { 'accept-language': 'en' } })
    expect(first.status).toBe(200)
    expect(first.headers.get('content-security-policy')).toContain(`frame-ancestors 'self' ${shop.origin}`)
    expect(first.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(first.headers.get('cache-control')).toBe('no-store')
    expect(first.headers.get('referrer-policy')).toBe('no-referrer')
    const html = await first.text()
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/)
    expect(html).toMatch(/<script src="\/portal\/assets\/portal\.[0-9a-f]{16}\.js" defer><\/script>/)

    const context = await staffBrowser({ width: 1024 })
    const { page, frame } = await openInShop(context, shop, url)
    await heading(frame, 'At a glance')
    expect(frame.url()).toBe(`${server.baseUrl}/portal/app?tenant=${a.tenant.tenantId}`)
    const storage = await frame.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage), cookie: document.cookie }))
    expect(storage).toEqual({ session: [`paylink.portal.${a.tenant.tenantId}`], local: [], cookie: '' })
    expect(await frame.locator('#tenant-name').innerText()).toMatch(/^Test Shop \d+$/)
    await expectNoAxeViolations(frame)
    await page.close()
  })

  it('a second opening of the same link shows “already used” (410) and grants nothing, in the viewer’s language', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const url = await portalLink(a.api)
    await openPortal(url)

    const again = await (await staffBrowser()).newPage()
    const answer = await again.goto(url)
    expect(answer?.status()).toBe(410)
    await heading(again, 'This portal link was already used')
    expect(await again.locator('main').innerText()).toContain('Ask for a new one.')
    expect(await again.evaluate(() => Object.keys(sessionStorage))).toEqual([])
    expect(await again.locator('script').count()).toBe(0)
    await expectNoAxeViolations(again)
    await screenshotPage(again, 'portal-used', { volatile: true })
    // The exchange itself is refused too.
    const exchange = await apiClient(server).post('/portal/api/sessions', { token: url.slice(url.lastIndexOf('/') + 1) })
    expect(exchange.status).toBe(410)
    expect(exchange.body.error.code).toBe('portal_link_used')

    const german = await fetch(url, { headers: { 'accept-language': 'de-DE,de;q=0.9' } })
    expect(german.status).toBe(410)
    expect(await german.text()).toContain('Dieser Portal-Link wurde bereits verwendet')
  })

  it('an expired link shows “expired” (410); an unknown one “not found” (404); a tab without a session asks for a new link', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const url = await portalLink(a.api, { expires_in: 60 })
    server.clock.advance(2 * MINUTE)
    const page = await (await staffBrowser({ locale: 'es-ES' })).newPage()
    expect((await page.goto(url))?.status()).toBe(410)
    await heading(page, 'Este enlace al portal ha caducado')

    expect((await page.goto(`${server.baseUrl}/portal/plk_${'x'.repeat(43)}`))?.status()).toBe(404)
    await heading(page, 'Enlace al portal no encontrado')

    expect((await page.goto(`${server.baseUrl}/portal/app?tenant=${a.tenant.tenantId}`))?.status()).toBe(200)
    await heading(page, 'Abre un nuevo enlace al portal')
    await expectNoAxeViolations(page)
  })
})

describe('payments', () => {
  it('lists a payment paid a moment ago; a filter by status and a search by id find it; the detail shows card, processor and timeline', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const paid = await payInShop(a)
    const declined = await pay(a, CARDS.declined, { amount: '30.00' })
    const page = await openPortal(await portalLink(a.api))
    await expectNoAxeViolations(page)

    await toPayments(page)
    expect(await listedIds(page)).toEqual([declined.intentId, paid.intentId])
    const row = page.locator(`#payment-rows tr[data-id="${paid.intentId}"]`)
    expect(await row.innerText()).toContain('$12.50')
    expect(await row.innerText()).toContain('Visa ending in 4242')
    await expectNoAxeViolations(page)
    await screenshotPage(page, 'portal-payments', { fullPage: true, volatile: true })

    await page.getByLabel('Status').selectOption({ label: 'Succeeded' })
    await page.getByRole('button', { name: 'Apply filters' }).click()
    await expect.poll(() => listedIds(page)).toEqual([paid.intentId])
    await page.getByLabel('Status').selectOption({ label: 'Failed' })
    await page.getByRole('button', { name: 'Apply filters' }).click()
    await expect.poll(() => listedIds(page)).toEqual([declined.intentId])
    await page.getByRole('link', { name: 'Clear filters' }).click()
    await expect.poll(() => listedIds(page)).toEqual([declined.intentId, paid.intentId])
    await page.getByLabel('Amount from').fill('20')
    await page.getByLabel('Currency of the amounts').fill('USD')
    await page.getByRole('button', { name: 'Apply filters' }).click()
    await expect.poll(() => listedIds(page)).toEqual([declined.intentId])

    await search(page, paid.intentId)
    await heading(page, 'Payment of $12.50')
    const facts = await page.locator('dl.facts').innerText()
    expect(facts).toContain('Visa ending in 4242')
    expect(facts).toMatch(/Processor\s+sandbox/)
    expect(facts).toContain(a.accountId)
    const kinds = await page.locator('#timeline li').evaluateAll((items) => items.map((i) => (i as HTMLElement).dataset.kind))
    expect(kinds.slice(0, 4)).toEqual(['minted', 'page_opened', 'confirmed', 'succeeded'])
    expect(await page.locator('#timeline').innerText()).toContain('payment_intent.succeeded')
    await expectNoAxeViolations(page)
    await screenshotPage(page, 'portal-detail', { fullPage: true, volatile: true })

    // The declined one: its plain reason.
    await page.goto(`${server.baseUrl}/portal/app?tenant=${a.tenant.tenantId}#/payments/${declined.intentId}`)
    await heading(page, 'Payment of $30.00')
    expect(await page.locator('dl.facts').innerText()).toMatch(/Why it failed\s+The card was declined\./)

    // A user id filters the list by that user.
    await page.getByRole('link', { name: 'Back to payments' }).click()
    await heading(page, 'Payments')
    await search(page, a.userId)
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#/payments?user=${a.userId}`)
    await expect.poll(() => listedIds(page)).toEqual([declined.intentId, paid.intentId])
  })

  it('works with the keyboard alone: navigation, search and a refund, focus visible and moved to each new screen', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const paid = await pay(a, CARDS.visa)
    const page = await openPortal(await portalLink(a.api))
    const focused = () => page.evaluate(() => ({ id: document.activeElement?.id ?? '', text: (document.activeElement as HTMLElement | null)?.innerText ?? '' }))
    expect(await focused()).toEqual({ id: 'screen-title', text: 'At a glance' })
    await page.keyboard.press('Shift+Tab')
    await page.keyboard.press('Shift+Tab')
    expect((await focused()).text).toBe('Payments')
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).toBe('solid')
    await page.keyboard.press('Enter')
    await expect.poll(focused).toEqual({ id: 'screen-title', text: 'Payments' })
    await page.keyboard.press('Tab')
    expect((await focused()).id).toBe('search-id')
    await page.keyboard.type(paid.intentId)
    await page.keyboard.press('Enter')
    await expect.poll(focused).toEqual({ id: 'screen-title', text: 'Payment of $12.50' })
    for (let i = 0; i < 20 && (await focused()).id !== 'refund-whole'; i++) await page.keyboard.press('Tab')
    expect((await focused()).id).toBe('refund-whole')
    await page.keyboard.press('ArrowRight')
    expect((await focused()).id).toBe('refund-part')
    await page.keyboard.press('Tab')
    expect((await focused()).id).toBe('refund-amount')
    await page.keyboard.type('2.00')
    await page.keyboard.press('Enter')
    await expect.poll(focused).toEqual({ id: 'refund-message', text: 'Refund of $2.00: succeeded.' })
    expect((await a.api.get(`/v1/platform/payment-intents/${paid.intentId}`)).body.data.amount_refunded).toBe('2.00')
  })

  it('pages through the list with “Load more”, newest first', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const ids: string[] = []
    for (let i = 0; i < 27; i++) ids.push((await pay(a, CARDS.visa, { amount: `${i + 1}.00` })).intentId)
    const page = await openPortal(await portalLink(a.api))
    await toPayments(page)
    expect(await listedIds(page)).toEqual(ids.slice(-25).reverse())
    await page.getByRole('button', { name: 'Load more' }).click()
    await expect.poll(() => listedIds(page)).toEqual([...ids].reverse())
    expect(await page.getByRole('button', { name: 'Load more' }).isVisible()).toBe(false)
  })
})

describe('refunds from the detail view', () => {
  it('a partial refund shows up in the API; an over-refund is refused with the amount left; a refund id finds its payment', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const paid = await pay(a, CARDS.visa)
    const page = await openPortal(await portalLink(a.api))
    await page.evaluate((id) => (location.hash = `#/payments/${id}`), paid.intentId)
    await heading(page, 'Payment of $12.50')
    expect(await page.locator('#amount-left').innerText()).toBe('$12.50 left to refund')

    await page.getByLabel('Part of it').check()
    await page.getByLabel('Amount to refund (USD)').fill('5.00')
    await page.getByRole('button', { name: 'Refund', exact: true }).click()
    await expect.poll(() => page.locator('#refund-message').innerText()).toBe('Refund of $5.00: succeeded.')
    expect(await page.locator('#amount-left').innerText()).toBe('$7.50 left to refund')
    const intent = (await a.api.get(`/v1/platform/payment-intents/${paid.intentId}`)).body.data
    expect(intent).toMatchObject({ amount_refunded: '5.00', status: 'succeeded' })
    const refunds = (await a.api.get(`/v1/platform/payment-intents/${paid.intentId}/refunds`)).body.data
    expect(refunds).toMatchObject([{ amount: '5.00', status: 'succeeded' }])
    await expect.poll(() => page.locator('#timeline li').evaluateAll((items) => items.map((i) => (i as HTMLElement).dataset.kind))).toEqual(expect.arrayContaining(['refund_created', 'refund_succeeded']))

    await page.getByLabel('Part of it').check()
    await page.getByLabel('Amount to refund (USD)').fill('10.00')
    await page.getByRole('button', { name: 'Refund', exact: true }).click()
    const refused = page.locator('#refund-message[role="alert"]')
    await refused.waitFor()
    expect(await refused.innerText()).toContain('only $7.50 can still be refunded')
    expect(await refused.innerText()).toContain('Only 7.50 USD is left to refund.')
    expect((await a.api.get(`/v1/platform/payment-intents/${paid.intentId}/refunds`)).body.data).toHaveLength(1)
    await expectNoAxeViolations(page)
    await screenshotPage(page, 'portal-refund', { fullPage: true, volatile: true })

    await page.getByRole('navigation').getByRole('link', { name: 'Payments' }).click()
    await heading(page, 'Payments')
    await search(page, refunds[0].id)
    await heading(page, 'Payment of $12.50')
    expect(page.url()).toContain(`#/payments/${paid.intentId}`)
  })

  it('a payments:read-only session shows no refund button, nor the webhooks; its refund call is refused by the server (403)', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const paid = await pay(a, CARDS.visa)
    const reader = await server.services.tenants.createClient(a.tenant.tenantId, ['payments:read'])
    const readToken = await getToken(server, reader, { scope: 'payments:read' })
    const page = await openPortal(await portalLink(apiClient(server, readToken)))
    expect(await page.getByRole('navigation').getByRole('link').allInnerTexts()).toEqual(['At a glance', 'Payments'])
    await page.evaluate((id) => (location.hash = `#/payments/${id}`), paid.intentId)
    await heading(page, 'Payment of $12.50')
    expect(await page.locator('#amount-left').innerText()).toBe('$12.50 left to refund')
    expect(await page.getByRole('button', { name: 'Refund' }).count()).toBe(0)
    expect(await page.locator('#refund-form').count()).toBe(0)
    await expectNoAxeViolations(page)

    const direct = await page.evaluate(async ({ tenant, id }) => {
      const session = JSON.parse(sessionStorage.getItem(`paylink.portal.${tenant}`)!) as { secret: string; scopes: string[] }
      const r = await fetch(`/v1/platform/payment-intents/${id}/refunds`, { method: 'POST', headers: { authorization: `Bearer ${session.secret}`, 'content-type': 'application/json' }, body: '{}' })
      return { status: r.status, code: (await r.json()).error?.code, scopes: session.scopes }
    }, { tenant: a.tenant.tenantId, id: paid.intentId })
    expect(direct).toEqual({ status: 403, code: 'forbidden', scopes: ['payments:read'] })
    expect((await a.api.get(`/v1/platform/payment-intents/${paid.intentId}/refunds`)).body.data).toEqual([])
  })

  it('tenant B’s session never sees tenant A’s payment, even with its id in the address', async () => {
    const a = await setupPayer(server, { origins: [shop.origin] })
    const b = await setupPayer(server, { origins: [shop.origin] })
    const paidA = await pay(a, CARDS.visa, { amount: '77.00' })
    const paidB = await pay(b, CARDS.visa)
    const page = await openPortal(await portalLink(b.api))
    await toPayments(page)
    expect(await listedIds(page)).toEqual([paidB.intentId])

    await page.evaluate((id) => (location.hash = `#/payments/${id}`), paidA.intentId)
    await heading(page, `Nothing found for ${paidA.intentId}.`)
    expect(await page.locator('main').innerText()).not.toContain('77')
    await page.getByRole('link', { name: 'Back to payments' }).click()
    await heading(page, 'Payments')
    await search(page, paidA.intentId)
    await heading(page, `Nothing found for ${paidA.intentId}.`)
    // B's tab holds no session of A's tenant.
    await page.goto(`${server.baseUrl}/portal/app?tenant=${a.tenant.tenantId}#/payments/${paidA.intentId}`)
    await heading(page, 'Open a new portal link')
  })
})

describe('webhooks', () => {
  it('an endpoint added in the portal receives the next event; a failed delivery is resent and arrives', async () => {
    // The clock stands still: the failed delivery's own retry (5 s later) never falls due here, only the resend.
    server.clock.freeze()
    const a = await setupPayer(server, { origins: [shop.origin] })
    const page = await openPortal(await portalLink(a.api))
    await page.getByRole('navigation').getByRole('link', { name: 'Webhooks' }).click()
    await heading(page, 'Webhooks')
    await page.getByLabel('URL').fill(receiver.url)
    await page.getByLabel('Description (optional)').fill('Order system')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    const secret = await page.getByLabel('The signing secret, shown only now:').inputValue()
    expect(secret).toMatch(/^whsec_/)
    expect(await page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true)
    receiver.secrets.push(secret)
    const listed = page.locator('#endpoint-list li')
    expect(await listed.count()).toBe(1)
    expect(await listed.innerText()).toContain('Enabled')

    const first = await pay(a, CARDS.visa)
    await server.services.background.tick()
    const arrived = receiver.received.filter((d) => d.json?.data?.payment_intent_id === first.intentId)
    expect(arrived).toHaveLength(1)
    expect(arrived[0]!.verified).toBe(true)

    // The next one fails at the tenant's server (500), then is resent from the portal.
    receiver.respond(500)
    const second = await pay(a, CARDS.visa, { amount: '20.00' })
    await server.services.background.tick()
    receiver.respond(204)
    expect(receiver.received.filter((d) => d.json?.data?.payment_intent_id === second.intentId)).toHaveLength(1)

    await page.reload()
    await heading(page, 'Webhooks')
    const event = page.locator('#event-list > li').filter({ hasText: second.intentId })
    await event.getByRole('button', { name: 'Deliveries' }).click()
    const delivery = event.locator('table.deliveries tbody tr')
    await delivery.first().waitFor()
    expect(await delivery.count()).toBe(1)
    expect(await delivery.first().innerText()).toContain('500')
    await expectNoAxeViolations(page)

    await event.getByRole('button', { name: 'Resend' }).click()
    await expect.poll(() => event.locator('.form-message').innerText()).toBe('Queued again to 1 endpoint(s).')
    await server.services.background.tick()
    const delivered = receiver.received.filter((d) => d.json?.data?.payment_intent_id === second.intentId)
    expect(delivered).toHaveLength(2)
    expect(delivered[1]!.verified).toBe(true)
    expect(delivered[1]!.id).toBe(delivered[0]!.id)
    // Shown again: the resent delivery, delivered (204).
    await event.getByRole('button', { name: 'Deliveries' }).click()
    await event.getByRole('button', { name: 'Deliveries' }).click()
    await expect.poll(() => event.locator('table.deliveries tbody tr[data-status="succeeded"]').count()).toBe(1)
    expect(await event.locator('table.deliveries tbody tr[data-status="succeeded"]').innerText()).toContain('204')
    await screenshotPage(page, 'portal-webhooks', { fullPage: true, volatile: true })

    // Disable, enable, rotate: the API sees each.
    const endpointId = (await a.api.get('/v1/platform/webhook-endpoints')).body.data[0].id as string
    await page.getByRole('button', { name: 'Disable' }).click()
    await page.getByRole('button', { name: 'Enable' }).waitFor()
    expect((await a.api.get(`/v1/platform/webhook-endpoints/${endpointId}`)).body.data.status).toBe('disabled')
    await page.getByRole('button', { name: 'Enable' }).click()
    await page.getByRole('button', { name: 'Disable' }).waitFor()
    expect((await a.api.get(`/v1/platform/webhook-endpoints/${endpointId}`)).body.data.status).toBe('enabled')
    await page.getByRole('button', { name: 'Rotate secret' }).click()
    await expect.poll(() => page.getByLabel('The signing secret, shown only now:').inputValue()).not.toBe(secret)
    expect(await page.getByLabel('The signing secret, shown only now:').inputValue()).toMatch(/^whsec_/)
    await expectNoAxeViolations(page)
  })
})

describe('at a glance', () => {
  it('charts succeeded and failed payments per hour at the hours they were made, with the amount collected and the success rate', async () => {
    const c = await setupClockedPayer(server, { origins: [shop.origin] })
    const now = Date.now()
    const hourOf = (ms: number) => new Date(Math.floor(ms / HOUR) * HOUR)
    const fiveHoursAgo = hourOf(now - 5 * HOUR)
    const twoHoursAgo = hourOf(now - 2 * HOUR)
    server.clock.freeze(fiveHoursAgo.getTime() + 10 * MINUTE)
    await pay(c, CARDS.visa, { amount: '10.00' })
    await pay(c, CARDS.visa, { amount: '15.00' })
    await pay(c, CARDS.declined)
    server.clock.freeze(twoHoursAgo.getTime() + 20 * MINUTE)
    await pay(c, CARDS.visa, { amount: '12.50' })
    await pay(c, CARDS.visa, { amount: '5.00', currency: 'EUR' })
    server.clock.reset()

    const page = await openPortal(await portalLink(c.api))
    const bar = (start: Date) => page.locator(`svg.chart g.bar[data-start="${start.toISOString()}"]`)
    await bar(fiveHoursAgo).waitFor({ state: 'attached' })
    const counts = async (start: Date) => ({ succeeded: await bar(start).getAttribute('data-succeeded'), failed: await bar(start).getAttribute('data-failed') })
    expect(await counts(fiveHoursAgo)).toEqual({ succeeded: '2', failed: '1' })
    expect(await counts(twoHoursAgo)).toEqual({ succeeded: '1', failed: '0' })
    expect(await page.locator('svg.chart g.bar').count()).toBe(48)
    expect(await page.locator('svg.chart rect.succeeded').count()).toBe(2)
    expect(await page.locator('svg.chart rect.failed').count()).toBe(1)
    expect(await page.locator('#fig-succeeded').innerText()).toBe('3')
    expect(await page.locator('#fig-failed').innerText()).toBe('1')
    expect(await page.locator('#fig-collected').innerText()).toBe('$37.50')
    expect(await page.locator('#fig-rate').innerText()).toBe('75%')
    expect(await page.getByRole('img', { name: 'Payments in USD, Last 48 hours: succeeded and failed' }).count()).toBe(1)
    await expectNoAxeViolations(page)
    await screenshotPage(page, 'portal-glance', { volatile: true })

    // Per day, in EUR: the one euro payment.
    await page.getByLabel('Currency').selectOption('EUR')
    await expect.poll(() => page.locator('#fig-collected').innerText()).toBe('€5.00')
    await page.getByLabel('Last 30 days', { exact: true }).check()
    await expect.poll(() => page.locator('svg.chart g.bar').count()).toBe(30)
    expect(await page.locator('#fig-succeeded').innerText()).toBe('1')
    expect(await page.locator('#fig-rate').innerText()).toBe('100%')
    expect(await page.evaluate(() => location.hash)).toBe('#/glance?currency=EUR&range=day')
    await expectNoAxeViolations(page)
  })

  it('fits a 375 px wide screen, in the viewer’s language (de-DE)', async () => {
    const c = await setupPayer(server, { origins: [shop.origin] })
    await pay(c, CARDS.visa, { amount: '1234.50' })
    await pay(c, CARDS.declined)
    const page = await openPortal(await portalLink(c.api), { width: 375, locale: 'de-DE', heading: 'Überblick' })
    await expect.poll(() => page.locator('#fig-collected').innerText()).toMatch(/^1\.234,50\s\$$/)
    expect(await page.locator('#fig-rate').innerText()).toMatch(/^50\s%$/)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    expect(overflow).toBe(0)
    await expectNoAxeViolations(page)
    await screenshotPage(page, 'portal-glance-375', { fullPage: true, volatile: true })

    await page.getByRole('navigation').getByRole('link', { name: 'Zahlungen' }).click()
    await heading(page, 'Zahlungen')
    await page.locator('#payment-rows tr').first().waitFor()
    expect(await page.locator('#payment-rows').innerText()).toMatch(/1\.234,50\s\$/)
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0)
    await expectNoAxeViolations(page)
    await screenshotPage(page, 'portal-payments-375', { fullPage: true, volatile: true })
  })
})
