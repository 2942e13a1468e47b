/**
 * Chaos 4: a real processor. Two `paylink serve` processes (ROLE=all) on one PostgreSQL
 * database charge through the Stripe fake (test/fakes/stripe.ts), which runs in this test
 * process; the children reach it over loopback through the account's `api_base`. SPEC "Card
 * processors": nothing is charged twice, nothing stays `processing`, every outcome is one
 * final state with one webhook to the tenant, whatever happens between Stripe and paylink:
 * - 20 confirms of one link at once, spread over both processes;
 * - the confirm's answer lost after Stripe charged (recovery asks Stripe);
 * - the process holding the confirm killed (SIGKILL) after Stripe charged and before it
 *   answered, then restarted on the same database;
 * - Stripe's own webhook arriving at the other process before the confirm's answer.
 *
 * The children run with PROCESSING_RECOVERY_SECONDS=4 and PROCESSOR_TIMEOUT_SECONDS=3, so
 * that a confirm answer delayed 1.5 s at the fake is still awaited (not timed out) and
 * recovery comes within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mint, setupProcessorPayer, sleep, startReceiver, until, usingPostgres, type ProcessorPayer, type Receiver } from '../helpers/index.js'
import { startStripeFake, type StripeFake } from '../fakes/stripe.js'
import { chaosFile, confirmOnce, ledger, openInFrame, type ConfirmAnswer } from './support.js'

const VISA = '4242424242424242'
const RECOVERY_SECONDS = 4
const CHILD_ENV = { PROCESSING_RECOVERY_SECONDS: String(RECOVERY_SECONDS), PROCESSOR_TIMEOUT_SECONDS: '3', WORKER_POLL_SECONDS: '1' }
/** How long Stripe holds the confirm's answer back, having charged already. */
const DELAY_MS = 1500
/** The confirm call of a PaymentIntent (its create is POST /v1/payment_intents). */
const CONFIRM_CALL = { method: 'POST', path: '/v1/payment_intents/pi_' }
/** Recovery's deadline, plus the worker's poll and a margin for a busy machine. */
const RECOVERED_WITHIN_MS = (RECOVERY_SECONDS + 8) * 1000

