/**
 * SPEC "Refunds" over HTTP, on the sandbox: POST /v1/platform/payment-intents/{id}/refunds,
 * its listing and GET /v1/platform/refunds/{id}; the money rules (never more than was paid,
 * whatever arrives at once), the intent's totals, idempotency, isolation and scopes. One
 * server for the file; every test works in its own tenant.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { SandboxProcessor } from '../../src/processors/sandbox/sandbox.js'
import { STALE_PROCESSING_MS } from '../../src/domain/payments/lifecycle.js'
import { CARDS, apiClient, expectNotFoundAsMissing, getToken, intentOf, mint, pay, setupPayer, startServer, type Payer, type TestServer } from '../helpers/index.js'

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server?.close())

/** A payer with a succeeded 25.00 USD payment (or paid with `card`). */
async function paid(amount = '25.00', card: string = CARDS.visa) {
  const p = await setupPayer(server)
  const { intentId, answer } = await pay(p, card, { amount })
  expect(answer.status).toBe('succeeded')
  return { p, intentId }
}
const refund = (p: Payer, intentId: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  p.api.post(`/v1/platform/payment-intents/${intentId}/refunds`, body, { headers })
const sandboxRefunds = async (intentId: string) => (await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sandbox_refunds WHERE charge_key = $1', [intentId]))[0]!.n

describe('refunding a succeeded payment', () => {
  it('refunds all that is left when no amount is given, and the intent shows it', async () => {
    const { p, intentId } = await paid('12.50')
    const r = await refund(p, intentId, { reason: 'requested_by_customer' })
    expect(r.status).toBe(201)
    expect(r.body.data).toEqual({
      id: expect.stringMatching(/^re_[0-9a-z]+$/),
      object: 'refund',
      payment_intent_id: intentId,
      amount: '12.50',
      amount_minor: 1250,
      currency: 'USD',
      status: 'succeeded',
      failure_code: null,
      reason: 'requested_by_customer',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    expect(await intentOf(p, intentId)).toMatchObject({ status: 'succeeded', amount: '12.50', amount_refunded: '12.50', amount_refunded_minor: 1250 })
    expect((await p.api.get(`/v1/platform/refunds/${r.body.data.id}`)).body.data).toEqual(r.body.data)
  })

  it('takes parts up to the amount, then refuses more, naming what is left', async () => {
    const { p, intentId } = await paid('12.50')
    expect((await refund(p, intentId, { amount: '5.00' })).body.data).toMatchObject({ status: 'succeeded', amount: '5.00' })
    expect((await refund(p, intentId, { amount: 5 })).body.data).toMatchObject({ status: 'succeeded', amount: '5.00' })
    const over = await refund(p, intentId, { amount: '3.00' })
    expect(over.status).toBe(422)
    expect(over.body.error).toMatchObject({ code: 'refund_exceeds_amount', message: 'Only 2.50 USD is left to refund.', details: [{ field: 'amount', issue: 'is more than the 2.50 USD left to refund' }] })
    expect((await refund(p, intentId)).body.data).toMatchObject({ status: 'succeeded', amount: '2.50' })
    const none = await refund(p, intentId, { amount: '0.01' })
    expect(none.body.error).toMatchObject({ code: 'refund_exceeds_amount', message: 'Nothing is left to refund on this payment intent.' })
    expect(await intentOf(p, intentId)).toMatchObject({ amount_refunded: '12.50' })
    expect(await sandboxRefunds(intentId)).toBe(3)
  })

  it('refuses an intent that is not succeeded, naming its status, and a bad amount or reason', async () => {
    const p = await setupPayer(server)
    const pending = await mint(p)
    const r1 = await refund(p, pending.intentId)
    expect(r1.status).toBe(422)
    expect(r1.body.error).toMatchObject({ code: 'validation_error', details: [{ field: 'payment_intent', issue: 'is pending, not succeeded' }] })
    const { intentId: failed } = await pay(p, CARDS.declined)
    expect((await refund(p, failed)).body.error.details).toEqual([{ field: 'payment_intent', issue: 'is failed, not succeeded' }])
    const { intentId } = await pay(p)
    for (const amount of ['1.001', '-1', '0', 'ten']) expect((await refund(p, intentId, { amount })).body.error).toMatchObject({ code: 'validation_error', details: [{ field: 'amount' }] })
    expect((await refund(p, intentId, { reason: 'changed_mind' })).status).toBe(422)
    expect((await refund(p, intentId, { amount: '1.00', note: 'x' })).status).toBe(422)
    expect(await intentOf(p, intentId)).toMatchObject({ amount_refunded: '0.00' })
  })

  it('gives a failed refund’s amount back to what can be refunded', async () => {
    const { p, intentId } = await paid('12.50', CARDS.refundFails)
    const r = await refund(p, intentId, { amount: '10.00' })
    expect(r.body.data).toMatchObject({ status: 'failed', failure_code: 'processing_error', amount: '10.00' })
    expect(await intentOf(p, intentId)).toMatchObject({ amount_refunded: '0.00' })
    // All 12.50 can still be asked for (and fails again, with this card).
    expect((await refund(p, intentId)).body.data).toMatchObject({ status: 'failed', amount: '12.50' })
  })

  it('answers a retry with the same Idempotency-Key with the same refund, refunding once', async () => {
    const { p, intentId } = await paid()
    const first = await refund(p, intentId, { amount: '3.00' }, { 'idempotency-key': 'refund-1' })
    const again = await refund(p, intentId, { amount: '3.00' }, { 'idempotency-key': 'refund-1' })
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(again.body.data).toEqual(first.body.data)
    expect((await refund(p, intentId, { amount: '4.00' }, { 'idempotency-key': 'refund-1' })).body.error.code).toBe('idempotency_conflict')
    // The same amount written otherwise is the same request.
    expect((await refund(p, intentId, { amount: 3 }, { 'idempotency-key': 'refund-1' })).body.data).toEqual(first.body.data)
    expect(await sandboxRefunds(intentId)).toBe(1)
  })

  it('lists an intent’s refunds newest first, paged by cursor', async () => {
    const { p, intentId } = await paid()
    const made: string[] = []
    for (let i = 0; i < 3; i++) made.push((await refund(p, intentId, { amount: '1.00' })).body.data.id)
    const first = await p.api.get(`/v1/platform/payment-intents/${intentId}/refunds?limit=2`)
    expect(first.body.data.map((r: any) => r.id)).toEqual([made[2], made[1]])
    expect(first.body.pagination.has_more).toBe(true)
    const second = await p.api.get(`/v1/platform/payment-intents/${intentId}/refunds?limit=2&cursor=${first.body.pagination.next_cursor}`)
    expect(second.body.data.map((r: any) => r.id)).toEqual([made[0]])
    expect(second.body.pagination.has_more).toBe(false)
  })
})

describe('whatever arrives at once, never more than was paid', () => {
  it('30 simultaneous refunds of 1.00 on a 25.00 payment: 25 refunded, 5 refused, the processor saw 25', async () => {
    const { p, intentId } = await paid('25.00')
    const answers = await Promise.all(Array.from({ length: 30 }, () => refund(p, intentId, { amount: '1.00' })))
    expect(answers.filter((a) => a.status === 201 && a.body.data.status === 'succeeded')).toHaveLength(25)
    expect(answers.filter((a) => a.status === 422 && a.body.error.code === 'refund_exceeds_amount')).toHaveLength(5)
    expect(await sandboxRefunds(intentId)).toBe(25)
    expect(await intentOf(p, intentId)).toMatchObject({ amount_refunded: '25.00', amount_refunded_minor: 2500 })
  })
})

describe('a refund whose outcome is unknown', () => {
  it('stays pending, then recovery asks again with the same key: one refund at the processor', async () => {
    const { p, intentId } = await paid('10.00')
    // The sandbox refunds, then the connection drops before its answer is read.
    const original = SandboxProcessor.prototype.refund
    const lost = vi.spyOn(SandboxProcessor.prototype, 'refund').mockImplementationOnce(async function (this: SandboxProcessor, ...args) {
      await original.apply(this, args)
      throw new Error('socket hang up')
    })
    const r = await refund(p, intentId, { amount: '4.00' })
    lost.mockRestore()
    expect(r.body.data).toMatchObject({ status: 'pending' })
    expect(await intentOf(p, intentId)).toMatchObject({ amount_refunded: '0.00' })
    // What is pending is held: only 6.00 is left to ask for meanwhile.
    expect((await refund(p, intentId, { amount: '6.01' })).body.error.code).toBe('refund_exceeds_amount')

    server.clock.advance(STALE_PROCESSING_MS)
    expect(await server.services.lifecycle.recoverRefunds()).toBeGreaterThanOrEqual(1)
    expect((await p.api.get(`/v1/platform/refunds/${r.body.data.id}`)).body.data).toMatchObject({ status: 'succeeded' })
    expect(await intentOf(p, intentId)).toMatchObject({ amount_refunded: '4.00' })
    expect(await sandboxRefunds(intentId)).toBe(1)
  })
})

describe('isolation and scopes', () => {
  it('answers another tenant 404 for the intent and the refund, as for ids that never existed', async () => {
    const { p, intentId } = await paid()
    const mine = (await refund(p, intentId, { amount: '1.00' })).body.data.id
    const other = await setupPayer(server)
    expectNotFoundAsMissing(await refund(other, intentId), await refund(other, 'pi_doesnotexist000000000000'))
    expectNotFoundAsMissing(await other.api.get(`/v1/platform/refunds/${mine}`), await other.api.get('/v1/platform/refunds/re_doesnotexist000000000000'))
    expectNotFoundAsMissing(await other.api.get(`/v1/platform/payment-intents/${intentId}/refunds`), await other.api.get('/v1/platform/payment-intents/pi_doesnotexist000000000000/refunds'))
    expect(await intentOf(p, intentId)).toMatchObject({ amount_refunded: '1.00' })
  })

  it('needs payments:write to refund (payments:read only reads)', async () => {
    const { p, intentId } = await paid()
    const reader = apiClient(server, await getToken(server, p.tenant, { scope: 'payments:read' }))
    const r = await reader.post(`/v1/platform/payment-intents/${intentId}/refunds`, {})
    expect(r.status).toBe(403)
    expect(r.body.error.code).toBe('forbidden')
    expect((await reader.get(`/v1/platform/payment-intents/${intentId}/refunds`)).status).toBe(200)
    expect(await sandboxRefunds(intentId)).toBe(0)
  })
})
