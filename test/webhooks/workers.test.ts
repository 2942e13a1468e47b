/**
 * SPEC "Webhooks" (transactional outbox, FOR UPDATE SKIP LOCKED) and "Running" (many
 * ROLE=worker processes on one PostgreSQL): real `paylink serve` worker processes share
 * the queue without sending a delivery twice, and a worker killed in the middle of a batch
 * loses nothing once it is restarted.
 * PostgreSQL only: the embedded database admits one process.
 *
 * The workers get a database of their own (beside the run's one, on the same server):
 * a worker drains the whole queue of its database, and on the run's shared database it
 * would also send the webhooks of every other test file.
 */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pay, payerWithEndpoint, setupClockedPayer, spawnPaylink, startReceiver, until as waitUntil, usingPostgres, type Receiver } from '../helpers/index.js'
import { newId } from '../../src/domain/shared/ids.js'
import type { PaymentIntent } from '../../src/domain/payments/intents.js'
import { writeOutcomeEvent } from '../../src/outbox/writer.js'
import { OUTBOX_CHANNEL } from '../../src/outbox/notify.js'
import { repositoriesOn } from '../../src/storage/store.js'
import { startWebhookServer, type WebhookServer } from './support.js'

const KEY = randomBytes(32)

interface Worker {
  name: string
  child: ChildProcess
  output: string[]
  exited: Promise<number | null>
}

const workers: Worker[] = []
const receivers: Receiver[] = []
let server: WebhookServer
let dataDir: string

/** Polls `check` every 100 ms until it holds (the workers run on real time). */
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) => waitUntil(what, check, timeoutMs, 100)

/** Starts `paylink serve` with ROLE=worker on the file's database; resolves once it runs. */
async function startWorker(name: string, env: Record<string, string> = {}): Promise<Worker> {
  const child = spawnPaylink(['serve'], {
    ROLE: 'worker',
    ...server.databaseEnv,
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    DATA_ENCRYPTION_KEY: KEY.toString('base64'),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    ...env,
  })
  const output: string[] = []
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()))
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const worker = { name, child, output, exited }
  workers.push(worker)
  let gone = false
  void exited.then(() => (gone = true))
  await until(`${name} has started`, () => {
    if (gone) throw new Error(`${name} exited early:\n${output.join('')}`)
    return output.join('').includes('paylink worker started')
  }, 60_000)
  return worker
}

/** Writes `count` final outcomes of the tenant, `perTransaction` at a time, as the outbox does: their events and deliveries. */
async function writeOutcomes(tenant: { tenantId: string; userId: string; accountId: string }, count: number, perTransaction: number): Promise<string[]> {
  const intentIds: string[] = []
  for (let done = 0; done < count; done += perTransaction) {
    await server.db.transaction(async (tx) => {
      for (let i = done; i < Math.min(count, done + perTransaction); i++) {
        const now = new Date()
        const succeeded = i % 3 !== 0
        const intent: PaymentIntent = {
          id: newId('paymentIntent'),
          tenantId: tenant.tenantId as PaymentIntent['tenantId'],
          userId: tenant.userId as PaymentIntent['userId'],
          accountId: tenant.accountId as PaymentIntent['accountId'],
          amountMinor: 100 + i,
          amountRefundedMinor: 0,
          currency: 'USD' as PaymentIntent['currency'],
          status: succeeded ? 'succeeded' : 'failed',
          failureCode: succeeded ? null : 'card_declined',
          failureMessage: null,
          processorCode: null,
          processorMessage: null,
          processorRef: null,
          card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2040 },
          savedCardId: null,
          expiresAt: now,
          createdAt: now,
          updatedAt: now,
        }
        await writeOutcomeEvent(repositoriesOn(tx), intent, now)
        intentIds.push(intent.id)
      }
    })
  }
  return intentIds
}

async function eventIdsOf(tenantId: string): Promise<string[]> {
  const rows = await server.db.query<{ id: string }>('SELECT id FROM events WHERE tenant_id = $1', [tenantId])
  return rows.map((r) => r.id).sort()
}

