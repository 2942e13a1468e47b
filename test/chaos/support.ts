/**
 * What the chaos suite shares: real `paylink serve` children on the suite's own PostgreSQL
 * database (started, killed with SIGKILL, restarted on the same port), the hosted page's
 * calls (open in a frame, confirm, answer 3-D Secure), and the ledger of money and events
 * that every scenario ends by checking.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Db } from '../../src/storage/db.js'
import { freePort, sleep, until, type TestServer } from '../helpers/app.js'

export { freePort, sleep, until }

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export const SUCCEEDS = ['4242424242424242', '5555555555554444', '378282246310005']
export const DECLINES = ['4000000000000002', '4000000000009995', '4000000000000069', '4000000000000127', '4000000000000119']

/** A card for the i-th link: about two thirds succeed, the rest decline in every way the sandbox knows. */
export const cardFor = (i: number) => (i % 3 === 2 ? DECLINES[Math.floor(i / 3) % DECLINES.length]! : SUCCEEDS[i % SUCCEEDS.length]!)
/** Asks for 3-D Secure: approve succeeds, decline fails as authentication_failed. */
export const CHALLENGE = '4000002760003184'


/** One `paylink serve` process, restartable on its port. */
export class ServeProcess {
  child: ChildProcess | undefined
  exited: Promise<void> = Promise.resolve()
  readonly output: string[] = []
  readonly baseUrl: string
  starts = 0
  kills = 0
  /** Set by `retire()` (afterAll): never started again, whatever is still running. */
  retired = false
  /** When the current incarnation started (real time). */
  startedAt = 0

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`
  }

  get alive() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** Starts the process and resolves once /readyz answers 200. */
  async start(timeoutMs = 60_000) {
    if (this.alive) throw new Error(`${this.name} is already running`)
    if (this.retired) throw new Error(`${this.name} is retired`)
    this.startedAt = Date.now()
    const child = spawn(process.execPath, ['bin/paylink.mjs', 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? os.tmpdir(),
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        PUBLIC_BASE_URL: this.baseUrl,
        LOG_LEVEL: 'warn',
        ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
        RATE_LIMIT_MULTIPLIER: '1000',
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    this.starts++
    const keep = (c: Buffer) => {
      this.output.push(c.toString())
      if (this.output.length > 200) this.output.splice(0, this.output.length - 200)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    await until(
      `${this.name} is ready`,
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited early:\n${this.output.join('')}`)
        try {
          const r = await fetch(`${this.baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) })
          await r.arrayBuffer()
          return r.status === 200
        } catch {
          return false
        }
      },
      timeoutMs,
      100,
    )
  }

  /** SIGKILL: no shutdown, no goodbye. Resolves once the process is gone. */
  async kill() {
    if (!this.alive) return
    this.child!.kill('SIGKILL')
    this.kills++
    await this.exited
  }

  /** Kills for good (afterAll). */
  async retire() {
    this.retired = true
    if (this.alive) this.child!.kill('SIGKILL')
    await this.exited
  }
}

/** Every process started by a file, to kill in afterAll whatever happened. */
export async function killAll(processes: ServeProcess[]) {
  await Promise.all(processes.map((p) => p.retire().catch(() => {})))
}

/** The pay_url's token (the children serve the same links under their own origin). */
export const tokenOf = (payUrl: string) => new URL(payUrl).pathname.split('/').pop()!

export interface Minted {
  index: number
  intentId: string
  token: string
  card: string
}

/** Mints the i-th link for the payer's user through the service itself (in-process, same database). */
export async function mintLink(server: TestServer, payer: { tenant: { tenantId: string }; userId: string }, index: number): Promise<Minted> {
  const amount = `${10 + (index % 90)}.${String(index % 100).padStart(2, '0')}`
  const r = await server.services.payments.mintLink(payer.tenant.tenantId as never, { user_id: payer.userId, amount })
  return { index, intentId: r.paymentIntentId, token: tokenOf(r.payUrl), card: cardFor(index) }
}

/** Mints `count` links, indexed from `from`. */
export async function mintLinks(server: TestServer, payer: { tenant: { tenantId: string }; userId: string }, count: number, from = 0): Promise<Minted[]> {
  const out: Minted[] = []
  const batch = 25
  for (let start = 0; start < count; start += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - start) }, (_, k) => mintLink(server, payer, from + start + k)))))
  }
  return out
}

/** Opens a link as the tenant's iframe does; returns the page-session secret, or the HTTP status when the page is not the card form. */
export async function openInFrame(baseUrl: string, token: string): Promise<{ session?: string; status: number }> {
  const r = await fetch(`${baseUrl}/pay/${token}`, { headers: { 'sec-fetch-dest': 'iframe' }, signal: AbortSignal.timeout(30_000) })
  const html = await r.text()
  const session = /data-session="([^"]+)"/.exec(html)?.[1]
  return session ? { session, status: r.status } : { status: r.status }
}

export interface ConfirmAnswer {
  status: number
  code?: string
  data?: { payment_intent_id: string; status: string; failure_code: string | null }
}

/** One POST /pay/{token}/{call} with the page-session secret. Throws on a connection error (the server died under it). */
async function postPage(baseUrl: string, token: string, session: string, call: 'confirm' | 'challenge', payload: unknown): Promise<ConfirmAnswer> {
  const r = await fetch(`${baseUrl}/pay/${token}/${call}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-paylink-session': session },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await r.text()
  let body: any
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: r.status, ...(body?.error?.code ? { code: body.error.code as string } : {}), ...(body?.data ? { data: body.data } : {}) }
}

