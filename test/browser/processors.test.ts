/**
 * Paying through Stripe and Adyen in a real browser (SPEC "Card processors", "3-D Secure
 * with a real processor"; "The page"): a tenant's shop on another origin mounts the pay_url
 * with /embed.js; the shopper pays in the frame through the Stripe and Adyen fakes
 * (test/fakes/) on loopback. 3-D Secure takes the frame — never the shop's page — to the
 * fake's bank page and back to paylink's return URL, which shows the outcome and tells the
 * shop. The POST redirect page runs under its own CSP; no page logs a CSP violation.
 */
import http from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core'
import { intentOf, mint, setupProcessorPayer, startServer, type ProcessorPayer, type TestServer } from '../helpers/index.js'
import { startStripeFake, type StripeFake } from '../fakes/stripe.js'
import { startAdyenFake, type AdyenFake } from '../fakes/adyen.js'
import { eventTypes, futureExpiry, launchBrowser, newShopperContext, openInShop, waitForShopEvent, type PaylinkEvent, type Shop } from './helpers.js'

let server: TestServer
let browser: Browser
let stripe: StripeFake
let adyen: AdyenFake
let shop: Shop
let paylinkOrigin: string

beforeAll(async () => {
  ;[server, browser, stripe, adyen] = await Promise.all([startServer(), launchBrowser(), startStripeFake(), startAdyenFake()])
  paylinkOrigin = new URL(server.baseUrl).origin
  shop = await startEmbedShop(paylinkOrigin)
})

afterAll(async () => {
  await browser?.close()
  await shop?.close()
  await server?.close()
  await Promise.all([stripe?.close(), adyen?.close()])
})

/**
 * The tenant's checkout page as the README shows it: /embed.js from paylink mounts the
 * pay_url. The frame gets id "pay" and every paylink message the window hears is kept in
 * window.__events (as the helpers' shop keeps them); what embed.js passed on to `onEvent`
 * is kept in window.__embedEvents.
 */
async function startEmbedShop(paylink: string): Promise<Shop> {
  const html = (payUrl: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Test shop — checkout</title></head>
<body>
<div id="checkout"></div>
<script src="${paylink}/embed.js"></script>
<script>
window.__events = [];
window.__embedEvents = [];
window.addEventListener('message', function (e) {
  if (!e.data || e.data.source !== 'paylink') return;
  var frame = document.getElementById('pay');
  window.__events.push({ origin: e.origin, fromFrame: !!frame && e.source === frame.contentWindow, data: e.data });
});
var mounted = Paylink.mount(document.getElementById('checkout'), ${JSON.stringify(payUrl).replace(/</g, '\\u003c')}, {
  onEvent: function (e) { window.__embedEvents.push(e); }
});
mounted.iframe.id = 'pay';
</script>
</body>
</html>
`
  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop.invalid')
    const payUrl = url.searchParams.get('pay')
    if (url.pathname !== '/checkout' || !payUrl) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html(payUrl))
  })
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(httpServer.address() as { port: number }).port}`
  return {
    origin,
    pageUrl: (payUrl) => `${origin}/checkout?pay=${encodeURIComponent(payUrl)}`,
    close: () =>
      new Promise<void>((resolve) => {
        httpServer.closeAllConnections()
        httpServer.close(() => resolve())
      }),
  }
}

const stripePayer = () =>
  setupProcessorPayer(server, {
    processor: 'stripe',
    config: { secret_key: stripe.secretKey, webhook_secret: stripe.webhookSecret, api_base: stripe.url },
    tenant: { origins: [shop.origin] },
  })
const adyenPayer = () =>
  setupProcessorPayer(server, {
    processor: 'adyen',
    config: { api_key: adyen.apiKey, merchant_account: adyen.merchantAccount, hmac_key: adyen.hmacKey, environment: 'test', api_base: adyen.url },
    tenant: { origins: [shop.origin] },
  })

const STRIPE = { visa: '4242424242424242', declined: '4000000000000002', threeDSecure: '4000002760003184' }
const ADYEN = { visa: '4111111145551142', threeDSGet: '4917610000000000', threeDSPost: '4212345678901237' }

/** The shop's checkout open in a fresh browser profile, and what the browser saw meanwhile. */
interface Checkout {
  page: Page
  frame: Frame
  shopUrl: string
  /** Every console message of the shop page and its frame, whatever page the frame was on. */
  console: string[]
  /** Each page the payment frame went to after its first, in order. */
  frameUrls: string[]
  /** Navigations of the shop's own page after it loaded (there should be none). */
  topUrls: string[]
}

const contexts: BrowserContext[] = []
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()))
})

