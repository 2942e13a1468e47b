/**
 * SPEC "Refunds" and "Webhooks": `refund.succeeded` and `refund.failed` go through the same
 * outbox and Standard Webhooks delivery as payment events, with the refund object plus the
 * intent's `user_id`; the payment's own later events carry `amount_refunded`.
 */
import { describe, expect, it } from 'vitest'
import { CARDS, pay } from '../helpers/index.js'
import { webhookTestFile } from './support.js'

const file = webhookTestFile()
const { tick, tenant } = file

describe('refund webhooks', () => {
  it('sends refund.succeeded, verified with the Standard Webhooks library, with the refund and the user', async () => {
    const { hooks, payer } = await tenant()
    const { intentId } = await pay(payer, CARDS.visa, { amount: '20.00' })
    const r = await payer.api.post(`/v1/platform/payment-intents/${intentId}/refunds`, { amount: '7.50', reason: 'duplicate' })
    expect(r.body.data.status).toBe('succeeded')
    await tick()
    const sent = hooks.received.filter((h) => h.json?.type?.startsWith('refund.'))
    expect(sent).toHaveLength(1)
    expect(sent[0]!.verified).toBe(true)
    expect(sent[0]!.json).toEqual({
      type: 'refund.succeeded',
      timestamp: expect.any(String),
      data: { ...r.body.data, user_id: payer.userId },
    })
    const events = await payer.api.get(`/v1/platform/events?payment_intent_id=${intentId}`)
    expect(events.body.data.map((e: any) => e.type).sort()).toEqual(['payment_intent.succeeded', 'refund.succeeded'])
  })

  it('sends refund.failed for a refund the processor refused, and one event per refund', async () => {
    const { hooks, payer } = await tenant()
    const { intentId } = await pay(payer, CARDS.refundFails, { amount: '20.00' })
    const first = await payer.api.post(`/v1/platform/payment-intents/${intentId}/refunds`, { amount: '5.00' })
    const second = await payer.api.post(`/v1/platform/payment-intents/${intentId}/refunds`, { amount: '5.00' })
    expect([first.body.data.status, second.body.data.status]).toEqual(['failed', 'failed'])
    await tick()
    const sent = hooks.received.filter((h) => h.json?.type === 'refund.failed')
    expect(sent.map((h) => h.json.data.id).sort()).toEqual([first.body.data.id, second.body.data.id].sort())
    expect(sent.every((h) => h.verified && h.json.data.failure_code === 'processing_error' && h.json.data.user_id === payer.userId)).toBe(true)
  })
})
