/**
 * The payment state machines: every pair of states, allowed against refused, as the table
 * in src/domain/payments/state.ts says and as its conditional updates enforce in the database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  can,
  edges,
  IllegalTransition,
  INTENT_STATES,
  INTENT_TRANSITIONS,
  nextState,
  publicStatus,
  REFUND_STATES,
  REFUND_TRANSITIONS,
  statesOf,
  type IntentEvent,
  type IntentState,
} from '../../src/domain/payments/state.js'
import type { Db } from '../../src/storage/db.js'
import { createStore, type Store } from '../../src/storage/store.js'
import { newId, type AccountId, type PaymentIntentId, type RefundId, type TenantId } from '../../src/domain/shared/ids.js'
import type { CurrencyCode } from '../../src/domain/shared/currencies.js'
import { openTestDb } from '../helpers/index.js'

/** The moves a payment may make, written out by hand: the table must say exactly these. */
const ALLOWED: [IntentState, IntentState][] = [
  ['pending', 'processing'],
  ['pending', 'failed'],
  ['processing', 'requires_action'],
  ['processing', 'awaiting_processor'],
  ['processing', 'succeeded'],
  ['processing', 'failed'],
  ['requires_action', 'processing'],
  ['requires_action', 'succeeded'],
  ['requires_action', 'failed'],
  ['awaiting_processor', 'succeeded'],
  ['awaiting_processor', 'failed'],
]
const allowed = (from: string, to: string) => ALLOWED.some(([f, t]) => f === from && t === to)
const events = Object.keys(INTENT_TRANSITIONS) as IntentEvent[]

describe('the payment intent state machine', () => {
  it('connects every pair of states exactly as allowed, and refuses every other pair', () => {
    for (const from of INTENT_STATES) {
      for (const to of INTENT_STATES) {
        const moves = events.filter((e) => can(INTENT_TRANSITIONS, from, e) && nextState(INTENT_TRANSITIONS, from, e) === to)
        expect(moves.length > 0, `${from} → ${to}`).toBe(allowed(from, to))
      }
    }
    expect(edges(INTENT_TRANSITIONS).map((e) => [e.from, e.to]).sort()).toEqual([...ALLOWED].sort())
  })

  it('never leaves a final state, and says so with an error', () => {
    for (const from of ['succeeded', 'failed'] as const) {
      for (const e of events) {
        expect(can(INTENT_TRANSITIONS, from, e)).toBe(false)
        expect(() => nextState(INTENT_TRANSITIONS, from, e)).toThrow(IllegalTransition)
      }
    }
    expect(() => nextState(INTENT_TRANSITIONS, 'pending', 'succeed')).toThrow('no transition succeed from pending')
  })

  it('shows tenants four statuses: waiting for 3-D Secure or for the processor is processing', () => {
    expect(INTENT_STATES.map(publicStatus)).toEqual(['pending', 'processing', 'processing', 'processing', 'succeeded', 'failed'])
    expect(statesOf('processing')).toEqual(['processing', 'requires_action', 'awaiting_processor'])
    expect(statesOf('succeeded')).toEqual(['succeeded'])
  })
})

describe('the refund state machine', () => {
  it('settles a pending refund, lets a succeeded one fail later, and nothing else', () => {
    for (const from of REFUND_STATES) {
      for (const to of REFUND_STATES) {
        const ok = (Object.keys(REFUND_TRANSITIONS) as (keyof typeof REFUND_TRANSITIONS)[]).some((e) => can(REFUND_TRANSITIONS, from, e) && REFUND_TRANSITIONS[e].to === to)
        expect(ok, `${from} → ${to}`).toBe((from === 'pending' && to !== 'pending') || (from === 'succeeded' && to === 'failed'))
      }
    }
  })
})

