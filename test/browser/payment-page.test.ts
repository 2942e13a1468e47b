/**
 * The hosted payment page in a real browser (SPEC "The page", "Sandbox test cards", "Saved
 * cards"; issue 3 "How it is checked"): a tenant's shop on another origin embeds a minted
 * pay_url in an iframe; a shopper pays in it; the shop hears what happens by postMessage and
 * the API shows the outcome. Every screen is checked with axe-core and photographed for the
 * README (docs/screenshots/).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Frame, Route } from 'playwright-core'
import { CARDS, addPayer, intentOf as intent, mint, setupTenant, spaced, startServer, type SandboxTenant, type TestServer } from '../helpers/index.js'
import {
  axeViolations,
  eventTypes,
  focusedId,
  futureExpiry,
  launchBrowser,
  newShopperContext,
  openInShop,
  screenshotFrame,
  screenshotPage,
  shopEvents,
  startShop,
  waitForShopEvent,
  type Checkout,
  type Shop,
} from './helpers.js'

let server: TestServer
let browser: Browser
let shop: Shop
/** A second shop, on a third origin that no tenant here allows. */
let otherShop: Shop
let paylinkOrigin: string
/** One tenant for the file, allowing only `shop`; each test pays as a user of its own. */
let tenant: SandboxTenant
const contexts: BrowserContext[] = []

beforeAll(async () => {
  ;[server, browser, shop, otherShop] = await Promise.all([startServer(), launchBrowser(), startShop(), startShop()])
  paylinkOrigin = new URL(server.baseUrl).origin
  tenant = await setupTenant(server, { origins: [shop.origin] })
})

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()))
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([shop?.close(), otherShop?.close()])
  await server?.close()
})

const payer = () => addPayer(tenant)

/** The shop's checkout page, in a fresh browser profile, with `payUrl` in its iframe. */
async function checkoutIn(payUrl: string, opts: { locale?: string } = {}): Promise<Checkout> {
  const context = await newShopperContext(browser, opts)
  contexts.push(context)
  return openInShop(context, shop, payUrl)
}

/** A new payer's fresh link (12.50 unless `body` says otherwise), open in the shop's checkout page. */
async function newCheckout(body: Record<string, unknown> = {}, opts: { locale?: string } = {}) {
  const p = await payer()
  const link = await mint(p, body)
  return { p, ...link, ...(await checkoutIn(link.payUrl, opts)) }
}

const EXPIRY = futureExpiry()

/** Types a new card into the page's fields, as a shopper would (digits only, no spaces). */
async function typeCard(frame: Frame, number: string, opts: { cvc?: string; name?: string } = {}) {
  await frame.getByLabel('Card number').pressSequentially(number.replace(/\D/g, ''))
  await frame.getByLabel('Expiry date').pressSequentially(EXPIRY.typed)
  await frame.getByLabel('Security code').pressSequentially(opts.cvc ?? '123')
  await frame.getByLabel('Name on card').fill(opts.name ?? 'Ada Lovelace')
}

/** Types a new card and presses Pay. */
async function payWithCard(frame: Frame, number: string) {
  await typeCard(frame, number)
  await frame.getByRole('button', { name: 'Pay $12.50' }).click()
}

/** Waits for a screen's heading to be visible in the frame; returns the screen's text. */
async function screen(frame: Frame, heading: string): Promise<string> {
  const h = frame.getByRole('heading', { name: heading, exact: true })
  await h.waitFor({ state: 'visible' })
  return (await frame.locator('section.screen:not([hidden])').innerText()).trim()
}

async function expectNoAxeViolations(frame: Frame) {
  expect(await axeViolations(frame)).toEqual([])
}