/** One POST /pay/{token}/confirm with a new card. */
export const confirmOnce = (baseUrl: string, token: string, session: string, card: string) =>
  postPage(baseUrl, token, session, 'confirm', { card: { number: card, exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: card.startsWith('37') ? '1234' : '123' } })

/** One POST /pay/{token}/challenge: the cardholder's 3-D Secure answer. */
export const answerOnce = (baseUrl: string, token: string, session: string, answer: 'approve' | 'decline') => postPage(baseUrl, token, session, 'challenge', { answer })

/** Runs `fn` on every item with at most `concurrency` at once. */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>, stop?: () => boolean) {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length && !stop?.()) await fn(items[next++]!)
    }),
  )
}

export interface Ledger {
  intents: number
  pending: number
  processing: number
  succeeded: number
  failed: number
  expired: number
  /** sandbox_charges rows for these intents, and those that succeeded. */
  charges: number
  succeededCharges: number
  /** Succeeded intents without a succeeded charge of the same reference. */
  succeededWithoutCharge: string[]
  /** Succeeded charges whose intent did not succeed (money taken for nothing). */
  chargedNotSucceeded: string[]
  /** Terminal intents with a number of events other than one, or an event of the wrong type. */
  badEvents: string[]
  events: number
  deliveries: number
  deliveriesSucceeded: number
}

/** Reads the money and the events of the given intents from the database (the processor's side is sandbox_charges). */
export async function ledger(db: Db, tenantId: string, intentIds: string[]): Promise<Ledger> {
  const [s] = await db.query<Record<string, number>>(
    `SELECT count(*)::int AS intents,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'processing')::int AS processing,
            count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE failure_code = 'link_expired')::int AS expired
       FROM payment_intents WHERE tenant_id = $1 AND id = ANY ($2)`,
    [tenantId, intentIds],
  )
  const [c] = await db.query<{ charges: number; succeeded: number }>(
    `SELECT count(*)::int AS charges, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded FROM sandbox_charges WHERE idempotency_key = ANY ($1)`,
    [intentIds],
  )
  const succeededWithoutCharge = await db.query<{ id: string }>(
    `SELECT i.id FROM payment_intents i
       LEFT JOIN sandbox_charges c ON c.idempotency_key = i.id AND c.status = 'succeeded' AND c.reference = i.processor_reference AND c.amount_minor = i.amount_minor
      WHERE i.tenant_id = $1 AND i.id = ANY ($2) AND i.status = 'succeeded' AND c.idempotency_key IS NULL`,
    [tenantId, intentIds],
  )
  const chargedNotSucceeded = await db.query<{ id: string }>(
    `SELECT c.idempotency_key AS id FROM sandbox_charges c
       LEFT JOIN payment_intents i ON i.tenant_id = $1 AND i.id = c.idempotency_key
      WHERE c.idempotency_key = ANY ($2) AND c.status = 'succeeded' AND i.status IS DISTINCT FROM 'succeeded'`,
    [tenantId, intentIds],
  )
  const badEvents = await db.query<{ id: string }>(
    `SELECT i.id FROM payment_intents i
       LEFT JOIN events e ON e.tenant_id = i.tenant_id AND e.payment_intent_id = i.id
      WHERE i.tenant_id = $1 AND i.id = ANY ($2) AND i.status IN ('succeeded', 'failed')
      GROUP BY i.id, i.status
     HAVING count(e.id) <> 1 OR bool_or(e.type <> 'payment_intent.' || i.status)`,
    [tenantId, intentIds],
  )
  const [e] = await db.query<{ events: number; deliveries: number; delivered: number }>(
    `SELECT (SELECT count(*)::int FROM events WHERE tenant_id = $1 AND payment_intent_id = ANY ($2)) AS events,
            count(d.id)::int AS deliveries, count(d.id) FILTER (WHERE d.status = 'succeeded')::int AS delivered
       FROM events ev JOIN deliveries d ON d.tenant_id = ev.tenant_id AND d.event_id = ev.id
      WHERE ev.tenant_id = $1 AND ev.payment_intent_id = ANY ($2)`,
    [tenantId, intentIds],
  )
  return {
    intents: s!.intents!,
    pending: s!.pending!,
    processing: s!.processing!,
    succeeded: s!.succeeded!,
    failed: s!.failed!,
    expired: s!.expired!,
    charges: c!.charges,
    succeededCharges: c!.succeeded,
    succeededWithoutCharge: succeededWithoutCharge.map((r) => r.id),
    chargedNotSucceeded: chargedNotSucceeded.map((r) => r.id),
    badEvents: badEvents.map((r) => r.id),
    events: e!.events,
    deliveries: e!.deliveries,
    deliveriesSucceeded: e!.delivered,
  }
}

/** A scratch DATA_DIR for children (never used with DATABASE_URL set, but kept out of the repository). */
export const scratchDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'paylink-chaos-'))