async function checkout(payUrl: string): Promise<Checkout> {
  const context = await newShopperContext(browser)
  contexts.push(context)
  const logs: string[] = []
  context.on('console', (m) => void logs.push(m.text()))
  const { page, frame } = await openInShop(context, shop, payUrl)
  const frameUrls: string[] = []
  const topUrls: string[] = []
  page.on('framenavigated', (f) => {
    if (f === frame) frameUrls.push(f.url())
    else if (f === page.mainFrame()) topUrls.push(f.url())
  })
  return { page, frame, shopUrl: page.url(), console: logs, frameUrls, topUrls }
}

/** A new link of the payer's (12.50 unless `body` says otherwise), open in the shop. */
async function newCheckout(p: ProcessorPayer, body: Record<string, unknown> = {}) {
  const link = await mint(p, body)
  return { ...link, ...(await checkout(link.payUrl)) }
}

const EXPIRY = futureExpiry()

/** Types a new card into the page's fields and presses Pay, as a shopper would. */
async function payWithCard(frame: Frame, number: string, opts: { save?: boolean; amount?: string } = {}) {
  await frame.getByLabel('Card number').pressSequentially(number)
  await frame.getByLabel('Expiry date').pressSequentially(EXPIRY.typed)
  await frame.getByLabel('Security code').pressSequentially('123')
  await frame.getByLabel('Name on card').fill('Ada Lovelace')
  if (opts.save) await frame.getByLabel('Save card for future use').check()
  await frame.getByRole('button', { name: `Pay ${opts.amount ?? '$12.50'}` }).click()
}

/** Waits for a screen's heading to be visible in the frame; returns the screen's text. */
async function screen(frame: Frame, heading: string): Promise<string> {
  await frame.getByRole('heading', { name: heading, exact: true }).waitFor({ state: 'visible' })
  return (await frame.locator('section.screen:not([hidden])').innerText()).trim()
}

const words = (text: string) => text.replace(/\s+/g, ' ')

/** Waits until the frame is on a page whose URL starts with `prefix`. */
const frameAt = (frame: Frame, prefix: string) => frame.waitForURL((u) => u.href.startsWith(prefix))

/**
 * The shop heard `type`, and of the payment's progress only `processing` before it; every
 * message came from paylink's origin about this intent, and every one but a `resize` from
 * the frame, and embed.js passed on exactly those from the frame. (A page that leaves for
 * the bank posts its last `resize` as it goes: the shop gets it with no `source`, and
 * embed.js rightly drops it.) Returns the outcome event.
 */
async function expectOutcome(c: Checkout, intentId: string, type: 'payment_intent.succeeded' | 'payment_intent.failed'): Promise<PaylinkEvent> {
  await waitForShopEvent(c.page, type)
  // Both lists at one instant: a late `resize` may still be arriving.
  const { events, passedOn } = await c.page.evaluate(() => {
    const w = window as unknown as { __events: PaylinkEvent[]; __embedEvents: PaylinkEvent['data'][] }
    return { events: [...w.__events], passedOn: [...w.__embedEvents] }
  })
  // Every paylink page the frame shows says `ready` (the form, and after 3-D Secure the redirect and return pages too).
  expect(events[0]?.data.type).toBe('ready')
  expect(eventTypes(events).filter((t) => t !== 'ready')).toEqual(['payment_intent.processing', type])
  for (const e of events) {
    expect(e).toMatchObject({ origin: paylinkOrigin, data: { source: 'paylink', version: 1, payment_intent_id: intentId } })
    if (e.data.type !== 'resize') expect(e.fromFrame, e.data.type).toBe(true)
  }
  expect(passedOn).toEqual(events.filter((e) => e.fromFrame).map((e) => e.data))
  return events.find((e) => e.data.type === type)!
}

/** The shop's page stayed where it was, and nothing the browser ran hit a Content Security Policy. */
function expectShopUntouched(c: Checkout) {
  expect(c.topUrls).toEqual([])
  expect(c.page.url()).toBe(c.shopUrl)
  expect(c.console.filter((m) => /Content Security Policy/i.test(m))).toEqual([])
}

