/**
 * SPEC "Links and payment intents" (Expiry, Recovery) and "Processor interface" (3-D
 * Secure): nothing stays `pending` or `processing`, and each way out sends its webhook.
 * - Expiry: a `pending` intent at `expires_at` becomes `failed` / `link_expired`, by the
 *   sweeper and on any read.
 * - Recovery: an intent left in `processing` is finished with what the processor says for
 *   its idempotency key; one the processor never saw fails as `processing_error`.
 * - A challenge never answered fails as `authentication_failed` when the link expires.
 * A crash between the processor's charge and paylink's record is simulated: the intent is
 * claimed with SQL, as confirm claims it, and the sandbox is charged directly.
 */
import { describe, expect, it, vi } from 'vitest'
import { CARDS, EXP_YEAR, MINUTE, intentOf, mint, payLink, type EndpointPayer, type Receiver } from '../helpers/index.js'
import { eventOf, webhookTestFile } from './support.js'
import { SandboxProcessor } from '../../src/processors/sandbox/sandbox.js'

/** SPEC default LINK_TTL_SECONDS. */
const LINK_TTL = 600_000
/** How long an intent may sit in `processing` (without a challenge) before recovery asks the processor. */
const STALE_PROCESSING = 2 * MINUTE

const file = webhookTestFile()
const { tick, tenant } = file

const hooksFor = (hooks: Receiver, intentId: string) => hooks.received.filter((h) => h.json?.data?.payment_intent_id === intentId)
/** Moves the clock to `at` (ms since the epoch), plus `delta`. */
const moveTo = (at: number, delta = 0) => file.server.clock.advance(at + delta - file.server.clock.now().getTime())

/** The first half of confirm, then a crash: the intent is claimed (`pending → processing`) and nothing more. */
async function claimedAndAbandoned(payer: EndpointPayer, intentId: string) {
  const rows = await file.server.db.query(`UPDATE payment_intents SET status = 'processing', updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'pending' RETURNING id`, [
    payer.tenant.tenantId,
    intentId,
    file.server.clock.now(),
  ])
  expect(rows).toHaveLength(1)
}

/** The sandbox as paylink's recovery sees it (its ledger is in the test database). */
const sandbox = () => new SandboxProcessor({ db: file.server.db, clock: file.server.clock, timeoutMs: 1000 })

/** The processor charges the card for the intent (its attempt key); paylink never hears the answer. */
async function chargedAtProcessor(intentId: string, number: string) {
  const outcome = await sandbox().authorize(
    { key: intentId, remember: async () => {} },
    { amountMinor: 1250, currency: 'USD', card: { number, expMonth: 12, expYear: EXP_YEAR, cvc: '123' }, returnUrl: 'http://localhost/return' },
  )
  return { kind: outcome.kind, reference: 'processorRef' in outcome ? outcome.processorRef : undefined }
}

/** A new tenant's link whose confirm crashed after claiming it. */
async function abandonedLink() {
  const { hooks, payer } = await tenant()
  const link = await mint(payer)
  await claimedAndAbandoned(payer, link.intentId)
  return { hooks, payer, link }
}

/** A new tenant's link whose confirm crashed after the processor charged `number` for it. */
async function chargedAndAbandoned(number: string) {
  const abandoned = await abandonedLink()
  return { ...abandoned, charged: await chargedAtProcessor(abandoned.link.intentId, number) }
}

const chargesAtProcessor = (intentId: string) => file.server.db.query<{ status: string; reference: string }>('SELECT status, reference FROM sandbox_charges WHERE idempotency_key = $1', [intentId])