/** A tenant with one endpoint per receiver. */
async function tenantWithEndpoints(...hooks: Receiver[]) {
  const payer = await setupClockedPayer(server)
  for (const r of hooks) {
    const ep = await payer.api.post('/v1/platform/webhook-endpoints', { url: r.url })
    expect(ep.status).toBe(201)
    r.secrets.push(ep.body.data.secret)
  }
  return { tenantId: payer.tenant.tenantId, userId: payer.userId, accountId: payer.accountId }
}

const countBy = (ids: string[]) => ids.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<string, number>())

describe.skipIf(!usingPostgres())('webhook workers on one PostgreSQL', () => {
  beforeAll(async () => {
    server = await startWebhookServer({}, { encryptionKey: KEY, frozen: false })
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paylink-workers-'))
  })
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
    await Promise.all(workers.map((w) => w.exited))
    await Promise.all(receivers.map((r) => r.close()))
    await server?.close()
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  describe('two worker processes share the queue (FOR UPDATE SKIP LOCKED)', () => {
    it('deliver 1,000 events to two endpoints: each event to each endpoint exactly once, verified', { timeout: 240_000 }, async () => {
      const [a, b] = [await startReceiver(), await startReceiver()]
      receivers.push(a, b)
      const tenant = await tenantWithEndpoints(a, b)
      await Promise.all([startWorker('worker-1'), startWorker('worker-2')])

      await writeOutcomes(tenant, 1000, 20)
      const events = await eventIdsOf(tenant.tenantId)
      expect(events).toHaveLength(1000)

      await until('both endpoints have every event', () => new Set(a.received.map((d) => d.id)).size === 1000 && new Set(b.received.map((d) => d.id)).size === 1000, 180_000)
      await until('every attempt is recorded', async () => {
        const [row] = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'pending'`, [tenant.tenantId])
        return row!.n === 0
      }, 60_000)
      // Nothing left to send: every delivery was claimed once, sent once, recorded once.
      const [state] = await server.db.query<{ total: number; succeeded: number; once: number; attempts: number }>(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                count(*) FILTER (WHERE attempts = 1)::int AS once,
                (SELECT count(*)::int FROM delivery_attempts WHERE tenant_id = $1) AS attempts
           FROM deliveries WHERE tenant_id = $1`,
        [tenant.tenantId],
      )
      expect(state).toEqual({ total: 2000, succeeded: 2000, once: 2000, attempts: 2000 })

      for (const hooks of [a, b]) {
        expect(hooks.received).toHaveLength(1000) // no duplicates
        expect([...new Set(hooks.received.map((d) => d.id))].sort()).toEqual(events) // nothing missing, nothing else
        expect(hooks.received.every((d) => d.verified)).toBe(true)
      }
      expect(workers.every((w) => w.child.exitCode === null)).toBe(true)
    })
  })

  describe('a worker killed with SIGKILL in the middle of a batch loses nothing', () => {
    it('leaves its batch leased; after a restart and the lease, every event is delivered', { timeout: 240_000 }, async () => {
      // One worker only, so the batch in flight is the killed worker's.
      for (const w of workers.splice(0)) {
        w.child.kill('SIGTERM')
        expect(await w.exited).toBe(0) // a clean stop
      }
      const hooks = await startReceiver()
      receivers.push(hooks)
      const tenant = await tenantWithEndpoints(hooks)
      const worker = await startWorker('worker-3')

      hooks.hold() // requests arrive and are recorded; no answer comes back
      await writeOutcomes(tenant, 50, 50)
      const events = await eventIdsOf(tenant.tenantId)
      await until('a batch of 20 is in flight', () => hooks.received.length === 20, 60_000)
      await new Promise((r) => setTimeout(r, 200)) // nothing more comes while the batch waits
      expect(hooks.received).toHaveLength(20)
      const inFlight = new Set(hooks.received.map((d) => d.id))

      worker.child.kill('SIGKILL')
      expect(await worker.exited).toBeNull()
      hooks.release()

      // The dead worker's batch is leased (for 60 s on the workers' clock); the rest was never claimed.
      const leases = await server.db.query<{ event_id: string; status: string; leased: boolean }>(
        'SELECT event_id, status, leased_until > $2 AS leased FROM deliveries WHERE tenant_id = $1',
        [tenant.tenantId, new Date()],
      )
      expect(leases.filter((d) => d.status !== 'pending')).toEqual([])
      expect(new Set(leases.filter((d) => d.leased).map((d) => d.event_id))).toEqual(inFlight)

      // A new worker sends what was never claimed, and leaves the leased batch alone.
      await startWorker('worker-3 restarted')
      const notInFlight = events.filter((id) => !inFlight.has(id))
      await until('the 30 unclaimed are delivered', () => notInFlight.every((id) => hooks.of(id).length > 0), 60_000)
      await new Promise((r) => setTimeout(r, 1500)) // more than one pass of the worker
      expect([...inFlight].every((id) => hooks.of(id).length === 1)).toBe(true)

      // To keep the test fast, the 60 s lease is ended with SQL instead of waited for.
      await server.db.query(`UPDATE deliveries SET leased_until = $2 WHERE tenant_id = $1 AND status = 'pending' AND leased_until IS NOT NULL`, [tenant.tenantId, new Date(Date.now() - 1000)])
      await until('every delivery has succeeded', async () => {
        const [row] = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM deliveries WHERE tenant_id = $1 AND status = 'succeeded'`, [tenant.tenantId])
        return row!.n === 50
      }, 60_000)

      const counts = countBy(hooks.received.map((d) => d.id))
      expect([...counts.keys()].sort()).toEqual(events) // nothing lost
      for (const [id, n] of counts) expect(n, id).toBe(inFlight.has(id) ? 2 : 1) // only the killed batch is sent again, with its webhook-id
      expect(hooks.received.every((d) => d.verified)).toBe(true)
    })
  })
  describe('a payment committed by an API process wakes a worker process at once (LISTEN/NOTIFY)', () => {
    it('delivers within seconds although the worker polls once an hour, also after its listening connection was cut', { timeout: 120_000 }, async () => {
      // Only this worker runs: the others would find the deliveries at their next (1 s) poll.
      for (const w of workers.splice(0)) {
        if (w.child.exitCode !== null || w.child.signalCode !== null) continue
        w.child.kill('SIGTERM')
        expect(await w.exited).toBe(0)
      }
      const hooks = await startReceiver()
      receivers.push(hooks)
      const payer = await payerWithEndpoint(server, hooks)
      // Its first pass runs at start; the next poll would be an hour later: only a notice can wake it.
      await startWorker('worker-4 (hourly poll)', { WORKER_POLL_SECONDS: '3600' })
      await new Promise((r) => setTimeout(r, 300))

      // The test's server is the API process: confirming commits the outcome and pokes the workers.
      const first = await pay(payer)
      expect(first.answer.status).toBe('succeeded')
      await until('the webhook of the first payment arrives', () => hooks.received.some((d) => d.json?.data?.payment_intent_id === first.intentId), 10_000)

      // The worker's listening connection is cut (a restart of PostgreSQL, a network blip): it comes back.
      const cut = await server.db.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN ${OUTBOX_CHANNEL}'`,
      )
      expect(cut.map((r) => r.ok)).toEqual([true])
      await until('the worker listens again', async () => {
        const [row] = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN ${OUTBOX_CHANNEL}'`)
        return row!.n === 1
      }, 10_000)
      const second = await pay(payer)
      await until('the webhook of the second payment arrives', () => hooks.received.some((d) => d.json?.data?.payment_intent_id === second.intentId), 10_000)
      expect(hooks.received.every((d) => d.verified)).toBe(true)
    })
  })
})