describe('paying through Stripe in the shop’s iframe', () => {
  it('pays with 4242: success screen, payment_intent.succeeded from paylink’s origin, succeeded in the API', async () => {
    const p = await stripePayer()
    const c = await newCheckout(p)
    await payWithCard(c.frame, STRIPE.visa)

    expect(await screen(c.frame, 'Payment successful')).toContain('Thank you. Your payment went through.')
    await expectOutcome(c, c.intentId, 'payment_intent.succeeded')
    expect(await intentOf(p, c.intentId)).toMatchObject({ status: 'succeeded', card: { brand: 'visa', last4: '4242' } })
    expect(stripe.paymentIntents().filter((pi) => pi.metadata.payment_intent_id === c.intentId)).toMatchObject([{ status: 'succeeded', amount: 1250 }])
    expect(c.frameUrls).toEqual([])
    expectShopUntouched(c)
  })

  it('declines 4000000000000002 with the page’s plain reason; the shop hears payment_intent.failed / card_declined', async () => {
    const p = await stripePayer()
    const c = await newCheckout(p)
    await payWithCard(c.frame, STRIPE.declined)

    const text = await screen(c.frame, 'Payment failed')
    expect(words(text)).toBe('Payment failed Your card was declined.')
    const failed = await expectOutcome(c, c.intentId, 'payment_intent.failed')
    expect(failed.data.failure_code).toBe('card_declined')
    const intent = await intentOf(p, c.intentId)
    expect(intent).toMatchObject({ status: 'failed', failure_code: 'card_declined', processor_code: 'generic_decline' })
    // Stripe's own message for this card happens to be the same words; the refused 3-D Secure below shows the page's are its own.
    expect(text).not.toContain(intent.processor_code)
    expectShopUntouched(c)
  })

  it('3-D Secure approved: the frame goes to Stripe’s page and back to paylink, which shows success; the shop’s page never moves', async () => {
    const p = await stripePayer()
    const c = await newCheckout(p)
    await payWithCard(c.frame, STRIPE.threeDSecure)

    await frameAt(c.frame, `${stripe.url}/3ds/pi_`)
    expect(await intentOf(p, c.intentId)).toMatchObject({ status: 'processing' })
    await c.frame.locator('#approve').click()
    await frameAt(c.frame, `${c.payUrl}/return?state=`)

    expect(await screen(c.frame, 'Payment successful')).toContain('Thank you. Your payment went through.')
    await expectOutcome(c, c.intentId, 'payment_intent.succeeded')
    expect(await intentOf(p, c.intentId)).toMatchObject({ status: 'succeeded', card: { last4: '3184' } })
    expect(c.frameUrls.map((u) => u.replace(/\?.*/, ''))).toEqual([expect.stringMatching(new RegExp(`^${stripe.url}/3ds/pi_\\w+$`)), `${c.payUrl}/return`])
    expectShopUntouched(c)
  })

  it('3-D Secure refused at Stripe’s page: failed screen without Stripe’s message, payment_intent.failed / authentication_failed', async () => {
    const p = await stripePayer()
    const c = await newCheckout(p)
    await payWithCard(c.frame, STRIPE.threeDSecure)

    await frameAt(c.frame, `${stripe.url}/3ds/pi_`)
    await c.frame.locator('#decline').click()
    await frameAt(c.frame, `${c.payUrl}/return?state=`)

    const text = await screen(c.frame, 'Payment failed')
    expect(words(text)).toBe('Payment failed The payment was not confirmed with your bank.')
    const failed = await expectOutcome(c, c.intentId, 'payment_intent.failed')
    expect(failed.data.failure_code).toBe('authentication_failed')
    const intent = await intentOf(p, c.intentId)
    expect(intent).toMatchObject({ status: 'failed', failure_code: 'authentication_failed', processor_code: 'payment_intent_authentication_failure' })
    expect(text).not.toContain(intent.processor_message)
    expectShopUntouched(c)
  })

  it('saves a card on the first link; the second link offers it and pays with it', async () => {
    const p = await stripePayer()
    const first = await newCheckout(p)
    await payWithCard(first.frame, STRIPE.visa, { save: true })
    await screen(first.frame, 'Payment successful')
    await expectOutcome(first, first.intentId, 'payment_intent.succeeded')
    const cards = (await p.api.get(`/v1/platform/users/${p.userId}/cards`)).body.data
    expect(cards).toMatchObject([{ brand: 'visa', last4: '4242', exp_month: EXPIRY.month, exp_year: EXPIRY.year }])

    const second = await newCheckout(p, { amount: '30.00' })
    const saved = second.frame.getByRole('radio', { name: `Visa ending in 4242, expires 12/${String(EXPIRY.year).slice(-2)}` })
    await saved.waitFor()
    expect(await saved.isChecked()).toBe(true)
    expect(await second.frame.getByLabel('Card number').isVisible()).toBe(false)
    await second.frame.getByRole('button', { name: 'Pay $30.00' }).click()

    await screen(second.frame, 'Payment successful')
    await expectOutcome(second, second.intentId, 'payment_intent.succeeded')
    expect(await intentOf(p, second.intentId)).toMatchObject({ status: 'succeeded', amount: '30.00', saved_card_id: cards[0].id, card: { last4: '4242' } })
    const [firstPi] = stripe.paymentIntents().filter((pi) => pi.metadata.payment_intent_id === first.intentId)
    const [secondPi] = stripe.paymentIntents().filter((pi) => pi.metadata.payment_intent_id === second.intentId)
    expect(secondPi).toMatchObject({ status: 'succeeded', amount: 3000, customer: firstPi!.customer, payment_method: firstPi!.payment_method })
    expectShopUntouched(first)
    expectShopUntouched(second)
  })
})