describe('paying inside the tenant shop’s iframe', () => {
  it(`pays with ${spaced(CARDS.visa)}: spaced number and brand, success screen, events to the parent, succeeded in the API`, async () => {
    const checkout = await newCheckout({ amount: 12.5 })
    const { p, intentId, page, frame } = checkout

    await frame.getByRole('heading', { name: /^Pay Test Shop \d+$/ }).waitFor()
    expect(await frame.locator('#amount').innerText()).toBe('$12.50')
    expect(await frame.getByLabel('Save card for future use').isChecked()).toBe(false)

    await typeCard(frame, CARDS.visa)
    expect(await frame.getByLabel('Card number').inputValue()).toBe(spaced(CARDS.visa))
    expect(await frame.locator('#brand').innerText()).toBe('VISA')
    expect(await frame.getByLabel('Expiry date').inputValue()).toBe(EXPIRY.shown)
    await expectNoAxeViolations(frame)
    await screenshotFrame(checkout, 'form')

    await frame.getByRole('button', { name: 'Pay $12.50' }).click()
    const text = await screen(frame, 'Payment successful')
    expect(text).toContain('Thank you. Your payment went through.')
    await expectNoAxeViolations(frame)
    await screenshotFrame(checkout, 'succeeded')

    const events = await waitForShopEvent(page, 'payment_intent.succeeded')
    expect(eventTypes(events)).toEqual(['ready', 'payment_intent.processing', 'payment_intent.succeeded'])
    for (const e of events) {
      expect(e).toMatchObject({ origin: paylinkOrigin, fromFrame: true, data: { source: 'paylink', version: 1, payment_intent_id: intentId } })
    }
    expect(await intent(p, intentId)).toMatchObject({ id: intentId, status: 'succeeded', card: { brand: 'visa', last4: '4242' } })
  })

  it(`declines ${spaced(CARDS.declined)} with a plain reason; the intent is failed / card_declined`, async () => {
    const checkout = await newCheckout()
    const { p, intentId, page, frame } = checkout

    await payWithCard(frame, CARDS.declined)
    const text = await screen(frame, 'Payment failed')
    expect(text).toContain('Your card was declined.')
    expect(text).not.toMatch(/card_declined|error|undefined/i)
    await expectNoAxeViolations(frame)
    await screenshotFrame(checkout, 'failed')

    const events = await waitForShopEvent(page, 'payment_intent.failed')
    expect(eventTypes(events)).toEqual(['ready', 'payment_intent.processing', 'payment_intent.failed'])
    expect(events.find((e) => e.data.type === 'payment_intent.failed')?.data.payment_intent_id).toBe(intentId)
    expect(await intent(p, intentId)).toMatchObject({ status: 'failed', failure_code: 'card_declined', card: { last4: '0002' } })
  })

  it('reloading a used link shows "already used" and tells the parent link.used', async () => {
    const { p, intentId, page, frame } = await newCheckout()
    await frame.getByLabel('Card number').waitFor()
    await waitForShopEvent(page, 'ready')

    await page.reload({ waitUntil: 'load' })
    const again: Checkout = { page, frame: (await (await page.waitForSelector('#pay')).contentFrame())! }
    const text = await screen(again.frame, 'This payment link was already used')
    expect(text).toContain('Each payment link works once.')
    expect(await again.frame.getByLabel('Card number').count()).toBe(0)
    await expectNoAxeViolations(again.frame)
    await screenshotFrame(again, 'used')

    const events = await waitForShopEvent(page, 'link.used')
    expect(eventTypes(events)).toEqual(['ready', 'link.used'])
    for (const e of events) expect(e).toMatchObject({ origin: paylinkOrigin, data: { payment_intent_id: intentId } })
    // Opening the link claimed it; nothing was paid.
    expect(await intent(p, intentId)).toMatchObject({ status: 'pending' })
  })

  it('an expired link shows the expired screen, tells the parent link.expired, and the intent is failed / link_expired', async () => {
    const p = await payer()
    const { payUrl, intentId } = await mint(p)
    server.clock.advance(11 * 60 * 1000)
    const checkout = await checkoutIn(payUrl)

    const text = await screen(checkout.frame, 'This payment link has expired')
    expect(text).toContain('Go back to the shop to start the payment again.')
    await expectNoAxeViolations(checkout.frame)
    await screenshotFrame(checkout, 'expired')

    const events = await waitForShopEvent(checkout.page, 'link.expired')
    expect(eventTypes(events)).toEqual(['ready', 'link.expired'])
    expect(events.find((e) => e.data.type === 'link.expired')?.data.payment_intent_id).toBe(intentId)
    expect(await intent(p, intentId)).toMatchObject({ status: 'failed', failure_code: 'link_expired' })
  })

  it('saves a card; the next link offers it and pays with it in one click', async () => {
    const p = await payer()
    const first = await mint(p)
    const one = await checkoutIn(first.payUrl)
    await typeCard(one.frame, CARDS.visa)
    await one.frame.getByLabel('Save card for future use').check()
    await one.frame.getByRole('button', { name: 'Pay $12.50' }).click()
    await screen(one.frame, 'Payment successful')

    const cards = (await p.api.get(`/v1/platform/users/${p.userId}/cards`)).body.data
    expect(cards).toHaveLength(1)
    expect(cards[0]).toMatchObject({ brand: 'visa', last4: '4242', exp_month: EXPIRY.month, exp_year: EXPIRY.year })

    const second = await mint(p, { amount: '30.00' })
    const two = await checkoutIn(second.payUrl)
    const saved = two.frame.getByRole('radio', { name: `Visa ending in 4242, expires 12/${String(EXPIRY.year).slice(-2)}` })
    await saved.waitFor()
    expect(await saved.isChecked()).toBe(true)
    expect(await two.frame.getByRole('group', { name: 'Saved cards' }).isVisible()).toBe(true)
    expect(await two.frame.getByLabel('Card number').isVisible()).toBe(false)
    await expectNoAxeViolations(two.frame)
    await screenshotFrame(two, 'saved-card')

    await two.frame.getByRole('button', { name: 'Pay $30.00' }).click()
    await screen(two.frame, 'Payment successful')
    await waitForShopEvent(two.page, 'payment_intent.succeeded')
    expect(await intent(p, second.intentId)).toMatchObject({ status: 'succeeded', amount: '30.00', saved_card_id: cards[0].id, card: { brand: 'visa', last4: '4242' } })
  })

  it(`3-D Secure (${spaced(CARDS.challenge)}): the challenge screen, approve → success`, async () => {
    const checkout = await newCheckout()
    const { p, intentId, page, frame } = checkout
    await payWithCard(frame, CARDS.challenge)

    const text = await screen(frame, 'Confirm with your bank')
    expect(text).toContain('$12.50')
    expect(await focusedId(frame)).toBe('challenge-approve')
    await expectNoAxeViolations(frame)
    await screenshotFrame(checkout, 'challenge')
    expect(await intent(p, intentId)).toMatchObject({ status: 'processing' })

    await frame.getByRole('button', { name: 'Approve' }).click()
    await screen(frame, 'Payment successful')
    const events = await waitForShopEvent(page, 'payment_intent.succeeded')
    expect(eventTypes(events)).toEqual(['ready', 'payment_intent.processing', 'payment_intent.succeeded'])
    expect(await intent(p, intentId)).toMatchObject({ status: 'succeeded', card: { brand: 'visa', last4: '3184' } })
  })

  it('3-D Secure: decline → failure screen, the intent is failed / authentication_failed', async () => {
    const { p, intentId, page, frame } = await newCheckout()
    await payWithCard(frame, CARDS.challenge)
    await screen(frame, 'Confirm with your bank')

    await frame.getByRole('button', { name: 'Decline' }).click()
    const text = await screen(frame, 'Payment failed')
    expect(text).toContain('The payment was not confirmed with your bank.')
    const events = await waitForShopEvent(page, 'payment_intent.failed')
    expect(eventTypes(events)).toEqual(['ready', 'payment_intent.processing', 'payment_intent.failed'])
    expect(events.find((e) => e.data.type === 'payment_intent.failed')?.data.payment_intent_id).toBe(intentId)
    expect(await intent(p, intentId)).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' })
  })

  it('can be paid with the keyboard alone; errors are announced and focus goes to the first bad field', async () => {
    const { p, intentId, page, frame } = await newCheckout()
    await waitForShopEvent(page, 'ready')
    const kb = page.keyboard

    await kb.press('Tab')
    expect(await focusedId(frame)).toBe('cc-number')
    // Enter on the empty form: every problem is shown, announced, and focus stays on the number.
    await kb.press('Enter')
    await frame.getByText('Enter a valid card number.').waitFor()
    expect(await frame.locator('[role="alert"]:not(:empty)').allInnerTexts()).toEqual(['Enter a valid card number.', 'Enter an expiry date in the future.', 'Enter the security code.'])
    expect(await frame.getByLabel('Card number').getAttribute('aria-invalid')).toBe('true')
    expect(await focusedId(frame)).toBe('cc-number')
    await expectNoAxeViolations(frame)

    // Each field typed, then Tab to the next one in order.
    for (const [typed, next] of [
      [CARDS.visa, 'cc-exp'],
      [EXPIRY.typed, 'cc-csc'],
      ['123', 'cc-name'],
      ['Ada Lovelace', 'save-card'],
    ]) {
      await kb.type(typed!)
      await kb.press('Tab')
      expect(await focusedId(frame)).toBe(next)
    }
    await kb.press('Space')
    await kb.press('Tab')
    expect(await focusedId(frame)).toBe('pay-button')
    await kb.press('Enter')

    await screen(frame, 'Payment successful')
    expect(await focusedId(frame)).toBe('screen-succeeded')
    await waitForShopEvent(page, 'payment_intent.succeeded')
    expect(await intent(p, intentId)).toMatchObject({ status: 'succeeded', card: { last4: '4242' } })
    // Space ticked "Save card for future use".
    expect((await p.api.get(`/v1/platform/users/${p.userId}/cards`)).body.data).toMatchObject([{ last4: '4242' }])
  })

  it('locks the Pay button while the payment is in flight', async () => {
    const p = await payer()
    const { payUrl, intentId } = await mint(p)
    const context = await newShopperContext(browser)
    contexts.push(context)
    let confirms = 0
    context.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/confirm')) confirms++
    })
    // The confirm call is held until the test lets it through.
    let hold!: (route: Route) => void
    const held = new Promise<Route>((resolve) => (hold = resolve))
    await context.route('**/pay/*/confirm', (route) => hold(route))
    const { page, frame } = await openInShop(context, shop, payUrl)
    await typeCard(frame, CARDS.visa)
    const button = frame.getByRole('button', { name: 'Pay $12.50' })
    expect(await button.isEnabled()).toBe(true)
    await button.click()

    const route = await held
    expect(await button.isDisabled()).toBe(true)
    expect(await button.getAttribute('aria-busy')).toBe('true')
    await waitForShopEvent(page, 'payment_intent.processing')
    // A second try while in flight sends nothing.
    await frame.getByLabel('Name on card').press('Enter')
    await button.click({ force: true })
    expect(confirms).toBe(1)

    await route.continue()
    await screen(frame, 'Payment successful')
    expect(confirms).toBe(1)
    expect(await intent(p, intentId)).toMatchObject({ status: 'succeeded' })
  })

  it('shows the amount and words in the visitor’s language (de-DE)', async () => {
    const { frame } = await newCheckout({ amount: '12.50', currency: 'EUR' }, { locale: 'de-DE' })
    await frame.getByLabel('Kartennummer').waitFor()
    expect(await frame.locator('#amount').innerText()).toBe('12,50\u00a0€')
    expect(await frame.getByRole('button', { name: '12,50\u00a0€ bezahlen' }).isVisible()).toBe(true)
  })
})

