/**
 * SPEC "Webhooks": secrets are `whsec_` + base64 of 32 random bytes, shown once, on create
 * and on rotate; after a rotation both secrets sign for 24 hours, then only the new one.
 * The receiver checks each delivery with each secret alone, with `standardwebhooks`.
 */
import { describe, expect, it } from 'vitest'
import { HOUR, MINUTE, SECOND, expectFieldRefused, pay, type EndpointPayer, type Receiver } from '../helpers/index.js'
import { eventOf, webhookTestFile } from './support.js'

const OVERLAP = 24 * HOUR

const file = webhookTestFile()
const { tick, tenant } = file

async function rotate(payer: EndpointPayer) {
  const r = await payer.api.post(`/v1/platform/webhook-endpoints/${payer.endpointId}/rotate-secret`)
  expect(r.status).toBe(200)
  return r.body.data.secret as string
}

/** Pays, lets the worker send, and answers the delivery the receiver got for it. */
async function paidAndReceived(hooks: Receiver, payer: EndpointPayer) {
  const { intentId } = await pay(payer)
  await tick()
  const sent = hooks.of((await eventOf(payer.api, intentId)).id)
  expect(sent).toHaveLength(1)
  return sent[0]!
}

describe('rotate-secret answers a new secret, shown only then', () => {
  it('answers the endpoint with a new whsec_ secret; get never shows it', async () => {
    const { payer } = await tenant()
    const r = await payer.api.post(`/v1/platform/webhook-endpoints/${payer.endpointId}/rotate-secret`)
    expect(r.status).toBe(200)
    expect(r.body.data).toMatchObject({ id: payer.endpointId, object: 'webhook_endpoint', status: 'enabled', secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/) })
    expect(r.body.data.secret).not.toBe(payer.secret)
    expect(Buffer.from((r.body.data.secret as string).slice(6), 'base64')).toHaveLength(32)
    const got = await payer.api.get(`/v1/platform/webhook-endpoints/${payer.endpointId}`)
    expect(got.body.data.secret).toBeUndefined()
    expect(JSON.stringify(got.body)).not.toContain((r.body.data.secret as string).slice(6, 26))

    expect((await payer.api.post('/v1/platform/webhook-endpoints/we_doesnotexist/rotate-secret')).status).toBe(404)
    await payer.api.delete(`/v1/platform/webhook-endpoints/${payer.endpointId}`)
    expect((await payer.api.post(`/v1/platform/webhook-endpoints/${payer.endpointId}/rotate-secret`)).status).toBe(404)
  })
})

describe('rotate-secret takes no input: no body, or an empty JSON object', () => {
  it('rotates with {} as with no body, and refuses a field by name without rotating', async () => {
    const { hooks, payer } = await tenant()
    const withEmpty = await payer.api.post(`/v1/platform/webhook-endpoints/${payer.endpointId}/rotate-secret`, {})
    expect(withEmpty.status).toBe(200)
    const newSecret = withEmpty.body.data.secret as string
    expect(newSecret).not.toBe(payer.secret)
    hooks.secrets.push(newSecret)

    expectFieldRefused(await payer.api.post(`/v1/platform/webhook-endpoints/${payer.endpointId}/rotate-secret`, { secret: 'whsec_mine' }), 'secret')
    expect((await payer.api.post(`/v1/platform/webhook-endpoints/${payer.endpointId}/rotate-secret`, null)).status).toBe(422)
    // The refused calls rotated nothing: the old and the new secret sign, and no third one.
    const delivered = await paidAndReceived(hooks, payer)
    expect(delivered.verifiedBy.sort()).toEqual([payer.secret, newSecret].sort())
    expect(delivered.signature.split(' ')).toHaveLength(2)
  })
})

describe('after a rotation both secrets sign for 24 hours, then only the new one', () => {
  it('verifies with the old secret and with the new one until 24 h have passed, then only with the new one', async () => {
    const { hooks, payer } = await tenant()
    const oldSecret = payer.secret
    const before = await paidAndReceived(hooks, payer)
    expect(before.verifiedBy).toEqual([oldSecret])
    expect(before.signature.split(' ')).toHaveLength(1)

    const newSecret = await rotate(payer)
    hooks.secrets.push(newSecret)
    const rotatedAt = file.server.clock.now().getTime()

    const justAfter = await paidAndReceived(hooks, payer)
    expect(justAfter.verifiedBy).toEqual([oldSecret, newSecret])
    expect(justAfter.signature.split(' ')).toHaveLength(2)

    file.server.clock.advance(OVERLAP - 1 - (file.server.clock.now().getTime() - rotatedAt)) // 24 h less 1 ms after the rotation
    const lastMoment = await paidAndReceived(hooks, payer)
    expect(lastMoment.verifiedBy).toEqual([oldSecret, newSecret])

    file.server.clock.advance(1) // 24 h after the rotation
    const over = await paidAndReceived(hooks, payer)
    expect(over.verifiedBy).toEqual([newSecret])
    expect(over.signature.split(' ')).toHaveLength(1)

    file.server.clock.advance(7 * 24 * HOUR)
    expect((await paidAndReceived(hooks, payer)).verifiedBy).toEqual([newSecret])
  })

  it('signs each attempt when it is sent: a retry after the 24 hours carries only the new signature', async () => {
    const { hooks, payer } = await tenant()
    const newSecret = await rotate(payer)
    hooks.secrets.push(newSecret)
    file.server.clock.advance(OVERLAP - 2 * SECOND)
    hooks.plan(500)
    const { intentId } = await pay(payer)
    await tick() // 2 s before the end of the overlap: fails
    file.server.clock.advance(10 * SECOND)
    await tick() // the retry, after the overlap
    const sent = hooks.of((await eventOf(payer.api, intentId)).id)
    expect(sent.map((s) => s.verifiedBy)).toEqual([[payer.secret, newSecret], [newSecret]])
    expect(sent[0]!.body).toBe(sent[1]!.body)
  })

  it('a second rotation keeps only the secret it replaces beside the new one', async () => {
    const { hooks, payer } = await tenant()
    const first = payer.secret
    const second = await rotate(payer)
    file.server.clock.advance(MINUTE)
    const third = await rotate(payer)
    hooks.secrets.push(second, third)
    const sent = await paidAndReceived(hooks, payer)
    expect(sent.verifiedBy).toEqual([second, third])
    expect(sent.verifiedBy).not.toContain(first)
  })
})
