/**
 * Chaos 3 (issue 6): the tenant's webhook receivers are down for a stretch of simulated
 * time, then back. The server runs in-process on the suite's own database with a clock
 * that moves only when told; two delivery workers drain the queue at once on every step
 * (FOR UPDATE SKIP LOCKED). SPEC "Webhooks": only 2xx is success, retries on the schedule.
 * Afterwards nothing is lost and nothing is delivered twice: each (endpoint, webhook-id) got
 * exactly one 2xx, every attempt is recorded, every delivery succeeded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DeliveryWorker } from '../../src/outbox/worker.js'
import { createStore } from '../../src/storage/store.js'
import { CARDS, DAY, HOUR, MINUTE, SECOND, payLink, setupClockedPayer, startReceiver, usingPostgres, type Receiver } from '../helpers/index.js'
import { chaosFile, ledger, mintLinks, pool, type Minted } from './support.js'

const PAID = 60
const CHALLENGED = 5
const UNPAID = 10
const DOWN_FOR = 3 * HOUR

const receivers: Receiver[] = []

describe.skipIf(!usingPostgres())('chaos: the webhook receivers down for a stretch of simulated time', () => {
  const file = chaosFile({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true' })
  beforeAll(() => file.server.clock.freeze())
  afterAll(() => Promise.all(receivers.map((r) => r.close())))

  it(`down ${DOWN_FOR / HOUR} h (503 / 500 with Retry-After), then back: every delivery succeeds exactly once`, { timeout: 120_000 }, async () => {
    const { server } = file
    const a = await startReceiver('/a', { clock: server.clock })
    const b = await startReceiver('/b', { clock: server.clock })
    receivers.push(a, b)
    a.respond(503)
    b.respond(500, { 'retry-after': '3600' }) // honoured: about hourly, within the 8 attempts

    const payer = await setupClockedPayer(server)
    const { api } = payer
    for (const r of [a, b]) {
      const ep = await api.post('/v1/platform/webhook-endpoints', { url: r.url })
      expect(ep.status).toBe(201)
      r.secrets.push(ep.body.data.secret)
    }

    // Outcomes of every kind: paid (succeeded and declined), 3-D Secure never answered, never paid.
    const links = await mintLinks(payer, PAID + CHALLENGED + UNPAID)
    const pay = (l: Minted) => payLink(`${server.baseUrl}/pay/${l.token}`, l.index < PAID ? l.card : CARDS.challenge).then(() => undefined)
    await pool(links.slice(0, PAID + CHALLENGED), 8, pay)

    const second = new DeliveryWorker({ store: createStore(server.db), clock: server.clock, sealer: server.services.sealer, allowPrivate: true })
    const step = () => Promise.all([server.services.background.tick(), second.drain()])
    const downSince = server.clock.now().getTime()
    let upAt: { a: number; b: number } | undefined
    let steps = 0
    const ids = links.map((l) => l.intentId)

    /** The next moment something is due, so the clock jumps over quiet stretches (no sooner than `min` ms). */
    const nextDue = async (min: number) => {
      const [row] = await server.db.query<{ at: Date | null }>(`SELECT min(next_attempt_at) AS at FROM deliveries WHERE tenant_id = $1 AND status = 'pending'`, [payer.tenant.tenantId])
      const now = server.clock.now().getTime()
      const due = row?.at ? new Date(row.at).getTime() - now + 1 : Infinity
      return Math.max(min, Math.min(due, 10 * MINUTE))
    }

    await step()
    steps++
    for (;;) {
      const now = server.clock.now().getTime()
      if (!upAt && now - downSince >= DOWN_FOR) {
        a.respond(204)
        b.respond(200)
        upAt = { a: a.received.length, b: b.received.length }
      }
      const l = await ledger(server.db, payer.tenant.tenantId, ids)
      if (upAt && l.pending + l.processing === 0 && l.deliveriesSucceeded === l.deliveries) break
      if (now - downSince > 2 * DAY) throw new Error(`not delivered after 2 simulated days: ${JSON.stringify(l)}`)
      // Small steps at first (the 5 s retry), then jumps to the next due attempt, at least 5 minutes.
      server.clock.advance(await nextDue(now - downSince < MINUTE ? 6 * SECOND : 5 * MINUTE))
      await step()
      steps++
    }
    const deliveredAfter = server.clock.now().getTime() - downSince

    // Quiet afterwards: two more days bring nothing.
    const receivedBefore = a.received.length + b.received.length
    server.clock.advance(2 * DAY)
    await step()
    expect(a.received.length + b.received.length).toBe(receivedBefore)

    const l = await ledger(server.db, payer.tenant.tenantId, ids)
    expect(l.intents).toBe(links.length)
    expect(l.pending + l.processing, 'every intent is terminal (the unpaid and unanswered ones by the sweeper and recovery)').toBe(0)
    expect(l.expired).toBe(UNPAID)
    expect(l.succeededWithoutCharge).toEqual([])
    expect(l.chargedNotSucceeded).toEqual([])
    expect(l.badEvents).toEqual([])
    expect(l.events).toBe(links.length)
    expect(l.deliveries).toBe(2 * l.events)
    expect(l.deliveriesSucceeded, 'every delivery succeeded').toBe(l.deliveries)

    const events = (await server.db.query<{ id: string }>('SELECT id FROM events WHERE tenant_id = $1', [payer.tenant.tenantId])).map((e) => e.id).sort()
    expect(events).toHaveLength(links.length)
    const figures: string[] = []
    let duplicates = 0
    for (const [name, r, up] of [['a', a, upAt!.a], ['b', b, upAt!.b]] as const) {
      const failed = r.received.slice(0, up)
      const delivered = r.received.slice(up)
      duplicates += delivered.length - new Set(delivered.map((d) => d.id)).size
      // Nothing lost, nothing twice: exactly one 2xx per webhook-id, for every event.
      expect([...delivered.map((d) => d.id)].sort(), `receiver ${name}: every event once after the outage`).toEqual(events)
      expect(new Set(failed.map((d) => d.id)), `receiver ${name}: every event was tried during the outage`).toEqual(new Set(events))
      expect(r.received.every((d) => d.verified)).toBe(true)
      figures.push(`${name}: ${delivered.length} delivered + ${failed.length} refused`)
    }
    // Every request the receivers saw is a recorded attempt, and vice versa.
    const [attempts] = await server.db.query<{ n: number; ok: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE status_code BETWEEN 200 AND 299)::int AS ok FROM delivery_attempts WHERE tenant_id = $1`,
      [payer.tenant.tenantId],
    )
    expect(attempts!.n).toBe(a.received.length + b.received.length)
    expect(attempts!.ok).toBe(l.deliveries)
    const endpoints = (await api.get('/v1/platform/webhook-endpoints')).body.data as { status: string }[]
    expect(endpoints.map((e) => e.status)).toEqual(['enabled', 'enabled'])

    console.log(
      `[chaos] receiver outage: down ${DOWN_FOR / HOUR} h of simulated time, all delivered ${(deliveredAfter / HOUR).toFixed(2)} h after it began, in ${steps} steps with 2 workers; ` +
        `intents ${l.intents} (succeeded ${l.succeeded}, failed ${l.failed}, expired ${l.expired}); deliveries ${l.deliveriesSucceeded}/${l.deliveries} succeeded vs events ${l.events} × 2 endpoints; ` +
        `attempts ${attempts!.n} (${figures.join(', ')}); duplicates ${duplicates}; restarts 0`,
    )
  })
})
