/**
 * Chaos 2 (issue 6): a real `paylink serve` (ROLE=all) killed with SIGKILL at random
 * moments during a confirmation load, then restarted on the same port, several times.
 * Clients do what the page does: retry their confirmation (and their 3-D Secure answer)
 * after a connection error; a 409 payment_in_progress means someone (maybe their own lost
 * request) holds the payment. Cards: succeeding, declining in every way, and 3-D Secure.
 *
 * Afterwards, once recovery (PROCESSING_RECOVERY_SECONDS=2) and the sweeper
 * (LINK_TTL_SECONDS=30: links never confirmed expire) have run:
 * - every intent is terminal;
 * - the processor's charges equal the succeeded intents one to one;
 * - every terminal intent has exactly one event, and every event is delivered to the
 *   tenant's endpoint (at least once: a delivery in flight when its worker died is sent
 *   again under the same webhook-id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, payerWithEndpoint, sleep, startReceiver, until, usingPostgres, type Receiver } from '../helpers/index.js'
import { answerOnce, chaosFile, confirmOnce, ledger, mintLink, mintLinks, openInFrame, type ConfirmAnswer, type Minted } from './support.js'

/** CHAOS_KILLS=n for a longer run. */
const KILLS = Number(process.env.CHAOS_KILLS || 4)
/** Links nobody ever opens: the sweeper expires them, across the kills. */
const ABANDONED = 100
const CONFIRMERS_PER_LINK = 3
const LINKS_AT_ONCE = 16
/** A client gives up when the server stays unreachable this long. */
const GIVE_UP_MS = 60_000
const TTL_SECONDS = 30

const rand = (min: number, max: number) => min + Math.random() * (max - min)

