/**
 * `npm start` as a new user meets it (issue 5 items 1, 2, 7 and "How it is checked"): the
 * real `node bin/paylink.mjs serve` on a fresh DATA_DIR prints the demo tenant's credentials
 * and a curl, and serves the demo shop on a second origin. In Chromium the shop mints a live
 * link, shows the payment page through /embed.js, and after a payment with 4242 4242 4242
 * 4242 lists the page's payment_intent.succeeded event and the webhook its own endpoint
 * received, signature verified. /embed.js sizes the iframe to the page and ignores messages
 * that are not from that iframe on the paylink origin. SIGTERM stops the server cleanly
 * (exit 0); a second start on the same DATA_DIR prints the same credentials; with
 * NODE_ENV=production nothing of the demo runs.
 *
 * The tests run in order on one server process (the embedded database admits one).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core'
import { futureExpiry, launchBrowser, newShopperContext } from './helpers.js'
import { CARDS, freePort } from '../helpers/index.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Settings the server reads: the tests set the ones they mean, nothing leaks in from the runner. */
const CONFIG_VARS = [
  'PORT', 'HOST', 'PUBLIC_BASE_URL', 'DATABASE_URL', 'DATA_DIR', 'LINK_TTL_SECONDS', 'ACCESS_TOKEN_TTL_SECONDS', 'DATA_ENCRYPTION_KEY',
  'REDIS_URL', 'ROLE', 'LOG_LEVEL', 'NODE_ENV', 'ALLOW_PRIVATE_WEBHOOK_URLS', 'RATE_LIMIT_MULTIPLIER', 'DEMO_PORT',
]

const children = new Set<ChildProcess>()
let workDir: string
let baseEnv: Record<string, string>
let browser: Browser
const contexts: BrowserContext[] = []


/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