describe('Expiry: a pending intent at expires_at becomes failed / link_expired, with its webhook', () => {
  it('is expired by the sweeper at expires_at, not a moment before, and payment_intent.failed is sent once', async () => {
    const { hooks, payer } = await tenant()
    const link = await mint(payer)
    const expiresAt = Date.parse(link.expiresAt)
    expect(expiresAt - file.server.clock.now().getTime()).toBe(LINK_TTL)

    moveTo(expiresAt, -1)
    await tick()
    expect(hooksFor(hooks, link.intentId)).toHaveLength(0)
    expect((await intentOf(payer, link.intentId)).status).toBe('pending')

    moveTo(expiresAt)
    await tick()
    // The webhook arrived before anyone read the intent: the sweeper did it.
    const sent = hooksFor(hooks, link.intentId)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.verified).toBe(true)
    expect(sent[0]!.json).toMatchObject({ type: 'payment_intent.failed', data: { payment_intent_id: link.intentId, status: 'failed', failure_code: 'link_expired', card: null, amount: '12.50' } })
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'link_expired', failure_message: expect.any(String) })

    file.server.clock.advance(MINUTE)
    await tick()
    await intentOf(payer, link.intentId)
    expect(hooksFor(hooks, link.intentId)).toHaveLength(1)
    expect((await eventOf(payer.api, link.intentId)).type).toBe('payment_intent.failed')
  })

  it('is expired by a read of the intent before the sweeper runs, with its event; the worker then sends it once', async () => {
    const { hooks, payer } = await tenant()
    const link = await mint(payer)
    moveTo(Date.parse(link.expiresAt), 1)

    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'link_expired' })
    const event = await eventOf(payer.api, link.intentId)
    expect(event).toMatchObject({ type: 'payment_intent.failed', data: { data: { failure_code: 'link_expired' } } })
    expect(hooks.received).toHaveLength(0) // written with the change; sent by the worker
    await intentOf(payer, link.intentId)
    await tick()
    expect(hooks.of(event.id)).toHaveLength(1)
    expect(hooks.of(event.id)[0]!.verified).toBe(true)
    await eventOf(payer.api, link.intentId) // still exactly one
  })

  it('is expired by a listing that shows it', async () => {
    const { payer } = await tenant()
    const link = await mint(payer)
    moveTo(Date.parse(link.expiresAt), 1)
    const listed = await payer.api.get(`/v1/platform/payment-intents?user_id=${payer.userId}`)
    expect(listed.body.data.find((i: { id: string }) => i.id === link.intentId)).toMatchObject({ status: 'failed', failure_code: 'link_expired' })
    expect((await eventOf(payer.api, link.intentId)).type).toBe('payment_intent.failed')
  })

  it('leaves alone an intent that was paid before its link expired', async () => {
    const { hooks, payer } = await tenant()
    const link = await mint(payer)
    await payLink(link.payUrl, CARDS.visa)
    moveTo(Date.parse(link.expiresAt), 1)
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'succeeded', failure_code: null })
    expect(hooksFor(hooks, link.intentId).map((h) => h.json.type)).toEqual(['payment_intent.succeeded'])
  })
})

