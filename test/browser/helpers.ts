/**
 * Browser-test helpers: Debian's chromium driven by playwright-core, a tiny "tenant shop"
 * on its own origin that embeds a pay_url in an iframe and records the page's postMessage
 * events, axe-core run inside the payment frame, and screenshots for the README.
 */
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core'

export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots')

/** Launches Debian's chromium (never a downloaded one) headless, with a fresh profile. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync'],
  })
}

/** A browser context (own storage, fixed viewport and language) as a shopper would have it. */
export function newShopperContext(browser: Browser, opts: { locale?: string } = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 520, height: 900 }, deviceScaleFactor: 1, locale: opts.locale ?? 'en-US' })
}

/** One `message` event the shop page received from the payment frame. */
export interface PaylinkEvent {
  origin: string
  fromFrame: boolean
  data: { source: 'paylink'; version: number; type: string; payment_intent_id: string; height?: number; failure_code?: string }
}

export interface Shop {
  origin: string
  /** The shop's checkout page embedding `payUrl`. */
  pageUrl(payUrl: string): string
  close(): Promise<void>
}

const escAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')

/**
 * The tenant's own page: an iframe with the pay_url, sized from the frame's `height`, and
 * every `message` whose data.source is "paylink" kept in window.__events. Its inline script
 * is the tenant's, not ours (this page has no CSP).
 */
function shopHtml(payUrl: string) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Test shop — checkout</title>
<style>body { margin: 0; font-family: sans-serif; } iframe { display: block; border: 0; width: 480px; height: 640px; }</style>
<script>
window.__events = [];
window.addEventListener('message', function (e) {
  if (!e.data || e.data.source !== 'paylink') return;
  var frame = document.getElementById('pay');
  window.__events.push({ origin: e.origin, fromFrame: !!frame && e.source === frame.contentWindow, data: e.data });
  if (frame && typeof e.data.height === 'number') frame.style.height = e.data.height + 'px';
});
</script>
</head>
<body>
<iframe id="pay" title="Card payment" src="${escAttr(payUrl)}"></iframe>
</body>
</html>
`
}

/** Starts a shop on 127.0.0.1 with its own port: an origin other than paylink's. */
export async function startShop(): Promise<Shop> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop.invalid')
    const payUrl = url.searchParams.get('pay')
    if (url.pathname !== '/checkout' || !payUrl) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(shopHtml(payUrl))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return {
    origin,
    pageUrl: (payUrl) => `${origin}/checkout?pay=${encodeURIComponent(payUrl)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface Checkout {
  page: Page
  /** The payment page inside the shop's iframe. */
  frame: Frame
}

/** Opens the shop's checkout page with `payUrl` in its iframe and waits for the frame to load. */
export async function openInShop(context: BrowserContext, shop: Shop, payUrl: string): Promise<Checkout> {
  const page = await context.newPage()
  await page.goto(shop.pageUrl(payUrl), { waitUntil: 'load' })
  const handle = await page.waitForSelector('#pay')
  const frame = await handle.contentFrame()
  if (!frame) throw new Error('the shop page has no payment frame')
  return { page, frame }
}

/** Every paylink event the shop page has received so far. */
export const shopEvents = (page: Page): Promise<PaylinkEvent[]> => page.evaluate(() => (window as unknown as { __events: PaylinkEvent[] }).__events)

/** Waits until the shop page has received an event of `type`; returns all events so far. */
export async function waitForShopEvent(page: Page, type: string): Promise<PaylinkEvent[]> {
  await page.waitForFunction((t) => (window as unknown as { __events: PaylinkEvent[] }).__events.some((e) => e.data.type === t), type)
  return shopEvents(page)
}

/** The event types the shop received, in order, without the `resize` noise. */
export const eventTypes = (events: PaylinkEvent[]) => events.map((e) => e.data.type).filter((t) => t !== 'resize')

const require = createRequire(import.meta.url)
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  targets: string[]
}

/**
 * Runs axe-core inside `frame` (loaded through DevTools evaluation, which the page's CSP
 * does not govern: the page itself still loads no third-party script) and returns its
 * violations in a readable form.
 */
export async function axeViolations(frame: Frame): Promise<AxeViolation[]> {
  const loaded = await frame.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined')
  if (!loaded) await frame.evaluate(AXE_SOURCE)
  return frame.evaluate(async () => {
    type AxeResult = { passes: unknown[]; violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<AxeResult> } }).axe
    const result = await axe.run(document, { resultTypes: ['violations'] })
    if (result.passes.length === 0) throw new Error('axe-core checked nothing on this page')
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }))
  })
}

/** Waits until the shop has sized the iframe to the payment page's height (the `resize` events). */
async function frameSettled({ page, frame }: Checkout) {
  await expect
    .poll(async () => {
      const content = await frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height))
      const box = await page.evaluate(() => Math.round(document.getElementById('pay')!.getBoundingClientRect().height))
      return box === content
    })
    .toBe(true)
}

/** Writes docs/screenshots/<name>.png of the payment frame as the shop shows it. */
export async function screenshotFrame(checkout: Checkout, name: string) {
  await frameSettled(checkout)
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true })
  await checkout.page.locator('#pay').screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), animations: 'disabled', caret: 'hide' })
}

/**
 * Writes docs/screenshots/<name>.png of a whole page (a top-level visit) at its fixed viewport,
 * or all of it with `fullPage`. A screen showing what changes from run to run (ids, times: the
 * portal's) is `volatile`: it is taken every run but written only when missing or with
 * UPDATE_SCREENSHOTS=1, so that a test run leaves the working tree clean.
 */
export async function screenshotPage(page: Page, name: string, opts: { fullPage?: boolean; volatile?: boolean } = {}) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const file = path.join(SCREENSHOT_DIR, `${name}.png`)
  const write = !opts.volatile || process.env.UPDATE_SCREENSHOTS === '1' || !fs.existsSync(file)
  await page.screenshot({ ...(write ? { path: file } : {}), animations: 'disabled', caret: 'hide', fullPage: opts.fullPage ?? false })
}

/** The id of the element that has focus inside `frame`. */
export const focusedId = (frame: Frame) => frame.evaluate(() => document.activeElement?.id ?? '')

/** A future expiry as the page asks for it ("MM / YY" typed as digits). */
export function futureExpiry() {
  const year = (new Date().getUTCFullYear() + 3) % 100
  return { typed: `12${String(year).padStart(2, '0')}`, shown: `12 / ${String(year).padStart(2, '0')}`, month: 12, year: 2000 + year }
}
