/**
 * Chaos 5: refunds (SPEC "Refunds") when a `paylink serve` process dies under them. Two
 * processes (ROLE=all) on one PostgreSQL database take refunds; one is killed with SIGKILL
 * while some of its refunds are in flight, and restarted. Clients do what an integrator's
 * server should: every refund request carries an Idempotency-Key, and after a connection
 * error it is sent again, with the same key, to the process still up.
 *
 * A refund is reserved under the intent's row lock, sent to the processor outside any
 * transaction with the refund id as the processor's key, then settled; a kill between
 * those steps leaves it `pending`, and recovery (PROCESSING_RECOVERY_SECONDS=4) asks the
 * processor again with the same key. Once it has, nothing is lost and nothing is sent twice:
 * - every refund is `succeeded` or `failed`, and the intent's totals are its succeeded ones,
 *   never more than was paid;
 * - the processor holds exactly one refund per paylink refund (same amount, same outcome),
 *   and none that paylink does not know;
 * - the tenant gets exactly one webhook (one webhook-id, verified) per refund, of its outcome;
 * - every 201 a client got names a refund that exists, and every refund is one a client
 *   asked for once (one per Idempotency-Key).
 * On the sandbox (its books are `sandbox_refunds`) with a burst of 56 refunds on four
 * intents, and through the Stripe fake with refunds held 1.5 s at Stripe while their process
 * is killed. The sandbox refunds in milliseconds, so the kill is aimed: settles are held for
 * a moment (a lock on `events`, which only a settle writes) until serve-a has a refund that
 * the sandbox made and paylink has not recorded — the case where a lost refund or a second
 * one would come from — and serve-a dies then, with other calls before their reservation or
 * between it and the processor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, getToken, pay, payerWithEndpoint, setupProcessorPayer, sleep, startReceiver, until, usingPostgres, type Receiver, type TestServer } from '../helpers/index.js'
import { startStripeFake, type StripeFake } from '../fakes/stripe.js'
import { chaosFile, pool, type ServeProcess } from './support.js'

const RECOVERY_SECONDS = 4
const CHILD_ENV = { PROCESSING_RECOVERY_SECONDS: String(RECOVERY_SECONDS), PROCESSOR_TIMEOUT_SECONDS: '3', WORKER_POLL_SECONDS: '1' }
/** Recovery's deadline after the restart, plus the worker's poll and a margin for a busy machine. */
const SETTLED_WITHIN_MS = (RECOVERY_SECONDS + 16) * 1000
/** A client gives up when no process answers for this long. */
const GIVE_UP_MS = 30_000
const VISA = '4242424242424242'

interface RefundJson {
  id: string
  payment_intent_id: string
  amount: string
  amount_minor: number
  status: 'pending' | 'succeeded' | 'failed'
}

/** One refund an integrator asks for: its key, and what each process it tried answered (or that it died under it). */
interface RefundCall {
  key: string
  intentId: string
  /** Major units; undefined asks for all that is left. */
  amount?: string
  /** Set when first sent: marks which process the call went to first (see FIRST_SENT_TO). */
  reason?: string
  /** Processes whose connection broke under this call. */
  died: string[]
  answer?: { status: number; code?: string; refund?: RefundJson; replayed: boolean; by: string }
}

/**
 * A refund's `reason` says which process its call was first sent to: the database can then
 * tell serve-a's refunds from serve-b's (a retry keeps its body, as its key demands).
 */
const FIRST_SENT_TO: Record<string, string> = { 'serve-a': 'fraudulent', 'serve-b': 'requested_by_customer' }