describe('Recovery: an intent left in processing is finished with the processor’s outcome', () => {
  it('shows a lost answer as processing, never as a failure, then records the charge recovery finds', async () => {
    const { hooks, payer } = await tenant()
    const link = await mint(payer)
    const answer = await payLink(link.payUrl, CARDS.lostAnswer)
    expect(answer).toMatchObject({ status: 'processing', failure_code: null })
    const confirmedAt = file.server.clock.now().getTime()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'processing', card: { last4: CARDS.lostAnswer.slice(-4) } })

    moveTo(confirmedAt + STALE_PROCESSING)
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'succeeded', failure_code: null, card: { last4: CARDS.lostAnswer.slice(-4) } })
    expect(hooksFor(hooks, link.intentId).map((h) => h.json.type)).toEqual(['payment_intent.succeeded'])
    expect(await chargesAtProcessor(link.intentId)).toMatchObject([{ status: 'succeeded' }])
  })

  it('treats a processor call that throws as an unknown outcome: processing, then what the processor says', async () => {
    const { hooks, payer } = await tenant()
    const link = await mint(payer)
    // The adapter charges, then the connection drops before its answer is read.
    const original = SandboxProcessor.prototype.authorize
    const thrown = vi.spyOn(SandboxProcessor.prototype, 'authorize').mockImplementationOnce(async function (this: SandboxProcessor, ...args) {
      await original.apply(this, args)
      throw new Error('socket hang up')
    })
    const answer = await payLink(link.payUrl, CARDS.declined)
    thrown.mockRestore()
    expect(answer).toMatchObject({ status: 'processing', failure_code: null })
    expect(hooksFor(hooks, link.intentId)).toHaveLength(0)

    file.server.clock.advance(STALE_PROCESSING)
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'card_declined', processor_code: 'card_declined' })
    expect(hooksFor(hooks, link.intentId).map((h) => h.json.type)).toEqual(['payment_intent.failed'])
  })

  it('records a charge the processor made but paylink never recorded: succeeded, no second charge, its webhook', async () => {
    const { hooks, payer, link, charged } = await chargedAndAbandoned(CARDS.visa)
    expect(charged.kind).toBe('succeeded')
    const claimedAt = file.server.clock.now().getTime()

    // Not before 2 minutes: the confirm that claimed it may still be waiting for the processor.
    moveTo(claimedAt + STALE_PROCESSING, -1)
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'processing' })
    expect(hooksFor(hooks, link.intentId)).toHaveLength(0)

    const charge = vi.spyOn(SandboxProcessor.prototype, 'authorize')
    moveTo(claimedAt + STALE_PROCESSING)
    await tick()
    expect(charge).not.toHaveBeenCalled()
    charge.mockRestore()

    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'succeeded', failure_code: null, card: { brand: 'visa', last4: '4242' } })
    const sent = hooksFor(hooks, link.intentId)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.verified).toBe(true)
    expect(sent[0]!.json).toMatchObject({ type: 'payment_intent.succeeded', data: { status: 'succeeded', card: { brand: 'visa', last4: '4242' } } })
    const charges = await chargesAtProcessor(link.intentId)
    expect(charges).toEqual([{ status: 'succeeded', reference: charged.reference }])
    const [row] = await file.server.db.query<{ processor_reference: string }>('SELECT processor_reference FROM payment_intents WHERE id = $1', [link.intentId])
    expect(row!.processor_reference).toBe(charged.reference)

    file.server.clock.advance(MINUTE)
    await tick()
    expect(hooksFor(hooks, link.intentId)).toHaveLength(1)
    expect(await chargesAtProcessor(link.intentId)).toHaveLength(1)
  })

  it('records a charge the processor declined as failed with the processor’s failure code', async () => {
    const { hooks, payer, link } = await chargedAndAbandoned(CARDS.declined)
    file.server.clock.advance(STALE_PROCESSING)
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'card_declined' })
    expect(hooksFor(hooks, link.intentId).map((h) => [h.json.type, h.json.data.failure_code])).toEqual([['payment_intent.failed', 'card_declined']])
    expect(await chargesAtProcessor(link.intentId)).toHaveLength(1)
  })

  it('records the charge even when recovery comes after the link expired: money taken is never link_expired', async () => {
    const { hooks, payer, link } = await chargedAndAbandoned(CARDS.visa)
    moveTo(Date.parse(link.expiresAt), 10 * MINUTE)
    expect((await intentOf(payer, link.intentId)).status).toBe('processing') // a read does not expire a payment in flight
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'succeeded' })
    expect(hooksFor(hooks, link.intentId).map((h) => h.json.type)).toEqual(['payment_intent.succeeded'])
  })

  it('declines at once a challenge the processor asked for but paylink never recorded: the cardholder could never answer it', async () => {
    const { hooks, payer, link, charged: asked } = await chargedAndAbandoned(CARDS.challenge)
    expect(asked.kind).toBe('challenge')
    file.server.clock.advance(STALE_PROCESSING)
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' })
    expect(await chargesAtProcessor(link.intentId)).toMatchObject([{ status: 'failed' }])
    expect(hooksFor(hooks, link.intentId)).toHaveLength(1)
  })

  it('fails as processing_error, charging nothing, when the processor never saw the intent', async () => {
    const { hooks, payer, link } = await abandonedLink()
    file.server.clock.advance(STALE_PROCESSING)
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'processing_error', card: null })
    // Recovery closed the key at the processor: nothing charged, and a charge request still in
    // flight with that key cannot land after the payment was failed.
    expect(await chargesAtProcessor(link.intentId)).toMatchObject([{ status: 'failed' }])
    const late = await chargedAtProcessor(link.intentId, CARDS.visa)
    expect(late.kind).toBe('failed')
    expect(await chargesAtProcessor(link.intentId)).toMatchObject([{ status: 'failed' }])
    expect((await intentOf(payer, link.intentId)).status).toBe('failed')
    const sent = hooksFor(hooks, link.intentId)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.json).toMatchObject({ type: 'payment_intent.failed', data: { failure_code: 'processing_error' } })
  })
})

describe('a 3-D Secure challenge never answered fails as authentication_failed when the link expires', () => {
  it('waits for the cardholder until expires_at, then fails the payment and sends payment_intent.failed', async () => {
    const { hooks, payer } = await tenant()
    const link = await mint(payer)
    const answer = await payLink(link.payUrl, CARDS.challenge)
    expect(answer.status).toBe('requires_authentication')
    const expiresAt = Date.parse(link.expiresAt)

    file.server.clock.advance(STALE_PROCESSING + MINUTE) // past the 2 minutes of a plain payment: a challenge may take longer
    await tick()
    expect((await intentOf(payer, link.intentId)).status).toBe('processing')
    moveTo(expiresAt, -1)
    await tick()
    expect((await intentOf(payer, link.intentId)).status).toBe('processing')
    expect(hooksFor(hooks, link.intentId)).toHaveLength(0)

    moveTo(expiresAt)
    await tick()
    expect(await intentOf(payer, link.intentId)).toMatchObject({ status: 'failed', failure_code: 'authentication_failed' })
    const sent = hooksFor(hooks, link.intentId)
    expect(sent).toHaveLength(1)
    expect(sent[0]!.verified).toBe(true)
    expect(sent[0]!.json).toMatchObject({ type: 'payment_intent.failed', data: { status: 'failed', failure_code: 'authentication_failed', card: { last4: '3184' } } })
    expect(await chargesAtProcessor(link.intentId)).toEqual([expect.objectContaining({ status: 'failed' })])
  })
})
