/**
 * The hosted page as a tenant's iframe uses it: mint a link through the API, load it in a
 * frame (the first framed load claims it and holds the page-session secret), then confirm a
 * card or answer 3-D Secure with that secret.
 */
import { expect } from 'vitest'
import { CARDS, newCard } from './cards.js'
import type { ApiResponse } from './world.js'
import type { TestServer } from './server.js'

/** What a browser sends when it loads the page in an iframe, and as a top-level navigation. */
export const FRAME = { 'sec-fetch-dest': 'iframe' }
export const TOP_LEVEL = { 'sec-fetch-dest': 'document' }

/** Whoever mints: a user of a tenant and an API client of that tenant. */
export interface Minter {
  api: { post(path: string, body?: unknown): Promise<ApiResponse> }
  userId: string
}

export interface Link {
  intentId: string
  payUrl: string
  /** The pay_url's last segment. */
  token: string
  expiresAt: string
}

/** The pay_url's token (the last segment). */
export const tokenOf = (payUrl: string) => payUrl.slice(payUrl.lastIndexOf('/') + 1)

/**
 * Mints a link for the payer's user through the API (POST /v1/platform/card/payment-link),
 * 12.50 unless the body says otherwise; the test fails unless the answer is 201.
 */
export async function mint(payer: Minter, body: Record<string, unknown> = {}): Promise<Link> {
  const r = await payer.api.post('/v1/platform/card/payment-link', { user_id: payer.userId, amount: '12.50', ...body })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  const payUrl = r.body.data.pay_url as string
  return { intentId: r.body.data.payment_intent_id as string, payUrl, token: tokenOf(payUrl), expiresAt: r.body.data.expires_at as string }
}

/** The page-session secret a page holds (`data-session="…"`), or undefined. */
export const sessionOf = (html: string) => /data-session="([^"]+)"/.exec(html)?.[1]

export interface PageLoad {
  status: number
  headers: Headers
  html: string
  session: string | undefined
}

/** GET /pay/{token} with the headers a browser sends (a frame's unless told); the page and the session it holds, if any. */
export async function loadPage(payUrl: string, headers: Record<string, string> = FRAME, init: { signal?: AbortSignal } = {}): Promise<PageLoad> {
  const r = await fetch(payUrl, { headers, ...init })
  const html = await r.text()
  return { status: r.status, headers: r.headers, html, session: sessionOf(html) }
}

/** The framed load that claims the link: the page and its page-session secret; fails the test when the page holds none. */
export async function claimPage(payUrl: string, headers: Record<string, string> = FRAME): Promise<PageLoad & { session: string }> {
  const page = await loadPage(payUrl, headers)
  expect(page.session, `a page session in ${page.html.slice(0, 200)}`).toBeTruthy()
  return page as PageLoad & { session: string }
}

/** Mints a link (see mint) and claims it in its frame. */
export async function openLink(payer: Minter, body: Record<string, unknown> = {}) {
  const link = await mint(payer, body)
  return { ...link, ...(await claimPage(link.payUrl)) }
}
export type OpenLink = Awaited<ReturnType<typeof openLink>>

export interface PageAnswer {
  status: number
  headers: Headers
  text: string
  /** The answer parsed as JSON, or undefined when it is not JSON. */
  body: any
}

export interface PageCallOptions {
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** POST /pay/{token}/confirm or /challenge, with the page-session header when a session is given. */
export async function pagePost(payUrl: string, what: 'confirm' | 'challenge', session: string | undefined, body: unknown, opts: PageCallOptions = {}): Promise<PageAnswer> {
  const r = await fetch(`${payUrl}/${what}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(session !== undefined ? { 'x-paylink-session': session } : {}), ...opts.headers },
    body: JSON.stringify(body),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })
  const text = await r.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: r.status, headers: r.headers, text, body: parsed }
}

/** POST /pay/{token}/confirm: `body` is what the page sends ({card} or {saved_card_id}, save_card). */
export const confirm = (payUrl: string, session: string | undefined, body: unknown, opts?: PageCallOptions) => pagePost(payUrl, 'confirm', session, body, opts)

/** POST /pay/{token}/challenge: the cardholder's 3-D Secure answer. */
export const answerChallenge = (payUrl: string, session: string | undefined, answer: unknown, opts?: PageCallOptions) => pagePost(payUrl, 'challenge', session, { answer }, opts)

/** Claims the link in its frame and confirms `number`; the test fails unless the confirm answers 200. Returns the answer's data. */
export async function payLink(payUrl: string, number: string = CARDS.visa): Promise<{ payment_intent_id: string; status: string; failure_code: string | null; [k: string]: any }> {
  const { session } = await claimPage(payUrl)
  const r = await confirm(payUrl, session, { card: newCard(number) })
  expect(r.status, r.text).toBe(200)
  return r.body.data
}

/** Mints a link and pays it with `number` (the visa test card by default). */
export async function pay(payer: Minter, number: string = CARDS.visa, body: Record<string, unknown> = {}) {
  const link = await mint(payer, body)
  return { ...link, answer: await payLink(link.payUrl, number) }
}

/** How many charges the sandbox holds for this intent (its idempotency key). */
export async function chargesFor(server: TestServer, intentId: string): Promise<number> {
  return (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sandbox_charges WHERE idempotency_key = $1', [intentId]))[0]!.n
}