describe.skipIf(!usingPostgres())('chaos: payments through Stripe on two processes', () => {
  const file = chaosFile({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true' })
  const { processes } = file
  let stripe: StripeFake
  let receiver: Receiver
  let payer: ProcessorPayer
  beforeAll(async () => {
    stripe = await startStripeFake()
    receiver = await startReceiver('/hooks')
    await Promise.all([await file.serve('serve-a', CHILD_ENV), await file.serve('serve-b', CHILD_ENV)].map((p) => p.start()))
    // A tenant with a Stripe account pointed at the fake (sealed with the children's key), an approved user, an endpoint at the receiver.
    payer = await setupProcessorPayer(file.server, {
      processor: 'stripe',
      currencies: ['USD'],
      config: { secret_key: stripe.secretKey, webhook_secret: stripe.webhookSecret, api_base: stripe.url },
    })
    const endpoint = await payer.api.post('/v1/platform/webhook-endpoints', { url: receiver.url })
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201)
    receiver.secrets.push(endpoint.body.data.secret)
  })
  afterAll(async () => {
    await receiver?.close()
    await stripe?.close()
  })

  const serveA = () => processes[0]!
  const serveB = () => processes[1]!

  /** Stripe's PaymentIntents made for a paylink intent (by its metadata). */
  const stripeIntentsOf = (intentId: string) => stripe.paymentIntents().filter((pi) => pi.metadata.payment_intent_id === intentId)
  /** Charges Stripe made on a PaymentIntent that succeeded (its charge.succeeded events). */
  const chargesOf = (piId: string) => stripe.events().filter((e) => e.type === 'charge.succeeded' && e.object.payment_intent === piId)
  /** Confirm calls Stripe received for a paylink intent (replays of its key included). */
  const confirmCallsOf = (intentId: string) => stripe.requests.filter((r) => r.idempotencyKey === `${intentId}:confirm`)
  /** Deliveries the tenant's receiver got about an intent. */
  const hooksFor = (intentId: string) => receiver.received.filter((r) => r.json?.data?.payment_intent_id === intentId)
  const statusOf = async (intentId: string) =>
    (await file.server.db.query<{ status: string; processor_reference: string | null }>('SELECT status, processor_reference FROM payment_intents WHERE tenant_id = $1 AND id = $2', [payer.tenant.tenantId, intentId]))[0]!

  /** Mints a link and claims its page in a frame on `baseUrl`. */
  async function openLink(baseUrl: string) {
    const link = await mint(payer)
    const page = await openInFrame(baseUrl, link.token)
    expect(page.status).toBe(200)
    expect(page.session).toBeTruthy()
    return { ...link, session: page.session! }
  }

  /** Waits until Stripe has charged the link's PaymentIntent (the fake charges before it answers). */
  async function chargedAtStripe(intentId: string) {
    await until('Stripe charged the PaymentIntent', () => stripeIntentsOf(intentId)[0]?.status === 'succeeded', 10_000, 10)
    return stripeIntentsOf(intentId)[0]!
  }

  /**
   * What every scenario ends with: the intent `succeeded` (recovery has had its time), one
   * PaymentIntent at Stripe with one charge, one event, delivered once; and after a quiet
   * spell longer than the worker's poll, still exactly one delivery.
   */
  async function expectOnePaymentOneWebhook(intentId: string, within = RECOVERED_WITHIN_MS) {
    await until('the intent is succeeded and its webhook delivered', async () => (await statusOf(intentId)).status === 'succeeded' && hooksFor(intentId).length > 0, within, 100).catch((err) => {
      throw new Error(`${(err as Error).message}\n${processes.map((p) => `${p.name}:\n${p.output.join('')}`).join('\n')}`)
    })
    await sleep(1500)
    const pis = stripeIntentsOf(intentId)
    expect(pis, 'one PaymentIntent at Stripe').toHaveLength(1)
    expect(pis[0]!.status).toBe('succeeded')
    expect(chargesOf(pis[0]!.id), 'one charge at Stripe').toHaveLength(1)
    const { processor_reference } = await statusOf(intentId)
    expect(processor_reference).toBe(pis[0]!.id)
    const l = await ledger(file.server.db, payer.tenant.tenantId, [intentId])
    expect(l).toMatchObject({ intents: 1, succeeded: 1, processing: 0, pending: 0, events: 1, deliveries: 1, deliveriesSucceeded: 1 })
    expect(l.badEvents, 'one event, payment_intent.succeeded').toEqual([])
    const hooks = hooksFor(intentId)
    expect(hooks.map((h) => [h.json.type, h.verified]), 'one webhook to the tenant, verified').toEqual([['payment_intent.succeeded', true]])
    return { pi: pis[0]!, hook: hooks[0]! }
  }

  it('20 confirms of one link at once on two processes: one 200, one PaymentIntent, one charge, one webhook', async () => {
    const link = await openLink(serveA().baseUrl)
    const answers = await Promise.all(Array.from({ length: 20 }, (_, k) => confirmOnce(processes[k % 2]!.baseUrl, link.token, link.session, VISA)))
    const winners = answers.filter((a) => a.status === 200)
    expect(winners.map((a) => a.data!.status)).toEqual(['succeeded'])
    expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.code}`)).toEqual(Array(19).fill('409 payment_in_progress'))
    await expectOnePaymentOneWebhook(link.intentId)
    // One confirm went to Stripe. The create is the page's (process A, at load) and, when process B won
    // before A had stored its answer, B's own too: the same request under the same key, one PaymentIntent.
    const keys = stripe.requests.filter((r) => r.idempotencyKey?.startsWith(`${link.intentId}:`)).map((r) => r.idempotencyKey)
    expect(keys.filter((k) => k!.endsWith(':confirm'))).toEqual([`${link.intentId}:confirm`])
    expect(new Set(keys)).toEqual(new Set([`${link.intentId}:create`, `${link.intentId}:confirm`]))
  })

  it('a confirm whose answer is lost after Stripe charged answers processing; recovery records that one charge', async () => {
    // The SDK sends a reset request once more by itself (same key, replayed): two drops reach paylink.
    stripe.fail(CONFIRM_CALL, 'commit_then_drop')
    stripe.fail(CONFIRM_CALL, 'commit_then_drop')
    const link = await openLink(serveB().baseUrl)
    const answer = await confirmOnce(serveB().baseUrl, link.token, link.session, VISA)
    expect(answer).toMatchObject({ status: 200, data: { status: 'processing', failure_code: null } })
    // Both faults were spent here (none is left for the next scenario), and Stripe charged once.
    expect(confirmCallsOf(link.intentId)).toHaveLength(2)
    expect(stripeIntentsOf(link.intentId)).toMatchObject([{ status: 'succeeded' }])
    expect((await statusOf(link.intentId)).status).toBe('processing')
    const startedAt = Date.now()
    await expectOnePaymentOneWebhook(link.intentId)
    console.log(`[chaos] stripe lost answer: processing → succeeded by recovery in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (PROCESSING_RECOVERY_SECONDS=${RECOVERY_SECONDS})`)
  })

  it('SIGKILL of the process holding the confirm after Stripe charged: restarted, the intent ends succeeded, charged once, one webhook', async () => {
    const a = serveA()
    stripe.fail(CONFIRM_CALL, { delayMs: DELAY_MS })
    const link = await openLink(a.baseUrl)
    const confirming = confirmOnce(a.baseUrl, link.token, link.session, VISA).then(
      (answer) => ({ answer }),
      (error: Error) => ({ error }),
    )
    const pi = await chargedAtStripe(link.intentId)
    const killedAt = Date.now()
    await a.kill()
    const outcome = await confirming
    expect('error' in outcome, `the shopper's confirm died with the process (${JSON.stringify(outcome)})`).toBe(true)
    // Killed before its commit: paylink knows the PaymentIntent (stored before the card was sent), not its outcome.
    expect(await statusOf(link.intentId)).toEqual({ status: 'processing', processor_reference: pi.id })

    await a.start()
    // The page tries again after the connection error: someone holds the payment.
    const again: ConfirmAnswer = await confirmOnce(a.baseUrl, link.token, link.session, VISA)
    expect(`${again.status} ${again.code}`).toBe('409 payment_in_progress')
    await expectOnePaymentOneWebhook(link.intentId)
    expect(confirmCallsOf(link.intentId), 'the card went to Stripe once').toHaveLength(1)
    expect(a.kills).toBe(1)
    expect(processes.every((p) => p.alive)).toBe(true)
    console.log(`[chaos] stripe SIGKILL: restarted and succeeded ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill (PROCESSING_RECOVERY_SECONDS=${RECOVERY_SECONDS}), 1 PaymentIntent, 1 charge, 1 webhook`)
  })

  it('Stripe’s webhook reaching the other process before the confirm’s answer is applied once: the confirm then says succeeded, one webhook', async () => {
    stripe.fail(CONFIRM_CALL, { delayMs: DELAY_MS })
    const link = await openLink(serveA().baseUrl)
    let answered = false
    const confirming = confirmOnce(serveA().baseUrl, link.token, link.session, VISA).finally(() => void (answered = true))
    const pi = await chargedAtStripe(link.intentId)
    const event = stripe.events().find((e) => e.type === 'payment_intent.succeeded' && e.object.id === pi.id)!
    const signed = stripe.signedEvent(event.type, event.object, { id: event.id })
    const deliver = async () => {
      const r = await fetch(`${serveB().baseUrl}/processor-webhooks/${payer.accountId}`, { method: 'POST', headers: signed.headers, body: signed.payload })
      return { status: r.status, body: (await r.json()) as any }
    }
    expect(await deliver()).toMatchObject({ status: 200, body: { data: { received: true, applied: 1 } } })
    expect(answered, 'the webhook came first').toBe(false)
    expect((await statusOf(link.intentId)).status).toBe('succeeded')

    const answer = await confirming
    expect(answer).toMatchObject({ status: 200, data: { payment_intent_id: link.intentId, status: 'succeeded' } })
    // Stripe sends it again (it retries until answered 2xx): nothing changes.
    expect(await deliver()).toMatchObject({ status: 200, body: { data: { applied: 0 } } })
    await expectOnePaymentOneWebhook(link.intentId)
  })
})