describe.skipIf(!usingPostgres())('chaos: SIGKILL during a confirmation load', () => {
  // In-process, no background jobs: it only sets up the tenant and mints (with the children's TTL).
  const file = chaosFile({ LINK_TTL_SECONDS: String(TTL_SECONDS), ALLOW_PRIVATE_WEBHOOK_URLS: 'true' })
  let receiver: Receiver
  beforeAll(async () => {
    receiver = await startReceiver('/hooks')
    await (await file.serve('serve', { LINK_TTL_SECONDS: String(TTL_SECONDS), PROCESSING_RECOVERY_SECONDS: '2' })).start()
  })
  afterAll(() => receiver?.close())

  it(`${KILLS} kills and restarts under load: nothing stuck, charges = succeeded intents, one event each, all delivered`, { timeout: 150_000 }, async () => {
    const { server } = file
    const serve = file.processes[0]!
    const payer = await payerWithEndpoint(server, receiver)
    // The abandoned links first; the load mints its own as it goes, until the last restart.
    const links = await mintLinks(payer, ABANDONED)

    const answers = new Map<string, ConfirmAnswer[]>()
    const stats = { connectionErrors: 0, pagesLost: 0, linksLoaded: 0, other: [] as string[] }
    let stopLoad = false

    /** The page's side: load once in a frame (again after a connection error), then confirm with retries. */
    const payLink = async (link: Minted) => {
      let page: Awaited<ReturnType<typeof openInFrame>>
      const since = Date.now()
      for (;;) {
        try {
          page = await openInFrame(serve.baseUrl, link.token)
          break
        } catch (err) {
          stats.connectionErrors++
          if (Date.now() - since > GIVE_UP_MS) throw new Error(`the server stayed down: ${(err as Error).message}`)
          await sleep(rand(50, 150))
        }
      }
      stats.linksLoaded++
      if (!page.session) {
        // The load that claimed the link lost its answer to a kill: the link is used, and expires unpaid.
        stats.pagesLost++
        return
      }
      const got: ConfirmAnswer[] = []
      answers.set(link.intentId, got)
      /** One call of the page, made again after a connection error until it gets an answer. */
      const retrying = async (call: () => Promise<ConfirmAnswer>) => {
        const since = Date.now()
        for (;;) {
          try {
            const a = await call()
            got.push(a)
            if (![200, 409, 410].includes(a.status)) stats.other.push(`${link.intentId}: ${a.status} ${a.code ?? ''}`)
            return a
          } catch (err) {
            stats.connectionErrors++
            if (Date.now() - since > GIVE_UP_MS) throw new Error(`the server stayed down: ${(err as Error).message}`)
            await sleep(rand(50, 150))
          }
        }
      }
      await Promise.all(
        Array.from({ length: CONFIRMERS_PER_LINK }, async () => {
          const a = await retrying(() => confirmOnce(serve.baseUrl, link.token, page.session!, link.card))
          if (a.status === 200 && a.data?.status === 'requires_authentication') {
            await retrying(() => answerOnce(serve.baseUrl, link.token, page.session!, link.index % 2 ? 'approve' : 'decline'))
          }
        }),
      )
    }

    const downtimes: number[] = []
    const killer = (async () => {
      try {
        for (let k = 0; k < KILLS; k++) {
          await sleep(rand(500, 2500))
          const killedAt = Date.now()
          await serve.kill()
          await sleep(rand(0, 300))
          await serve.start()
          downtimes.push(Date.now() - killedAt)
        }
      } finally {
        stopLoad = true // the load stops taking new links (also when a restart failed)
      }
    })()
    let next = ABANDONED
    const load = Promise.all(
      Array.from({ length: LINKS_AT_ONCE }, async () => {
        while (!stopLoad) {
          const link = await mintLink(payer, next++)
          if (link.index % 7 === 6) link.card = CARDS.challenge // 3-D Secure, answered by the page (approve or decline)
          links.push(link)
          await payLink(link).catch((err) => {
            stopLoad = true
            throw err
          })
        }
      }),
    )
    for (const r of await Promise.allSettled([killer, load])) if (r.status === 'rejected') throw r.reason
    const lastStart = serve.startedAt
    const loadEndedAt = Date.now()

    // A delivery claimed by a killed process stays leased for 60 s; end those leases (only
    // theirs: claimed before the last start) with SQL instead of waiting for them.
    await server.db.query(
      `UPDATE deliveries SET leased_until = $2 WHERE tenant_id = $1 AND status = 'pending' AND leased_until > $2 AND updated_at < $3`,
      [payer.tenant.tenantId, new Date(), new Date(lastStart)],
    )

    const ids = links.map((l) => l.intentId)
    let l = await ledger(server.db, payer.tenant.tenantId, ids)
    // Links never confirmed expire at mintedAt + TTL; the sweeper, recovery and the worker run every second.
    await until(
      'every intent is terminal and every event delivered',
      async () => {
        l = await ledger(server.db, payer.tenant.tenantId, ids)
        return l.pending + l.processing === 0 && l.deliveries === l.events && l.deliveriesSucceeded === l.deliveries && l.events === l.intents
      },
      Math.max(30_000, loadEndedAt + TTL_SECONDS * 1000 + 30_000 - Date.now()),
      250,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(l)}\n${serve.output.join('')}`)
    })

    expect(stats.other, 'clients only ever see 200, 409 or 410').toEqual([])
    expect(l.intents).toBe(links.length)
    expect(l.expired, 'the abandoned links expired').toBeGreaterThanOrEqual(ABANDONED)
    expect(l.pending + l.processing, 'every intent is terminal').toBe(0)
    expect(l.succeededWithoutCharge, 'every succeeded intent has its succeeded charge').toEqual([])
    expect(l.chargedNotSucceeded, 'no money taken for an intent that did not succeed').toEqual([])
    expect(l.succeededCharges, 'charges succeeded = intents succeeded').toBe(l.succeeded)
    expect(l.badEvents, 'every terminal intent has exactly one event, of its outcome').toEqual([])
    expect(l.events).toBe(l.intents)
    expect(l.deliveriesSucceeded, 'every event is delivered').toBe(l.events)

    // What the clients were told agrees with what happened: at most one 200 per link, with the final outcome.
    const finals = new Map(
      (await server.db.query<{ id: string; status: string }>('SELECT id, status FROM payment_intents WHERE tenant_id = $1 AND id = ANY ($2)', [payer.tenant.tenantId, ids])).map((r) => [r.id, r.status]),
    )
    let oks = 0
    const unanswered: string[] = []
    for (const [intentId, got] of answers) {
      const winners = got.filter((a) => a.status === 200 && a.data!.status !== 'requires_authentication')
      const challenged = got.filter((a) => a.status === 200 && a.data!.status === 'requires_authentication')
      if (winners.length === 0) unanswered.push(intentId)
      expect(winners.length, `${intentId}: at most one 200 with an outcome`).toBeLessThanOrEqual(1)
      expect(challenged.length, `${intentId}: at most one challenge`).toBeLessThanOrEqual(1)
      if (winners[0] && winners[0].data!.status !== 'processing') expect(winners[0].data!.status, `${intentId}: the 200 told the outcome`).toBe(finals.get(intentId))
      oks += winners.length
    }

    // Payments whose confirm never got its 200 (killed under it): finished by recovery, with the processor's answer or as never charged.
    const [recovered] = await server.db.query<{ charged: number; unreached: number }>(
      `SELECT count(c.idempotency_key)::int AS charged, count(*) FILTER (WHERE c.idempotency_key IS NULL)::int AS unreached
         FROM payment_intents i LEFT JOIN sandbox_charges c ON c.idempotency_key = i.id
        WHERE i.tenant_id = $1 AND i.id = ANY ($2) AND i.failure_code IS DISTINCT FROM 'link_expired'`,
      [payer.tenant.tenantId, unanswered],
    )

    // The receiver: every event arrived, verified; repeats only share a webhook-id (at least once).
    const events = await server.db.query<{ id: string }>('SELECT id FROM events WHERE tenant_id = $1 AND payment_intent_id = ANY ($2)', [payer.tenant.tenantId, ids])
    const receivedIds = new Set(receiver.received.map((r) => r.id))
    expect(events.filter((e) => !receivedIds.has(e.id)), 'every event reached the receiver').toEqual([])
    expect(receiver.received.every((r) => r.verified)).toBe(true)
    const repeats = receiver.received.length - receivedIds.size

    expect(serve.kills).toBe(KILLS)
    expect(serve.alive).toBe(true)
    console.log(
      `[chaos] kill/restart: restarts ${serve.kills} (SIGKILL; down ${downtimes.map((d) => (d / 1000).toFixed(1)).join(', ')} s), ${stats.connectionErrors} connection errors retried; ` +
        `${stats.linksLoaded} links loaded (${stats.pagesLost} pages lost to a kill), ${ABANDONED} never opened, ${oks} confirms answered 200, ${recovered!.charged} finished by recovery from the processor, ${recovered!.unreached} failed as never charged; ` +
        `charges ${l.charges} (succeeded ${l.succeededCharges}) vs intents ${l.intents} (succeeded ${l.succeeded}, failed ${l.failed}, of which expired ${l.expired}); ` +
        `deliveries ${l.deliveriesSucceeded}/${l.deliveries} succeeded vs events ${l.events}; receiver got ${receiver.received.length} (${repeats} repeats of a webhook-id)`,
    )
  })
})
