/**
 * Chaos 1 (issue 6): 200 links, each confirmed by 20 concurrent requests spread over two
 * real `paylink serve` processes on one PostgreSQL database. SPEC "Links and payment
 * intents": one conditional update decides which confirm charges, the rest get 409; the
 * processor is called with the intent id as idempotency key. So: exactly 200 charges at
 * the processor, exactly one 200 per link, every intent terminal.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { setupPayer, usingPostgres } from '../helpers/index.js'
import { chaosFile, confirmOnce, ledger, mintLinks, openInFrame, pool, type ConfirmAnswer } from './support.js'

const LINKS = 200
const CONFIRMS_PER_LINK = 20

describe.skipIf(!usingPostgres())('chaos: concurrent confirmations on two processes', () => {
  const file = chaosFile()
  const { processes } = file
  beforeAll(async () => {
    await Promise.all([await file.serve('serve-a'), await file.serve('serve-b')].map((p) => p.start()))
  })

  it(`${LINKS} links × ${CONFIRMS_PER_LINK} concurrent confirms: exactly one charge and one 200 per link`, { timeout: 120_000 }, async () => {
    const { server } = file
    const payer = await setupPayer(server)
    const links = await mintLinks(payer, LINKS)
    const answers = new Map<string, ConfirmAnswer[]>()

    await pool(links, 8, async (link) => {
      const page = await openInFrame(processes[link.index % 2]!.baseUrl, link.token)
      expect(page.status, `the first framed load of link ${link.index} renders the card form`).toBe(200)
      const got = await Promise.all(
        Array.from({ length: CONFIRMS_PER_LINK }, (_, k) => confirmOnce(processes[k % 2]!.baseUrl, link.token, page.session!, link.card)),
      )
      answers.set(link.intentId, got)
    })

    let oks = 0
    let conflicts = 0
    for (const link of links) {
      const got = answers.get(link.intentId)!
      const winners = got.filter((a) => a.status === 200)
      const losers = got.filter((a) => a.status !== 200)
      expect(winners, `link ${link.index}: exactly one confirm wins`).toHaveLength(1)
      expect(losers.every((a) => a.status === 409 && a.code === 'payment_in_progress'), `link ${link.index}: the others get 409 payment_in_progress (${JSON.stringify(losers.filter((a) => a.status !== 409))})`).toBe(true)
      expect(winners[0]!.data!.payment_intent_id).toBe(link.intentId)
      expect(['succeeded', 'failed']).toContain(winners[0]!.data!.status)
      oks += winners.length
      conflicts += losers.length
    }

    const ids = links.map((l) => l.intentId)
    const l = await ledger(server.db, payer.tenant.tenantId, ids)
    expect(l.intents).toBe(LINKS)
    expect(l.pending + l.processing, 'every intent is terminal').toBe(0)
    expect(l.charges, 'exactly one charge per link at the processor').toBe(LINKS)
    expect(l.succeededCharges).toBe(l.succeeded)
    expect(l.succeededWithoutCharge).toEqual([])
    expect(l.chargedNotSucceeded).toEqual([])
    expect(l.badEvents, 'every terminal intent has exactly one event').toEqual([])
    expect(l.succeeded).toBeGreaterThan(0)
    expect(l.failed).toBeGreaterThan(0)
    expect(processes.every((p) => p.alive), 'no process died').toBe(true)

    console.log(
      `[chaos] concurrent confirms: ${LINKS} links × ${CONFIRMS_PER_LINK} requests on ${processes.length} processes → ${oks} × 200, ${conflicts} × 409; ` +
        `charges ${l.charges} (succeeded ${l.succeededCharges}) vs intents ${l.intents} (succeeded ${l.succeeded}, failed ${l.failed}); events ${l.events}; restarts 0`,
    )
  })
})