describe('where the page may not be shown', () => {
  it('a shop whose origin the tenant did not allow cannot frame the page (frame-ancestors), and nothing is charged', async () => {
    const p = await payer()
    const { payUrl, intentId } = await mint(p)
    const context = await newShopperContext(browser)
    contexts.push(context)
    const page = await context.newPage()
    const refused = page.waitForEvent('console', (m) => /frame-ancestors/.test(m.text()))
    await page.goto(otherShop.pageUrl(payUrl), { waitUntil: 'load' })
    const frame = (await (await page.waitForSelector('#pay')).contentFrame())!

    // Chromium blocks the response and shows its own error page in the frame instead.
    expect((await refused).text()).toContain(`frame-ancestors ${shop.origin}`)
    expect(frame.url()).toBe('chrome-error://chromewebdata/')
    expect(await frame.locator('#pay-form').count()).toBe(0)
    expect(await shopEvents(page)).toEqual([])
    expect(await intent(p, intentId)).toMatchObject({ status: 'pending', card: null })
  })

  it('a top-level visit explains that the page opens inside the shop, and does not claim the link', async () => {
    const p = await payer()
    const { payUrl } = await mint(p)
    const context = await newShopperContext(browser)
    contexts.push(context)
    const page = await context.newPage()
    await page.setViewportSize({ width: 480, height: 320 })
    const res = await page.goto(payUrl)
    expect(res?.status()).toBe(200)
    const text = await screen(page.mainFrame(), 'Open this payment from the shop')
    expect(text).toContain('This payment page works only inside the shop’s own website.')
    expect(await page.getByLabel('Card number').count()).toBe(0)
    await expectNoAxeViolations(page.mainFrame())
    await screenshotPage(page, 'top-level')

    // The link is still there for the shop's iframe.
    const { frame } = await checkoutIn(payUrl)
    await frame.getByRole('button', { name: 'Pay $12.50' }).waitFor()
  })

  it('an unknown link shows "not found" and reveals nothing', async () => {
    const context = await newShopperContext(browser)
    contexts.push(context)
    const page = await context.newPage()
    await page.setViewportSize({ width: 480, height: 320 })
    const res = await page.goto(`${server.baseUrl}/pay/${'A'.repeat(43)}`)
    expect(res?.status()).toBe(404)
    const text = await screen(page.mainFrame(), 'Payment link not found')
    expect(text).toContain('Check the link, or go back to the shop to start the payment again.')
    expect(await page.locator('body').innerText()).not.toMatch(/Test Shop|\$|€/)
    await expectNoAxeViolations(page.mainFrame())
    await screenshotPage(page, 'not-found')
  })
})
