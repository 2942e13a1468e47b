/**
 * What the chaos suite shares: real `paylink serve` children on the suite's own PostgreSQL
 * database (started, killed with SIGKILL, restarted on the same port), the hosted page's
 * calls (open in a frame, confirm, answer 3-D Secure), and the ledger of money and events
 * that every scenario ends by checking.
 */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import type { Db } from '../../src/storage/db.js'
import {
  DECLINING_TEST_CARDS,
  FRAME,
  SUCCEEDING_TEST_CARDS,
  newCard,
  freePort,
  loadPage,
  mint,
  openPrivateDb,
  pagePost,
  spawnPaylink,
  startServer,
  until,
  type Minter,
  type TestServer,
} from '../helpers/index.js'

/** A card for the i-th link: about two thirds succeed, the rest decline in every way the sandbox knows. */
export const cardFor = (i: number) => (i % 3 === 2 ? DECLINING_TEST_CARDS[Math.floor(i / 3) % DECLINING_TEST_CARDS.length]! : SUCCEEDING_TEST_CARDS[i % SUCCEEDING_TEST_CARDS.length]!)

/**
 * A chaos file's setup, declared in its describe: a database of its own, the in-process
 * server on it (started with `env`; it sets up tenants and mints), and `serve()` for the
 * `paylink serve` children on that database. Everything is gone after the file.
 */
export function chaosFile(env: Record<string, string> = {}) {
  const key = randomBytes(32)
  const processes: ServeProcess[] = []
  let database: Awaited<ReturnType<typeof openPrivateDb>> | undefined
  let server: TestServer | undefined
  let dataDir: string | undefined
  beforeAll(async () => {
    database = await openPrivateDb()
    server = await startServer(env, { db: database.db, encryptionKey: key })
  })
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.retire().catch(() => {})))
    await server?.close()
    await database?.drop()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })
  return {
    processes,
    get server(): TestServer {
      if (!server) throw new Error('the chaos test server starts in beforeAll')
      return server
    },
    /** A `paylink serve` child (ROLE=all unless told) on the file's database, with the server's key and a scratch DATA_DIR; not started. */
    async serve(name: string, extra: Record<string, string> = {}) {
      // A scratch DATA_DIR, never used with DATABASE_URL set, but kept out of the repository.
      dataDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'paylink-chaos-'))
      const p = new ServeProcess(name, await freePort(), { ...database!.env, DATA_ENCRYPTION_KEY: key.toString('base64'), DATA_DIR: dataDir, ROLE: 'all', ...extra })
      processes.push(p)
      return p
    },
  }
}

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
    const child = spawnPaylink(['serve'], {
      HOST: '127.0.0.1',
      PORT: String(this.port),
      PUBLIC_BASE_URL: this.baseUrl,
      LOG_LEVEL: 'warn',
      ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
      RATE_LIMIT_MULTIPLIER: '1000',
      ...this.env,
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

export interface Minted {
  index: number
  intentId: string
  token: string
  card: string
}

/** Mints the i-th link for the payer's user (its amount and card follow from i). */
export async function mintLink(payer: Minter, index: number): Promise<Minted> {
  const amount = `${10 + (index % 90)}.${String(index % 100).padStart(2, '0')}`
  const link = await mint(payer, { amount })
  return { index, intentId: link.intentId, token: link.token, card: cardFor(index) }
}

/** Mints `count` links, indexed from `from`. */
export async function mintLinks(payer: Minter, count: number, from = 0): Promise<Minted[]> {
  const out: Minted[] = []
  const batch = 25
  for (let start = 0; start < count; start += batch) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - start) }, (_, k) => mintLink(payer, from + start + k)))))
  }
  return out
}

/** Opens a link as the tenant's iframe does on `baseUrl` (the children serve the same links under their own origin): the page's status and session secret, if it is the card form. */
export const openInFrame = (baseUrl: string, token: string) => loadPage(`${baseUrl}/pay/${token}`, FRAME, { signal: AbortSignal.timeout(30_000) })

export interface ConfirmAnswer {
  status: number
  code?: string
  data?: { payment_intent_id: string; status: string; failure_code: string | null }
}

/** One POST /pay/{token}/{call} with the page-session secret. Throws on a connection error (the server died under it). */
async function postPage(baseUrl: string, token: string, session: string, call: 'confirm' | 'challenge', payload: unknown): Promise<ConfirmAnswer> {
  const { status, body } = await pagePost(`${baseUrl}/pay/${token}`, call, session, payload, { signal: AbortSignal.timeout(30_000) })
  return { status, ...(body?.error?.code ? { code: body.error.code as string } : {}), ...(body?.data ? { data: body.data } : {}) }
}

/** One POST /pay/{token}/confirm with a new card. */
export const confirmOnce = (baseUrl: string, token: string, session: string, number: string) => postPage(baseUrl, token, session, 'confirm', { card: newCard(number) })

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