interface Serve {
  child: ChildProcess
  port: number
  demoPort: number
  dataDir: string
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** Resolves when the output matches `pattern` (rejects if the process exits first, or after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Resolves with the exit code (null if killed by a signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `node bin/paylink.mjs serve` on the given (else free) ports with `env` on top of a clean environment. */
async function startServe(dataDir: string, env: Record<string, string> = {}, ports: { port?: number; demoPort?: number } = {}): Promise<Serve> {
  const [port, demoPort] = await Promise.all([ports.port ?? freePort(), ports.demoPort ?? freePort()])
  const child = spawn(process.execPath, ['bin/paylink.mjs', 'serve'], {
    cwd: ROOT,
    env: { ...baseEnv, PORT: String(port), DEMO_PORT: String(demoPort), HOST: '127.0.0.1', PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let output = ''
  const waiters = new Set<() => void>()
  const onData = (d: Buffer) => {
    output += d.toString('utf8')
    for (const w of [...waiters]) w()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child)
      resolve({ code, signal })
    }),
  )
  const waitFor = (pattern: RegExp, timeoutMs = 45_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const done = () => {
        waiters.delete(check)
        clearTimeout(timer)
      }
      const check = () => {
        const m = output.match(pattern)
        if (m) {
          done()
          resolve(m)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no ${pattern} in the output of paylink serve within ${timeoutMs} ms:\n${output}`))
      }, timeoutMs)
      void exited.then(({ code, signal }) => {
        if (!waiters.has(check)) return
        done()
        reject(new Error(`paylink serve exited (${code ?? signal}) before printing ${pattern}:\n${output}`))
      })
      waiters.add(check)
      check()
    })
  return { child, port, demoPort, dataDir, output: () => output, waitFor, exited }
}

/** The demo banner's credentials, once it has been printed whole (it ends with the curl that mints a link). */
async function banner(s: Serve) {
  const [text] = await s.waitFor(/paylink is running with a demo tenant[\s\S]*?curl -s \S+\/v1\/platform\/card\/payment-link .*\n/)
  const field = (name: string) => new RegExp(`^\\s+${name}\\s+(\\S+)$`, 'm').exec(text)?.[1]
  return { text, tenantId: field('tenant_id'), clientId: field('client_id'), clientSecret: field('client_secret'), userId: field('demo user'), shopUrl: /Demo shop\s+(\S+)/.exec(text)?.[1] }
}

/** SIGTERM; resolves with how it exited and how long it took. */
async function terminate(s: Serve) {
  const started = Date.now()
  s.child.kill('SIGTERM')
  const how = await s.exited
  return { ...how, ms: Date.now() - started }
}

/**
 * A keep-alive client that has sent all but the end of a request's headers. `finish` sends
 * the rest and resolves with the answer's head; like a polling page, the client then asks
 * again every 300 ms for as long as the connection stays open. `closed` resolves when it ends.
 */
/** A connection to 127.0.0.1:`port` that sends nothing; `closed` resolves when the server ends it. */
async function openSocket(port: number) {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  return { closed: new Promise<void>((resolve) => socket.once('close', () => resolve())) }
}

async function halfRequest(port: number, urlPath: string) {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const request = `GET ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n`
  socket.write(request)
  let received = ''
  socket.on('data', (d) => (received += d.toString('latin1')))
  let poll: NodeJS.Timeout | undefined
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      clearInterval(poll)
      resolve()
    }),
  )
  const finish = () =>
    new Promise<string>((resolve, reject) => {
      const onData = () => {
        const end = received.indexOf('\r\n\r\n')
        if (end < 0) return
        socket.off('data', onData)
        poll = setInterval(() => socket.writable && socket.write(request + '\r\n'), 300)
        resolve(received.slice(0, end + 2))
      }
      socket.on('data', onData)
      void closed.then(() => reject(new Error(`the connection closed before an answer: ${received}`)))
      socket.write('\r\n')
    })
  return { finish, closed }
}

let first: Serve
let firstBanner: Awaited<ReturnType<typeof banner>>
let dataDir: string

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paylink-start-'))
  baseEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !CONFIG_VARS.includes(e[0])))
  dataDir = path.join(workDir, 'data')
  const launched = launchBrowser()
  first = await startServe(dataDir)
  ;[firstBanner, browser] = await Promise.all([banner(first), launched])
})

afterAll(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})))
  await browser?.close()
  for (const child of children) child.kill('SIGKILL')
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true })
})

const EXPIRY = futureExpiry()

/** The demo shop in a fresh browser profile. */
async function openShop(): Promise<Page> {
  const context = await newShopperContext(browser)
  contexts.push(context)
  const page = await context.newPage()
  await page.goto(firstBanner.shopUrl!, { waitUntil: 'load' })
  return page
}

/** Clicks "Buy now" and returns the payment frame that embed.js mounted in #checkout. */
async function buy(page: Page): Promise<Frame> {
  await page.getByRole('button', { name: 'Buy now' }).click()
  const frame = await (await page.waitForSelector('#checkout iframe')).contentFrame()
  if (!frame) throw new Error('embed.js mounted no frame')
  return frame
}

const iframeHeight = (page: Page, selector: string) => page.evaluate((s) => (document.querySelector(s) as HTMLIFrameElement).style.height, selector)

describe('npm start: the demo', () => {
  it('prints the demo tenant’s client id and secret and a curl that mints a link, and keeps them in DATA_DIR/demo.json', async () => {
    expect(firstBanner.shopUrl).toBe(`http://127.0.0.1:${first.demoPort}`)
    expect(firstBanner.tenantId).toMatch(/^ten_/)
    expect(firstBanner.clientId).toBeTruthy()
    expect(firstBanner.clientSecret).toBeTruthy()
    expect(firstBanner.userId).toMatch(/^usr_/)
    expect(firstBanner.text).toContain(`curl -s -u ${firstBanner.clientId}:${firstBanner.clientSecret} -d grant_type=client_credentials http://127.0.0.1:${first.port}/oauth/token`)
    const saved = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8'))
    expect(saved).toMatchObject({ clientId: firstBanner.clientId, clientSecret: firstBanner.clientSecret, shopOrigin: `http://127.0.0.1:${first.demoPort}` })
    expect(fs.statSync(path.join(dataDir, 'demo.json')).mode & 0o777).toBe(0o600)
  })

  it('the shop mints a link, the shopper pays with 4242 4242 4242 4242 in the iframe, and the shop shows the event and the verified webhook', async () => {
    const page = await openShop()
    const frame = await buy(page)
    // embed.js sized the frame to the page (from its 360 px start).
    await expect.poll(() => iframeHeight(page, '#checkout iframe')).not.toBe('360px')
    await expect
      .poll(async () => {
        const content = await frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height))
        return (await iframeHeight(page, '#checkout iframe')) === `${content}px`
      })
      .toBe(true)

    await frame.getByRole('heading', { name: 'Pay Demo Shop' }).waitFor()
    await frame.getByLabel('Card number').pressSequentially(CARDS.visa)
    await frame.getByLabel('Expiry date').pressSequentially(EXPIRY.typed)
    await frame.getByLabel('Security code').pressSequentially('123')
    await frame.getByLabel('Name on card').fill('Ada Lovelace')
    await frame.getByRole('button', { name: 'Pay $12.50' }).click()
    await frame.getByRole('heading', { name: 'Payment successful', exact: true }).waitFor()

    // The event the page sent to the shop, through embed.js's onEvent.
    const event = page.locator('#events li', { hasText: 'payment_intent.succeeded' })
    await event.waitFor()
    const intentId = /pi_\w+/.exec((await event.textContent()) ?? '')?.[0]
    expect(intentId).toBeTruthy()
    expect(await page.locator('#events li').allTextContents()).toEqual([`ready  ${intentId}`, `payment_intent.processing  ${intentId}`, `payment_intent.succeeded  ${intentId}`])

    // The webhook the shop's own server received, verified with its signature.
    const webhook = page.locator('#webhooks li', { hasText: intentId! })
    await webhook.waitFor({ timeout: 20_000 })
    expect(await webhook.textContent()).toBe(`payment_intent.succeeded  ${intentId}  ✓ signature verified`)
    expect(await webhook.getAttribute('class')).toBe('ok')
    expect(await page.locator('#webhooks li.bad').count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Buy now' }).isEnabled()).toBe(true)
  })

  it('embed.js resizes the iframe to the page and ignores messages from any other window or origin', async () => {
    const page = await openShop()
    const frame = await buy(page)
    await frame.getByLabel('Card number').waitFor()
    const paylinkOrigin = `http://127.0.0.1:${first.port}`

    // A second mount on the same page, recording what reaches its onEvent. Its frame is an
    // unknown link, which no one may frame and which tells no one anything.
    await page.evaluate((origin) => {
      const w = window as unknown as { __got: unknown[]; __second: { iframe: HTMLIFrameElement }; Paylink: { mount: (el: HTMLElement, url: string, o: object) => { iframe: HTMLIFrameElement } } }
      w.__got = []
      const el = document.createElement('div')
      el.id = 'second'
      document.body.appendChild(el)
      w.__second = w.Paylink.mount(el, `${origin}/pay/not-a-real-token`, { onEvent: (e: unknown) => w.__got.push(e) })
    }, paylinkOrigin)
    await page.waitForSelector('#second iframe')
    expect(await iframeHeight(page, '#second iframe')).toBe('360px')

    // A forged paylink message from the shop window itself (the wrong origin and window).
    const forged = { source: 'paylink', version: 1, type: 'payment_intent.succeeded', payment_intent_id: 'pi_forged', height: 999 }
    const delivered = await page.evaluate(
      (data) =>
        new Promise<unknown>((resolve) => {
          // Listeners run in the order they were added: once this one has it, embed.js's have seen it.
          window.addEventListener('message', function seen(e) {
            if ((e.data as { payment_intent_id?: string })?.payment_intent_id !== 'pi_forged') return
            window.removeEventListener('message', seen)
            resolve(e.origin)
          })
          window.postMessage(data, '*')
        }),
      forged,
    )
    expect(delivered).toBe(new URL(firstBanner.shopUrl!).origin)
    expect(await page.evaluate(() => (window as unknown as { __got: unknown[] }).__got)).toEqual([])
    expect(await page.locator('#events li', { hasText: 'pi_forged' }).count()).toBe(0)
    expect(await iframeHeight(page, '#second iframe')).toBe('360px')
    expect(await iframeHeight(page, '#checkout iframe')).not.toBe('999px')

    // The payment page grows: its frame on the paylink origin tells its own mount, which resizes;
    // the second mount, whose frame is another window, hears nothing of it.
    await frame.evaluate(() => {
      const tall = document.createElement('div')
      tall.style.height = '1500px'
      document.body.appendChild(tall)
    })
    const content = await frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height))
    expect(content).toBeGreaterThan(1500)
    await expect.poll(() => iframeHeight(page, '#checkout iframe')).toBe(`${content}px`)
    expect(await page.evaluate(() => (window as unknown as { __got: unknown[] }).__got)).toEqual([])
    expect(await iframeHeight(page, '#second iframe')).toBe('360px')
  })

  it('SIGTERM stops the server with exit 0 within seconds, shop pages open; a second start on the same DATA_DIR prints the same credentials', async () => {
    // Like an open shop page polling /webhooks over a kept-alive connection, but with its
    // request in flight when the shop stops listening: it is answered, and its connection
    // must then end rather than keep the shop (and the shutdown) open.
    const poller = await halfRequest(first.demoPort, '/webhooks')
    // Sockets a browser opens ahead of need and never uses (preconnects), to paylink and to the
    // shop: Node's close() waits for them, so the server must end them itself.
    const preconnects = await Promise.all([first.port, first.demoPort].map(openSocket))
    const started = Date.now()
    first.child.kill('SIGTERM')
    await first.waitFor(/shutting down/)
    while (await listening(first.demoPort)) await new Promise((r) => setTimeout(r, 25))
    const answer = await poller.finish()
    expect(answer).toMatch(/^HTTP\/1\.1 200 /)
    expect(answer).toMatch(/\r\nconnection: close\r\n/i)
    await poller.closed
    await Promise.all(preconnects.map((p) => p.closed))
    const stopped = await first.exited
    expect(stopped, first.output()).toMatchObject({ code: 0, signal: null })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(await listening(first.port)).toBe(false)
    expect(await listening(first.demoPort)).toBe(false)

    // Same ports: the demo tenant's allowed origin is the shop's, kept in demo.json.
    const again = await startServe(dataDir, {}, { port: first.port, demoPort: first.demoPort })
    const second = await banner(again)
    expect(second).toMatchObject({ tenantId: firstBanner.tenantId, clientId: firstBanner.clientId, clientSecret: firstBanner.clientSecret, userId: firstBanner.userId })
    // The printed credentials work.
    const basic = Buffer.from(`${second.clientId}:${second.clientSecret}`).toString('base64')
    const token = await fetch(`http://127.0.0.1:${again.port}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    })
    expect(token.status).toBe(200)
    const stoppedAgain = await terminate(again)
    expect(stoppedAgain, again.output()).toMatchObject({ code: 0, signal: null })
  }, 60_000)

  it('with NODE_ENV=production nothing of the demo runs: no banner, no shop port, no demo tenant', async () => {
    const prodDir = path.join(workDir, 'prod')
    const s = await startServe(prodDir, { NODE_ENV: 'production', DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64'), PUBLIC_BASE_URL: 'https://pay.example.com' })
    // It says where it really listens, and the public address it is reached at.
    await s.waitFor(new RegExp(`"msg":"paylink is listening on [^"]*:${s.port}, reached as https://pay\\.example\\.com`))
    expect((await fetch(`http://127.0.0.1:${s.port}/readyz`)).status).toBe(200)
    expect(await listening(s.demoPort)).toBe(false)
    const stopped = await terminate(s)
    expect(stopped, s.output()).toMatchObject({ code: 0, signal: null })
    expect(s.output()).not.toMatch(/demo/i)
    expect(fs.existsSync(path.join(prodDir, 'demo.json'))).toBe(false)
    expect(fs.existsSync(path.join(prodDir, 'encryption.key'))).toBe(false)
  }, 60_000)
})