describe('the transitions in the database', () => {
  let db: Db
  let store: Store
  const tenantId = `ten_sm${Date.now().toString(36)}` as TenantId
  const at = new Date()
  let n = 0

  beforeAll(async () => {
    db = await openTestDb()
    store = createStore(db)
    await db.query("INSERT INTO tenants (id, name, allowed_origins, created_at) VALUES ($1, 'State machine', '{}', $2)", [tenantId, at])
    await db.query("INSERT INTO end_users (tenant_id, id, created_at) VALUES ($1, 'usr_sm', $2)", [tenantId, at])
    await db.query(
      "INSERT INTO card_processing_accounts (tenant_id, id, name, processor, currencies, priority, created_at) VALUES ($1, 'cpa_sm', 'S', 'sandbox', '{USD}', 0, $2)",
      [tenantId, at],
    )
  })
  afterAll(async () => {
    await db?.close()
  })

  /** An intent put straight into `state` (a test's shortcut past the machine). */
  async function intentIn(state: IntentState, expiresAt = new Date(at.getTime() + 600_000)): Promise<PaymentIntentId> {
    const id = `pi_sm${++n}` as PaymentIntentId
    await db.query(
      `INSERT INTO payment_intents (tenant_id, id, user_id, account_id, amount_minor, currency, status, expires_at, created_at, updated_at, link_token_hash)
       VALUES ($1, $2, 'usr_sm', 'cpa_sm', 100, 'USD', $3, $4, $5, $5, $6)`,
      [tenantId, id, state, expiresAt, at, Buffer.from(`${tenantId}:${id}`)],
    )
    return id
  }

  const card = { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2040 }
  const outcome = (status: 'succeeded' | 'failed') => ({
    status,
    failureCode: status === 'failed' ? ('card_declined' as const) : null,
    failureMessage: null,
    processorCode: null,
    processorMessage: null,
    card: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2040 },
    processorReference: 'ref',
    savedCardId: null,
  })

  /** Each repository method against every state: it wins exactly from the table's sources. */
  const moves: Record<string, { event: IntentEvent; run: (id: PaymentIntentId) => Promise<boolean> }> = {
    start: { event: 'start', run: async (id) => !!(await store.intents.start(tenantId, id, at, { saveCard: false, fingerprint: null, card, savedCardId: null })) },
    requireAction: { event: 'require_action', run: (id) => store.intents.requireAction(tenantId, id, { challengeId: 'c', processorReference: 'r', returnStateHash: null, redirect: null }, at) },
    resume: { event: 'resume', run: async (id) => !!(await store.intents.resume(tenantId, id, at)) },
    awaitProcessor: { event: 'await_processor', run: (id) => store.intents.awaitProcessor(tenantId, id, 'r', at) },
    succeed: { event: 'succeed', run: async (id) => !!(await store.intents.finish(tenantId, id, outcome('succeeded'), at)) },
    fail: { event: 'fail', run: async (id) => !!(await store.intents.finish(tenantId, id, outcome('failed'), at)) },
  }

  for (const [name, move] of Object.entries(moves)) {
    it(`${name} wins from ${INTENT_TRANSITIONS[move.event].from.join(', ')} only, and lands in ${INTENT_TRANSITIONS[move.event].to}`, async () => {
      for (const state of INTENT_STATES) {
        const id = await intentIn(state)
        const won = await move.run(id)
        expect(won, `${name} from ${state}`).toBe(can(INTENT_TRANSITIONS, state, move.event))
        const after = await store.intents.get(tenantId, id)
        expect(after!.status).toBe(won ? INTENT_TRANSITIONS[move.event].to : state)
      }
    })
  }

  it('expire wins only from pending, and only once the link is past its time', async () => {
    for (const state of INTENT_STATES) {
      const due = await intentIn(state, new Date(at.getTime() - 1000))
      expect(!!(await store.intents.expire(tenantId, due, 'expired', at)), state).toBe(state === 'pending')
    }
    const notYet = await intentIn('pending')
    expect(await store.intents.expire(tenantId, notYet, 'expired', at)).toBeUndefined()
  })

  it('of two racing transitions out of one state, exactly one wins', async () => {
    const id = await intentIn('processing')
    const results = await Promise.all([moves.succeed!.run(id), moves.fail!.run(id), moves.awaitProcessor!.run(id), moves.succeed!.run(id)])
    expect(results.filter(Boolean)).toHaveLength(1)
  })
  it('settles a refund as REFUND_TRANSITIONS allows, moving the intent’s totals with it', async () => {
    const intentId = await intentIn('succeeded')
    const reserve = async (amountMinor: number) =>
      (
        await store.refunds.reserve(tenantId, {
          id: newId('refund'),
          intentId,
          accountId: 'cpa_sm' as AccountId,
          amountMinor,
          currency: 'USD' as CurrencyCode,
          reason: null,
          at,
        })
      ).id
    const settle = (id: RefundId, status: 'succeeded' | 'failed') =>
      store.refunds.settle(tenantId, id, { status, failureCode: status === 'failed' ? 'processing_error' : null, processorRef: null, processorCode: null, processorMessage: null }, at)
    const totals = async () => {
      const [t] = await db.query<{ amount_refunded_minor: string; amount_reserved_minor: string }>('SELECT amount_refunded_minor, amount_reserved_minor FROM payment_intents WHERE tenant_id = $1 AND id = $2', [tenantId, intentId])
      return { refunded: Number(t!.amount_refunded_minor), reserved: Number(t!.amount_reserved_minor) }
    }
    const [a, b] = [await reserve(10), await reserve(20)]
    expect(await totals()).toEqual({ refunded: 0, reserved: 30 })
    // Of three racing successes of one refund, one counts.
    expect((await Promise.all([settle(a, 'succeeded'), settle(a, 'succeeded'), settle(a, 'succeeded')])).filter(Boolean)).toHaveLength(1)
    expect(await totals()).toEqual({ refunded: 10, reserved: 30 })
    // A failure gives a pending refund's amount back; a failed refund never succeeds after.
    expect(await settle(b, 'failed')).toMatchObject({ status: 'failed' })
    expect(await settle(b, 'succeeded')).toBeUndefined()
    expect(await settle(b, 'failed')).toBeUndefined()
    expect(await totals()).toEqual({ refunded: 10, reserved: 10 })
    // A succeeded refund the processor reports failed later: the money was not given back after all.
    expect(await settle(a, 'failed')).toMatchObject({ status: 'failed' })
    expect(await totals()).toEqual({ refunded: 0, reserved: 0 })
  })
})