describe('paying through Adyen in the shop’s iframe', () => {
  const paymentOf = (intentId: string) => adyen.payments().filter((x) => x.reference === intentId)

  it('pays with 4111 1111 4555 1142: success screen, payment_intent.succeeded, succeeded in the API', async () => {
    const p = await adyenPayer()
    const c = await newCheckout(p)
    await payWithCard(c.frame, ADYEN.visa)

    await screen(c.frame, 'Payment successful')
    await expectOutcome(c, c.intentId, 'payment_intent.succeeded')
    expect(await intentOf(p, c.intentId)).toMatchObject({ status: 'succeeded', card: { brand: 'visa', last4: '1142' } })
    expect(paymentOf(c.intentId)).toMatchObject([{ status: 'Authorised', amount: { value: 1250, currency: 'USD' } }])
    expectShopUntouched(c)
  })

  it('3-D Secure by GET (4917 6100 0000 0000) approved: to Adyen’s page and back, success', async () => {
    const p = await adyenPayer()
    const c = await newCheckout(p)
    await payWithCard(c.frame, ADYEN.threeDSGet)

    await frameAt(c.frame, `${adyen.url}/3ds/`)
    await c.frame.locator('#approve button').click()
    await frameAt(c.frame, `${c.payUrl}/return?state=`)

    await screen(c.frame, 'Payment successful')
    await expectOutcome(c, c.intentId, 'payment_intent.succeeded')
    expect(await intentOf(p, c.intentId)).toMatchObject({ status: 'succeeded', card: { last4: '0000' } })
    expect(paymentOf(c.intentId)).toMatchObject([{ status: 'Authorised' }])
    expect(c.frameUrls.map((u) => u.replace(/\?.*/, ''))).toEqual([`${adyen.url}/3ds/${paymentOf(c.intentId)[0]!.pspReference}`, `${c.payUrl}/return`])
    expectShopUntouched(c)
  })

  it('3-D Secure by POST (4212 3456 7890 1237) approved: paylink’s redirect page posts the bank’s form under its CSP, no violation, success', async () => {
    const p = await adyenPayer()
    const c = await newCheckout(p)
    const redirectPage = c.page.waitForResponse((r) => r.url() === `${c.payUrl}/redirect` && r.request().method() === 'POST')
    await payWithCard(c.frame, ADYEN.threeDSPost)

    const redirect = await redirectPage
    expect(redirect.status()).toBe(200)
    expect(await redirect.headerValue('content-security-policy')).toContain(`form-action ${new URL(adyen.url).origin}`)
    // The bank's page was reached by the POST carrying Adyen's fields.
    await frameAt(c.frame, `${adyen.url}/3ds/`)
    await c.frame.locator('#approve button').click()
    await frameAt(c.frame, `${c.payUrl}/return?state=`)

    await screen(c.frame, 'Payment successful')
    await expectOutcome(c, c.intentId, 'payment_intent.succeeded')
    expect(await intentOf(p, c.intentId)).toMatchObject({ status: 'succeeded', card: { last4: '1237' } })
    const [payment] = paymentOf(c.intentId)
    expect(payment).toMatchObject({ status: 'Authorised' })
    expect(c.frameUrls.map((u) => u.replace(/\?.*/, ''))).toEqual([`${c.payUrl}/redirect`, `${adyen.url}/3ds/${payment!.pspReference}`, `${c.payUrl}/return`])
    expectShopUntouched(c)

    // The console check does see a violation when there is one: an image from another origin, refused by the page's img-src.
    await c.frame.evaluate((src) => void document.body.append(Object.assign(new Image(), { src })), `${adyen.url}/pixel.png`)
    await expect.poll(() => c.console.filter((m) => /Content Security Policy/.test(m))).toEqual([expect.stringContaining("img-src 'self' data:")])
  })
})