const cents = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`

describe.skipIf(!usingPostgres())('chaos: SIGKILL under refunds', () => {
  const file = chaosFile({ ALLOW_PRIVATE_WEBHOOK_URLS: 'true' })
  const { processes } = file
  let receiver: Receiver
  let stripe: StripeFake
  /** The processes taking new requests (a process is out of it from just before its kill until it is ready again). */
  const up = new Set<ServeProcess>()
  beforeAll(async () => {
    receiver = await startReceiver('/hooks')
    stripe = await startStripeFake()
    const started = [await file.serve('serve-a', CHILD_ENV), await file.serve('serve-b', CHILD_ENV)]
    await Promise.all(started.map((p) => p.start()))
    for (const p of started) up.add(p)
  })
  afterAll(async () => {
    await receiver?.close()
    await stripe?.close()
  })
  const serveA = () => processes[0]!
  const serveB = () => processes[1]!
  const db = () => file.server.db

  /** Access tokens of one tenant, one per process (a token names its issuer as audience). */
  async function tokensFor(tenant: { clientId: string; clientSecret: string }) {
    const tokens = new Map<ServeProcess, string>()
    for (const p of processes) tokens.set(p, await getToken({ baseUrl: p.baseUrl } as TestServer, tenant, { scope: 'payments:write payments:read' }))
    return tokens
  }

  /** POST …/refunds once; throws on a connection error (the process died under it). */
  async function postRefund(p: ServeProcess, token: string, call: RefundCall): Promise<NonNullable<RefundCall['answer']>> {
    const r = await fetch(`${p.baseUrl}/v1/platform/payment-intents/${call.intentId}/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': call.key },
      body: JSON.stringify({ ...(call.amount === undefined ? {} : { amount: call.amount }), reason: call.reason }),
      signal: AbortSignal.timeout(20_000),
    })
    const body = (await r.json()) as { data?: RefundJson; error?: { code: string } }
    return { status: r.status, ...(body.error ? { code: body.error.code } : {}), ...(body.data ? { refund: body.data } : {}), replayed: r.headers.get('idempotent-replayed') === 'true', by: p.name }
  }

  /**
   * Sends a refund call to `first` (or to a process still up), again with the same key to a
   * process up after a connection error, until it is answered. `inFlight` counts calls on the wire per process.
   */
  async function refundUntilAnswered(call: RefundCall, first: ServeProcess, tokens: Map<ServeProcess, string>, inFlight: Map<ServeProcess, number>) {
    const since = Date.now()
    let target = up.has(first) ? first : [...up][0]!
    for (;;) {
      const at = target
      call.reason ??= FIRST_SENT_TO[at.name]
      inFlight.set(at, (inFlight.get(at) ?? 0) + 1)
      try {
        call.answer = await postRefund(at, tokens.get(at)!, call)
        return
      } catch (err) {
        call.died.push(at.name)
        if (Date.now() - since > GIVE_UP_MS) throw new Error(`no process answered ${call.key}: ${(err as Error).message}`)
      } finally {
        inFlight.set(at, inFlight.get(at)! - 1)
      }
      await sleep(50)
      target = [...up].find((p) => p !== at) ?? [...up][0] ?? at
    }
  }

  /** A delivery claimed by a killed process stays leased for 60 s: end those leases (only theirs: taken before `restartedAt`) instead of waiting. */
  const endDeadLeases = (tenantId: string, restartedAt: number) =>
    db().query(`UPDATE deliveries SET leased_until = $2 WHERE tenant_id = $1 AND status = 'pending' AND leased_until > $2 AND updated_at < $3`, [tenantId, new Date(), new Date(restartedAt)])

  interface Books {
    refunds: Array<{ id: string; payment_intent_id: string; amount_minor: number; status: string; processor_reference: string | null }>
    intents: Array<{ id: string; amount_minor: number; amount_refunded_minor: number; amount_reserved_minor: number }>
    events: Array<{ id: string; refund_id: string; type: string }>
    deliveries: number
    delivered: number
  }

  /** paylink's side: the refunds of these intents, their totals, and the refunds' events and deliveries. */
  async function books(tenantId: string, intentIds: string[]): Promise<Books> {
    const refunds = await db().query<Books['refunds'][number]>(
      `SELECT id, payment_intent_id, amount_minor::int AS amount_minor, status, processor_reference FROM refunds WHERE tenant_id = $1 AND payment_intent_id = ANY ($2) ORDER BY id`,
      [tenantId, intentIds],
    )
    const intents = await db().query<Books['intents'][number]>(
      `SELECT id, amount_minor::int AS amount_minor, amount_refunded_minor::int AS amount_refunded_minor, amount_reserved_minor::int AS amount_reserved_minor
         FROM payment_intents WHERE tenant_id = $1 AND id = ANY ($2) ORDER BY id`,
      [tenantId, intentIds],
    )
    const events = await db().query<Books['events'][number]>(`SELECT id, refund_id, type FROM events WHERE tenant_id = $1 AND payment_intent_id = ANY ($2) AND refund_id IS NOT NULL`, [
      tenantId,
      intentIds,
    ])
    const [d] = await db().query<{ deliveries: number; delivered: number }>(
      `SELECT count(d.id)::int AS deliveries, count(d.id) FILTER (WHERE d.status = 'succeeded')::int AS delivered
         FROM events e JOIN deliveries d ON d.tenant_id = e.tenant_id AND d.event_id = e.id
        WHERE e.tenant_id = $1 AND e.payment_intent_id = ANY ($2) AND e.refund_id IS NOT NULL`,
      [tenantId, intentIds],
    )
    return { refunds, intents, events, deliveries: d!.deliveries, delivered: d!.delivered }
  }

  /** Waits until no refund of these intents is pending and every refund event is delivered; answers the books then. */
  async function settled(tenantId: string, intentIds: string[]): Promise<Books> {
    let b = await books(tenantId, intentIds)
    await until(
      'every refund settled and its webhook delivered',
      async () => {
        b = await books(tenantId, intentIds)
        return b.refunds.every((r) => r.status !== 'pending') && b.events.length === b.refunds.length && b.deliveries === b.events.length && b.delivered === b.deliveries
      },
      SETTLED_WITHIN_MS,
      200,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify({ ...b, intents: b.intents })}\n${processes.map((p) => `${p.name}:\n${p.output.join('')}`).join('\n')}`)
    })
    return b
  }

  /**
   * What holds for both processors once everything settled: totals, one event per refund of
   * its outcome, one verified webhook-id per refund at the tenant's receiver, and the clients'
   * answers agreeing with the refunds that exist. Answers the number of repeated deliveries.
   */
  function expectConsistent(b: Books, calls: RefundCall[]) {
    for (const intent of b.intents) {
      const mine = b.refunds.filter((r) => r.payment_intent_id === intent.id)
      const succeeded = mine.filter((r) => r.status === 'succeeded').reduce((sum, r) => sum + r.amount_minor, 0)
      expect(mine.filter((r) => r.status === 'pending'), `${intent.id}: no refund left pending`).toEqual([])
      expect(intent.amount_refunded_minor, `${intent.id}: amount_refunded = its succeeded refunds`).toBe(succeeded)
      expect(intent.amount_reserved_minor, `${intent.id}: nothing reserved but what was refunded`).toBe(succeeded)
      expect(intent.amount_refunded_minor, `${intent.id}: never more than was paid`).toBeLessThanOrEqual(intent.amount_minor)
    }

    // One event per refund, of its outcome; the receiver got each under one webhook-id, verified.
    const byRefund = new Map(b.refunds.map((r) => [r.id, r]))
    expect(b.events.map((e) => [e.refund_id, e.type]).sort()).toEqual(b.refunds.map((r) => [r.id, `refund.${r.status}`]).sort())
    const hooks = receiver.received.filter((h) => typeof h.json?.type === 'string' && h.json.type.startsWith('refund.') && b.intents.some((i) => i.id === h.json.data.payment_intent_id))
    expect(hooks.every((h) => h.verified), 'every refund webhook verifies').toBe(true)
    const hookIds = new Map<string, Set<string>>()
    for (const h of hooks) {
      expect(h.json.type, `${h.json.data.id}: the webhook tells the refund's outcome`).toBe(`refund.${byRefund.get(h.json.data.id)?.status}`)
      hookIds.set(h.json.data.id, (hookIds.get(h.json.data.id) ?? new Set()).add(h.id))
    }
    const eventOf = new Map(b.events.map((e) => [e.refund_id, e.id]))
    expect(
      [...hookIds].map(([refundId, ids]) => [refundId, [...ids]]).sort(),
      'one webhook (one webhook-id: its event) per refund',
    ).toEqual(b.refunds.map((r) => [r.id, [eventOf.get(r.id)]]).sort())

    // The clients: answered 201 or 422 refund_exceeds_amount, each 201 names a refund that exists (its own: one per key), and every refund is one of theirs.
    expect(calls.filter((c) => !(c.answer?.status === 201 || (c.answer?.status === 422 && c.answer.code === 'refund_exceeds_amount'))).map((c) => c.answer)).toEqual([])
    const told = calls.filter((c) => c.answer!.status === 201)
    for (const c of told) {
      const r = c.answer!.refund!
      expect(byRefund.get(r.id), `${c.key}: the refund it was told of exists`).toMatchObject({ payment_intent_id: c.intentId, amount_minor: r.amount_minor })
      if (c.amount !== undefined) expect(r.amount, `${c.key}: the amount asked for`).toBe(c.amount)
      if (r.status !== 'pending') expect(r.status, `${c.key}: a final status told is the final one`).toBe(byRefund.get(r.id)!.status)
    }
    expect(told.map((c) => c.answer!.refund!.id).sort(), 'the refunds are those the clients were told of, one per key').toEqual(b.refunds.map((r) => r.id))
    return hooks.length - hookIds.size
  }

  /**
   * Holds `LOCK TABLE events IN SHARE MODE` until the answer is called: a refund's settle
   * (outcome, totals and its event in one transaction) cannot commit meanwhile, so a refund
   * sent to the sandbox stays `pending` until then; nothing else is held up.
   */
  async function freezeSettles(): Promise<() => Promise<void>> {
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    let locked!: () => void
    const isLocked = new Promise<void>((resolve) => (locked = resolve))
    const holding = db().transaction(async (tx) => {
      await tx.run('LOCK TABLE events IN SHARE MODE')
      locked()
      await released
    })
    await Promise.race([isLocked, holding])
    return async () => {
      release()
      await holding
    }
  }

  it('sandbox: a burst of 56 refunds on two processes, one killed in the middle and restarted: none lost, none sent twice, one webhook each', async () => {
    const { server } = file
    const a = serveA()
    const payer = await payerWithEndpoint(server, receiver)
    const tenantId = payer.tenant.tenantId
    // Three 20.00 payments whose refunds succeed, and one whose refunds all fail (the amount comes back each time).
    const paid = await Promise.all([VISA, VISA, VISA, CARDS.refundFails].map((card) => pay(payer, card, { amount: '20.00' })))
    expect(paid.map((p) => p.answer.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded'])
    const ids = paid.map((p) => p.intentId)
    const failing = ids[3]!
    const tokens = await tokensFor(payer.tenant)

    // 15 refunds of 1.00–2.00 on each refundable intent (about 22.50 asked of 20.00: the last ones go over what is left),
    // then one for all that is left; 8 on the failing one. Interleaved, so that every intent is refunded at once.
    const perIntent = ids.map((intentId, i) => {
      const n = intentId === failing ? 8 : 15
      const calls: RefundCall[] = Array.from({ length: n }, (_, k) => ({ key: `burst-${i}-${k}`, intentId, amount: cents(100 + Math.floor(Math.random() * 101)), died: [] }))
      if (intentId !== failing) calls.push({ key: `burst-${i}-rest`, intentId, died: [] })
      return calls
    })
    const calls: RefundCall[] = []
    for (let k = 0; perIntent.some((l) => k < l.length); k++) for (const l of perIntent) if (l[k]) calls.push(l[k]!)

    const inFlight = new Map<ServeProcess, number>()
    let answered = 0
    let burstDone = false
    const startedAt = Date.now()
    const burst = pool(calls, 12, async (call) => {
      await refundUntilAnswered(call, processes[calls.indexOf(call) % 2]!, tokens, inFlight)
      answered++
    }).finally(() => void (burstDone = true))

    /** serve-a's refunds that the sandbox has made and paylink has not recorded (only calls in flight at serve-a can hold those). */
    const refundedUnrecordedAtA = async () =>
      (
        await db().query<{ id: string }>(
          `SELECT r.id FROM refunds r JOIN sandbox_refunds s ON s.refund_key = r.id
            WHERE r.tenant_id = $1 AND r.payment_intent_id = ANY ($2) AND r.status = 'pending' AND r.reason = $3`,
          [tenantId, ids, FIRST_SENT_TO[a.name]],
        )
      ).map((r) => r.id)

    // The kill, once some refunds are answered and at least 3 are on the wire at serve-a: settles are held
    // (freezeSettles) until serve-a has a refund made at the sandbox and not yet recorded, then serve-a dies.
    let atKill = { answered: 0, inFlight: 0, freezes: 0, refundedUnrecorded: [] as string[], sentToSandbox: new Set<string>(), pending: new Set<string>(), existing: new Set<string>() }
    let restartedAt = 0
    const killer = (async () => {
      while (!burstDone && !(answered >= 12 && (inFlight.get(a) ?? 0) >= 3)) await sleep(1)
      for (let freezes = 1; ; freezes++) {
        if (burstDone) throw new Error(`the burst ended before the kill (${answered} answered, ${freezes - 1} freezes)`)
        const thaw = await freezeSettles()
        const deadline = Date.now() + 1000
        let caught: string[] = []
        while (Date.now() < deadline && (caught = await refundedUnrecordedAtA()).length === 0) await sleep(10)
        if (caught.length === 0) {
          await thaw() // every refund on the wire at serve-a waits before its processor call: let the burst go on, and try again
          await sleep(100)
          continue
        }
        up.delete(a)
        const inFlightAtKill = inFlight.get(a)!
        await a.kill()
        // What serve-a left behind (it writes nothing more): the sandbox's refunds, and the refunds pending then (serve-b's in flight among them).
        const sandbox = await db().query<{ refund_key: string }>('SELECT refund_key FROM sandbox_refunds WHERE charge_key = ANY ($1)', [ids])
        const existing = await db().query<{ id: string; status: string }>(`SELECT id, status FROM refunds WHERE tenant_id = $1 AND payment_intent_id = ANY ($2)`, [tenantId, ids])
        const pending = existing.filter((r) => r.status === 'pending')
        atKill = {
          answered,
          inFlight: inFlightAtKill,
          freezes,
          refundedUnrecorded: await refundedUnrecordedAtA(),
          sentToSandbox: new Set(sandbox.map((r) => r.refund_key)),
          pending: new Set(pending.map((r) => r.id)),
          existing: new Set(existing.map((r) => r.id)),
        }
        await thaw()
        break
      }
      await a.start()
      restartedAt = a.startedAt
      up.add(a)
    })()
    for (const r of await Promise.allSettled([burst, killer])) if (r.status === 'rejected') throw r.reason
    const burstMs = Date.now() - startedAt
    await endDeadLeases(tenantId, restartedAt)
    const b = await settled(tenantId, ids)

    // The sandbox's books: exactly one refund per paylink refund, same intent, amount and outcome; none that paylink does not know.
    const sandbox = await db().query<{ refund_key: string; charge_key: string; amount_minor: number; status: string; reference: string }>(
      'SELECT refund_key, charge_key, amount_minor::int AS amount_minor, status, reference FROM sandbox_refunds WHERE charge_key = ANY ($1) ORDER BY refund_key',
      [ids],
    )
    expect(
      sandbox.map((s) => [s.refund_key, s.charge_key, s.amount_minor, s.status, s.reference]),
      'the sandbox holds one refund per paylink refund, and no other',
    ).toEqual(b.refunds.map((r) => [r.id, r.payment_intent_id, r.amount_minor, r.status, r.processor_reference]))
    for (const id of ids) {
      const refunded = sandbox.filter((s) => s.charge_key === id && s.status === 'succeeded').reduce((sum, s) => sum + s.amount_minor, 0)
      expect(b.intents.find((i) => i.id === id)!.amount_refunded_minor, `${id}: what the sandbox gave back`).toBe(refunded)
    }
    expect(b.refunds.filter((r) => r.payment_intent_id === failing).every((r) => r.status === 'failed'), 'the refund-failing card’s refunds failed').toBe(true)
    expect(b.refunds.filter((r) => r.payment_intent_id !== failing).every((r) => r.status === 'succeeded'), 'the others succeeded').toBe(true)
    const repeats = expectConsistent(b, calls)

    // The kill hit refunds in flight: calls died at serve-a; the refunds it had reserved were pending after it, those the
    // sandbox had made among them; each such call, sent again with its key, got its own refund back (a replay).
    const died = calls.filter((c) => c.died.includes(a.name))
    const reservedBeforeKill = died.filter((c) => c.answer!.replayed).map((c) => c.answer!.refund!.id)
    const sentBeforeKill = reservedBeforeKill.filter((id) => atKill.sentToSandbox.has(id))
    expect(atKill.refundedUnrecorded.length, 'serve-a died after the sandbox refunded and before paylink recorded it').toBeGreaterThanOrEqual(1)
    expect(reservedBeforeKill, 'the calls of those refunds died and got them back on retry').toEqual(expect.arrayContaining(atKill.refundedUnrecorded))
    // Reserved before the kill: it existed then — pending, or already settled by a call whose answer died on the wire.
    expect(reservedBeforeKill.every((id) => atKill.existing.has(id)), 'a refund a killed call got back on retry was reserved before the kill').toBe(true)
    expect(atKill.refundedUnrecorded.every((id) => atKill.pending.has(id)), 'those the sandbox had made were pending after the kill').toBe(true)
    expect(a.kills).toBe(1)
    expect(processes.every((p) => p.alive)).toBe(true)
    const succeeded = b.refunds.filter((r) => r.status === 'succeeded')
    console.log(
      `[chaos] refunds sandbox: ${calls.length} calls in ${(burstMs / 1000).toFixed(1)} s (restart included) on 2 processes; serve-a killed after ${atKill.answered} answers with ${atKill.inFlight} on the wire ` +
        `(settles held ${atKill.freezes === 1 ? 'once' : `${atKill.freezes} times`}), restarted; ${died.length} calls died with it and were sent again with their key to serve-b: ` +
        `${reservedBeforeKill.length} had reserved their refund (${sentBeforeKill.length} already refunded at the sandbox, ${reservedBeforeKill.length - sentBeforeKill.length} not yet sent), the others nothing; ` +
        `${atKill.pending.size} refunds pending just after the kill (serve-b's in flight among them), none left after recovery; ` +
        `${b.refunds.length} refunds (${succeeded.length} succeeded, ${b.refunds.length - succeeded.length} failed), ${calls.filter((c) => c.answer!.status === 422).length} refused over what was left; ` +
        `refunded ${b.intents.map((i) => cents(i.amount_refunded_minor)).join(' / ')} of 20.00 each; sandbox rows ${sandbox.length}; webhooks ${b.events.length} (+${repeats} repeats of a webhook-id)`,
    )
  })

  it('Stripe: refunds held at Stripe when their process is killed end succeeded once recovery asks again with the same key: one Stripe refund each', async () => {
    const { server } = file
    const a = serveA()
    const payer = await setupProcessorPayer(server, {
      processor: 'stripe',
      currencies: ['USD'],
      config: { secret_key: stripe.secretKey, webhook_secret: stripe.webhookSecret, api_base: stripe.url },
    })
    const endpoint = await payer.api.post('/v1/platform/webhook-endpoints', { url: receiver.url })
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(201)
    receiver.secrets.push(endpoint.body.data.secret)
    const paid = await Promise.all([0, 1].map(() => pay(payer, VISA, { amount: '20.00' })))
    expect(paid.map((p) => p.answer.status)).toEqual(['succeeded', 'succeeded'])
    const ids = paid.map((p) => p.intentId)
    const tokens = await tokensFor(payer.tenant)

    // 8 refunds, 4 on each process, 2 of each process on each intent; Stripe makes each at once and holds its answer 1.5 s.
    const calls: RefundCall[] = Array.from({ length: 8 }, (_, k) => ({ key: `stripe-${k}`, intentId: ids[Math.floor(k / 2) % 2]!, amount: cents(200 + 50 * k), died: [] }))
    calls.forEach(() => stripe.fail({ method: 'POST', path: '/v1/refunds' }, { delayMs: 1500 }))
    const before = stripe.requests.length
    const inFlight = new Map<ServeProcess, number>()
    const sending = Promise.all(calls.map((call, k) => refundUntilAnswered(call, processes[k % 2]!, tokens, inFlight)))
    await until('Stripe holds all 8 refunds', () => stripe.requests.slice(before).filter((r) => r.method === 'POST' && r.path === '/v1/refunds').length === calls.length, 10_000, 5)
    up.delete(a)
    const killedAt = Date.now()
    await a.kill()
    await a.start()
    up.add(a)
    await sending
    await endDeadLeases(payer.tenant.tenantId, a.startedAt)
    const b = await settled(payer.tenant.tenantId, ids)

    // Stripe's books: one refund per paylink refund (its metadata and its idempotency key name it), succeeded, same amount, and the one paylink records.
    const atStripe = stripe.refunds().filter((r) => ids.includes(r.metadata?.payment_intent_id ?? ''))
    expect(atStripe.map((r) => [r.metadata!.refund_id, r.amount, r.status, r.id]).sort(), 'one Stripe refund per paylink refund, and no other').toEqual(
      b.refunds.map((r) => [r.id, r.amount_minor, 'succeeded', r.processor_reference]).sort(),
    )
    expect(b.refunds.every((r) => r.status === 'succeeded')).toBe(true)
    for (const id of ids) {
      const pi = stripe.paymentIntents().find((p) => p.metadata.payment_intent_id === id)!
      const givenBack = atStripe.filter((r) => r.payment_intent === pi.id && r.status === 'succeeded').reduce((sum, r) => sum + r.amount, 0)
      expect(b.intents.find((i) => i.id === id)!.amount_refunded_minor, `${id}: what Stripe gave back on its PaymentIntent`).toBe(givenBack)
    }
    const refundPosts = stripe.requests.slice(before).filter((r) => r.method === 'POST' && r.path === '/v1/refunds')
    expect(refundPosts.every((r) => b.refunds.some((x) => x.id === r.idempotencyKey)), 'every refund request to Stripe carries its paylink refund id as key').toBe(true)
    const repeats = expectConsistent(b, calls)

    // serve-a's four died with it: their refunds were made at Stripe and reserved (the retry on serve-b was a replay), and recovery asked Stripe again with the same key.
    const died = calls.filter((c) => c.died.includes(a.name))
    expect(died.map((c) => c.key), 'the calls on serve-a died with it').toEqual(calls.filter((_, k) => k % 2 === 0).map((c) => c.key))
    expect(died.map((c) => [c.answer!.status, c.answer!.replayed, c.answer!.refund!.status]), 'retried on serve-b: the refund reserved, still pending').toEqual(died.map(() => [201, true, 'pending']))
    for (const c of died) expect(refundPosts.filter((r) => r.idempotencyKey === c.answer!.refund!.id).length, `${c.key}: asked again by recovery, same key`).toBeGreaterThanOrEqual(2)
    const alive = calls.filter((c) => !c.died.length)
    expect(alive.map((c) => [c.answer!.status, c.answer!.refund!.status])).toEqual(alive.map(() => [201, 'succeeded']))
    console.log(
      `[chaos] refunds Stripe: serve-a killed while Stripe held its 4 refunds (1.5 s), restarted; all 8 succeeded ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill ` +
        `(PROCESSING_RECOVERY_SECONDS=${RECOVERY_SECONDS}); ${refundPosts.length} refund requests to Stripe for 8 keys, ${atStripe.length} Stripe refunds; webhooks ${b.events.length} (+${repeats} repeats of a webhook-id)`,
    )
  })
})
