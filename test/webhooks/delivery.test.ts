/**
 * SPEC "Webhooks": every final outcome reaches the tenant once, signed per Standard
 * Webhooks and verified here with the `standardwebhooks` package by a real receiver; the
 * endpoints API, the event log, every delivery attempt, redelivery; tenants see only their
 * own; private addresses are refused unless ALLOW_PRIVATE_WEBHOOK_URLS=true.
 * One server for the file (on a database of its own, with a frozen clock); every test
 * works in its own tenant.
 */
import { hostname } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, HOUR, SECOND, pay, payerWithEndpoint, setupClockedPayer, startServer, type Receiver, type TestServer } from '../helpers/index.js'
import { deliveriesOf, eventOf, webhookTestFile } from './support.js'

const file = webhookTestFile()
const { receiver, tenant, tick } = file
const ofIntent = (r: Receiver, intentId: string) => r.received.filter((d) => d.json?.data?.payment_intent_id === intentId)

describe('a succeeded payment sends payment_intent.succeeded once, signed per Standard Webhooks', () => {
  it('delivers one verified webhook whose body carries the intent as the API shows it', async () => {
    const { hooks, payer } = await tenant()
    const { intentId, answer } = await pay(payer, CARDS.visa)
    expect(answer.status).toBe('succeeded')
    await tick()

    const mine = ofIntent(hooks, intentId)
    expect(mine).toHaveLength(1)
    const hook = mine[0]!
    expect(hook.verified).toBe(true)
    const intent = (await payer.api.get(`/v1/platform/payment-intents/${intentId}`)).body.data
    expect(hook.json).toMatchObject({
      type: 'payment_intent.succeeded',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: {
        payment_intent_id: intentId,
        user_id: payer.userId,
        amount: '12.50',
        currency: 'USD',
        status: 'succeeded',
        failure_code: null,
        card: { brand: 'visa', last4: '4242' },
        saved_card_id: null,
        created_at: intent.created_at,
        updated_at: intent.updated_at,
      },
    })
    // Headers: webhook-id is the event id of the log; the timestamp is in seconds; v1 signatures.
    const event = await eventOf(payer.api, intentId)
    expect(hook.id).toBe(event.id)
    expect(event.id).toMatch(/^evt_/)
    expect(hook.timestamp).toMatch(/^\d{10}$/)
    expect(Math.abs(Number(hook.timestamp) - file.server.clock.now().getTime() / 1000)).toBeLessThan(5)
    expect(hook.signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)

    // Exactly one: later passes of the worker, hours later, send nothing more.
    file.server.clock.advance(HOUR)
    await tick()
    await tick()
    expect(ofIntent(hooks, intentId)).toHaveLength(1)
  })
})

describe('a failed payment sends payment_intent.failed once, with its failure_code', () => {
  it('delivers one verified payment_intent.failed for a declined card', async () => {
    const { hooks, payer } = await tenant()
    const { intentId, answer } = await pay(payer, CARDS.declined, { amount: '7.00' })
    expect(answer).toMatchObject({ status: 'failed', failure_code: 'card_declined' })
    await tick()
    file.server.clock.advance(HOUR)
    await tick()

    const mine = ofIntent(hooks, intentId)
    expect(mine).toHaveLength(1)
    expect(mine[0]!.verified).toBe(true)
    expect(mine[0]!.json).toMatchObject({
      type: 'payment_intent.failed',
      data: { payment_intent_id: intentId, user_id: payer.userId, amount: '7.00', currency: 'USD', status: 'failed', failure_code: 'card_declined', card: { brand: 'visa', last4: '0002' } },
    })
    const event = await eventOf(payer.api, intentId)
    expect(event.type).toBe('payment_intent.failed')
    // The body was made with the outcome, in the statement that wrote it: it is the intent as the API shows it since.
    const intent = (await payer.api.get(`/v1/platform/payment-intents/${intentId}`)).body.data
    const data = mine[0]!.json.data
    for (const field of ['status', 'failure_code', 'processor_code', 'processor_message', 'saved_card_id', 'amount_refunded', 'created_at', 'updated_at'] as const) {
      if (field in intent) expect(data[field], field).toEqual(intent[field])
    }
    expect(data.card).toEqual({ brand: intent.card.brand, last4: intent.card.last4 })
  })
})

describe('an event goes to every enabled endpoint of its tenant, and nowhere else', () => {
  it("delivers to both of the tenant's endpoints and not to another tenant's", async () => {
    const first = await receiver()
    const second = await receiver()
    const stranger = await receiver()
    const payer = await payerWithEndpoint(file.server, first)
    const other = await payer.api.post('/v1/platform/webhook-endpoints', { url: second.url })
    second.secrets.push(other.body.data.secret)
    await payerWithEndpoint(file.server, stranger)

    const { intentId } = await pay(payer)
    await tick()
    const event = await eventOf(payer.api, intentId)
    expect(first.of(event.id)).toHaveLength(1)
    expect(second.of(event.id)).toHaveLength(1)
    expect([first.of(event.id)[0]!.verified, second.of(event.id)[0]!.verified]).toEqual([true, true])
    // Each endpoint signs with its own secret.
    expect(first.of(event.id)[0]!.verifiedBy).toEqual([payer.secret])
    expect(second.of(event.id)[0]!.verifiedBy).toEqual([other.body.data.secret])
    expect(stranger.received).toHaveLength(0)
    const deliveries = await deliveriesOf(payer.api, event.id)
    expect(deliveries.map((d) => d.endpoint_id).sort()).toEqual([payer.endpointId, other.body.data.id].sort())
  })

  // The outcome's transaction writes the event with a handful of delivery ids in one statement; more endpoints take a second one.
  it('delivers once to each of seven endpoints, none to a disabled or a deleted one', async () => {
    const receivers = await Promise.all(Array.from({ length: 9 }, () => receiver()))
    const [first, ...more] = receivers
    const payer = await payerWithEndpoint(file.server, first!)
    const ids = [payer.endpointId]
    for (const r of more) {
      const created = await payer.api.post('/v1/platform/webhook-endpoints', { url: r.url })
      r.secrets.push(created.body.data.secret)
      ids.push(created.body.data.id)
    }
    expect((await payer.api.patch(`/v1/platform/webhook-endpoints/${ids[7]}`, { status: 'disabled' })).status).toBe(200)
    expect((await payer.api.delete(`/v1/platform/webhook-endpoints/${ids[8]}`)).status).toBe(200)

    const { intentId } = await pay(payer)
    await tick()
    const event = await eventOf(payer.api, intentId)
    expect(receivers.map((r) => r.of(event.id).filter((d) => d.verified).length)).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0])
    const deliveries = await deliveriesOf(payer.api, event.id)
    expect(deliveries.map((d) => d.endpoint_id).sort()).toEqual(ids.slice(0, 7).sort())
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(7)
    for (const d of deliveries) expect(d.id).toMatch(/^dlv_[0-9a-f]{32}$/)
  })
})

describe('webhook endpoints: create, list, get, update, delete', () => {
  it('shows the whsec_ secret once, on create; never in get or list', async () => {
    const { api } = await setupClockedPayer(file.server)
    const created = await api.post('/v1/platform/webhook-endpoints', { url: 'https://hooks.example.com/paylink', description: 'Orders' })
    expect(created.status).toBe(201)
    expect(created.body.data).toEqual({
      id: expect.stringMatching(/^we_/),
      object: 'webhook_endpoint',
      url: 'https://hooks.example.com/paylink',
      description: 'Orders',
      status: 'enabled',
      disabled_reason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    const secret = created.body.data.secret as string
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32)

    const got = await api.get(`/v1/platform/webhook-endpoints/${created.body.data.id}`)
    expect(got.status).toBe(200)
    const { secret: _shownOnce, ...withoutSecret } = created.body.data
    expect(got.body.data).toEqual(withoutSecret)
    const listed = await api.get('/v1/platform/webhook-endpoints')
    expect(listed.status).toBe(200)
    expect(listed.body.data).toEqual([withoutSecret])
    expect(JSON.stringify(got.body) + JSON.stringify(listed.body)).not.toContain(secret.slice('whsec_'.length, 20))

    // Each endpoint has its own secret; the list is newest first.
    file.server.clock.advance(SECOND)
    const another = await api.post('/v1/platform/webhook-endpoints', { url: 'https://hooks.example.com/other' })
    expect(another.body.data.secret).not.toBe(secret)
    expect((await api.get('/v1/platform/webhook-endpoints')).body.data.map((e: { id: string }) => e.id)).toEqual([another.body.data.id, created.body.data.id])
  })

  it('refuses a body with unknown fields or a URL that is not http(s)', async () => {
    const { api } = await setupClockedPayer(file.server)
    const extra = await api.post('/v1/platform/webhook-endpoints', { url: 'https://hooks.example.com/x', secret: 'whsec_mine' })
    expect(extra.status).toBe(422)
    expect(extra.body.error.code).toBe('validation_error')
    for (const url of ['ftp://hooks.example.com/x', 'not a url', 'https://user:pw@hooks.example.com/x']) {
      const r = await api.post('/v1/platform/webhook-endpoints', { url })
      expect(r.status, url).toBe(422)
      expect(r.body.error.details[0].field, url).toBe('url')
    }
    expect((await api.get('/v1/platform/webhook-endpoints')).body.data).toEqual([])
  })

  it('PATCH changes the url and the description, and nothing else', async () => {
    const { api } = await setupClockedPayer(file.server)
    const created = (await api.post('/v1/platform/webhook-endpoints', { url: 'https://hooks.example.com/a', description: 'A' })).body.data
    file.server.clock.advance(SECOND)
    const moved = await api.patch(`/v1/platform/webhook-endpoints/${created.id}`, { url: 'https://hooks.example.com/b' })
    expect(moved.status).toBe(200)
    expect(moved.body.data).toMatchObject({ id: created.id, url: 'https://hooks.example.com/b', description: 'A', status: 'enabled', created_at: created.created_at })
    expect(moved.body.data.secret).toBeUndefined()
    expect(Date.parse(moved.body.data.updated_at)).toBeGreaterThan(Date.parse(created.updated_at))
    const described = await api.patch(`/v1/platform/webhook-endpoints/${created.id}`, { description: 'Orders and refunds' })
    expect(described.body.data).toMatchObject({ url: 'https://hooks.example.com/b', description: 'Orders and refunds' })
    const cleared = await api.patch(`/v1/platform/webhook-endpoints/${created.id}`, { description: null })
    expect(cleared.body.data.description).toBeNull()
    expect((await api.get(`/v1/platform/webhook-endpoints/${created.id}`)).body.data).toMatchObject({ url: 'https://hooks.example.com/b', description: null })

    expect((await api.patch(`/v1/platform/webhook-endpoints/${created.id}`, {})).status).toBe(422)
    expect((await api.patch(`/v1/platform/webhook-endpoints/${created.id}`, { secret: 'x' })).status).toBe(422)
    expect((await api.patch(`/v1/platform/webhook-endpoints/${created.id}`, { status: 'paused' })).status).toBe(422)
    expect((await api.patch(`/v1/platform/webhook-endpoints/${created.id}`, { url: 'gopher://x' })).status).toBe(422)
  })

  it('PATCH status disabled stops deliveries; enabled again resumes them', async () => {
    const { hooks, payer } = await tenant()
    const disabled = await payer.api.patch(`/v1/platform/webhook-endpoints/${payer.endpointId}`, { status: 'disabled' })
    expect(disabled.status).toBe(200)
    expect(disabled.body.data).toMatchObject({ status: 'disabled', disabled_reason: expect.any(String) })

    const whileOff = await pay(payer)
    await tick()
    const missed = await eventOf(payer.api, whileOff.intentId)
    expect(hooks.received).toHaveLength(0)
    expect(await deliveriesOf(payer.api, missed.id)).toEqual([])

    const enabled = await payer.api.patch(`/v1/platform/webhook-endpoints/${payer.endpointId}`, { status: 'enabled' })
    expect(enabled.body.data).toMatchObject({ status: 'enabled', disabled_reason: null })
    const afterOn = await pay(payer)
    await tick()
    expect(ofIntent(hooks, afterOn.intentId)).toHaveLength(1)
    expect(ofIntent(hooks, afterOn.intentId)[0]!.verified).toBe(true)
    // The event missed while disabled can be sent now on request.
    expect((await payer.api.post(`/v1/platform/events/${missed.id}/redeliver`)).status).toBe(202)
    await tick()
    expect(hooks.of(missed.id)).toHaveLength(1)
  })

  it('DELETE removes the endpoint: gone from get and list, and sent nothing more', async () => {
    const { hooks, payer } = await tenant()
    const removed = await payer.api.delete(`/v1/platform/webhook-endpoints/${payer.endpointId}`)
    expect(removed.status).toBe(200)
    expect(removed.body.data.id).toBe(payer.endpointId)
    expect((await payer.api.get(`/v1/platform/webhook-endpoints/${payer.endpointId}`)).status).toBe(404)
    expect((await payer.api.get('/v1/platform/webhook-endpoints')).body.data).toEqual([])
    expect((await payer.api.delete(`/v1/platform/webhook-endpoints/${payer.endpointId}`)).status).toBe(404)
    expect((await payer.api.patch(`/v1/platform/webhook-endpoints/${payer.endpointId}`, { status: 'enabled' })).status).toBe(404)

    const { intentId } = await pay(payer)
    await tick()
    expect(hooks.received).toHaveLength(0)
    expect(await deliveriesOf(payer.api, (await eventOf(payer.api, intentId)).id)).toEqual([])
  })

  it('a delivery queued before its endpoint was deleted is not sent', async () => {
    const { hooks, payer } = await tenant()
    const { intentId } = await pay(payer)
    expect((await payer.api.delete(`/v1/platform/webhook-endpoints/${payer.endpointId}`)).status).toBe(200)
    await tick()
    expect(hooks.received).toHaveLength(0)
    const [delivery] = await deliveriesOf(payer.api, (await eventOf(payer.api, intentId)).id)
    expect(delivery!.status).toBe('failed')
  })
})

describe('the event log: list, filter, get', () => {
  it('lists events newest first, filters by type and payment intent, and shows the body as delivered', async () => {
    const { hooks, payer } = await tenant()
    const ok = await pay(payer, CARDS.visa)
    file.server.clock.advance(SECOND)
    const ko = await pay(payer, CARDS.declined)
    await tick()

    const all = await payer.api.get('/v1/platform/events')
    expect(all.status).toBe(200)
    expect(all.body.data.map((e: { payment_intent_id: string }) => e.payment_intent_id)).toEqual([ko.intentId, ok.intentId])
    expect(all.body.pagination).toEqual({ next_cursor: null, has_more: false })
    const failed = await payer.api.get('/v1/platform/events?type=payment_intent.failed')
    expect(failed.body.data.map((e: { payment_intent_id: string }) => e.payment_intent_id)).toEqual([ko.intentId])
    const firstPage = await payer.api.get('/v1/platform/events?limit=1')
    expect(firstPage.body.data).toHaveLength(1)
    expect(firstPage.body.pagination.has_more).toBe(true)
    const secondPage = await payer.api.get(`/v1/platform/events?limit=1&cursor=${encodeURIComponent(firstPage.body.pagination.next_cursor)}`)
    expect(secondPage.body.data[0].payment_intent_id).toBe(ok.intentId)

    const event = await eventOf(payer.api, ok.intentId)
    const got = await payer.api.get(`/v1/platform/events/${event.id}`)
    expect(got.status).toBe(200)
    expect(got.body.data).toEqual({ id: event.id, object: 'event', type: 'payment_intent.succeeded', payment_intent_id: ok.intentId, data: expect.any(Object), created_at: expect.any(String) })
    // The log holds exactly what was delivered.
    expect(got.body.data.data).toEqual(JSON.parse(hooks.of(event.id)[0]!.body))
    expect((await payer.api.get('/v1/platform/events/evt_doesnotexist')).status).toBe(404)
  })
})

describe('every delivery attempt is recorded: status code, duration, error, time', () => {
  it('lists each attempt of a delivery in order, failures and the success', async () => {
    const { hooks, payer } = await tenant()
    hooks.plan(500)
    const { intentId } = await pay(payer)
    const firstAt = file.server.clock.now().toISOString()
    await tick()
    file.server.clock.advance(7 * SECOND)
    const secondAt = file.server.clock.now().toISOString()
    await tick()

    const event = await eventOf(payer.api, intentId)
    const [delivery, ...others] = await deliveriesOf(payer.api, event.id)
    expect(others).toEqual([])
    expect(delivery).toMatchObject({ endpoint_id: payer.endpointId, status: 'succeeded', attempts: 2, next_attempt_at: null, last_status_code: 204, last_error: null })
    expect(delivery!.attempt_log).toEqual([
      { attempt: 1, attempted_at: firstAt, status_code: 500, duration_ms: expect.any(Number), error: 'HTTP 500' },
      { attempt: 2, attempted_at: secondAt, status_code: 204, duration_ms: expect.any(Number), error: null },
    ])
    for (const a of delivery!.attempt_log) {
      expect(a.duration_ms).toBeGreaterThanOrEqual(0)
      expect(a.duration_ms).toBeLessThan(10_000)
    }
    expect(hooks.of(event.id)).toHaveLength(2)
  })

  it('records a connection that fails with no status code and the error', async () => {
    const down = await receiver()
    await down.close() // nothing listens on its port any more
    const payer = await payerWithEndpoint(file.server, down)
    const { intentId } = await pay(payer)
    await tick()
    const [delivery] = await deliveriesOf(payer.api, (await eventOf(payer.api, intentId)).id)
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_error: expect.stringMatching(/ECONNREFUSED|refused/i) })
    expect(delivery!.attempt_log).toEqual([{ attempt: 1, attempted_at: expect.any(String), status_code: null, duration_ms: expect.any(Number), error: expect.stringMatching(/ECONNREFUSED|refused/i) }])
    expect(Date.parse(delivery!.next_attempt_at!)).toBeGreaterThan(file.server.clock.now().getTime())
  })
})

describe('redelivery sends an event again: the same webhook-id, a new delivery', () => {
  it('queues one new delivery per enabled endpoint and sends the same id and body', async () => {
    const { hooks, payer } = await tenant()
    const { intentId } = await pay(payer)
    await tick()
    const event = await eventOf(payer.api, intentId)
    file.server.clock.advance(HOUR)

    const again = await payer.api.post(`/v1/platform/events/${event.id}/redeliver`)
    expect(again.status).toBe(202)
    expect(again.body.data).toEqual({ event_id: event.id, deliveries_queued: 1 })
    await tick()

    const sent = hooks.of(event.id)
    expect(sent).toHaveLength(2)
    expect(sent.map((s) => s.verified)).toEqual([true, true])
    expect(sent[1]!.body).toBe(sent[0]!.body)
    expect(Number(sent[1]!.timestamp) - Number(sent[0]!.timestamp)).toBe(3600) // signed anew, at the time it is sent
    const deliveries = await deliveriesOf(payer.api, event.id)
    expect(deliveries).toHaveLength(2)
    expect(deliveries[0]!.id).not.toBe(deliveries[1]!.id)
    expect(deliveries.map((d) => [d.status, d.attempt_log.length])).toEqual([
      ['succeeded', 1],
      ['succeeded', 1],
    ])
    // Still one event for the intent.
    await eventOf(payer.api, intentId)
  })

  it('answers 409 when no endpoint is enabled', async () => {
    const { hooks, payer } = await tenant()
    const { intentId } = await pay(payer)
    await tick()
    const event = await eventOf(payer.api, intentId)
    await payer.api.patch(`/v1/platform/webhook-endpoints/${payer.endpointId}`, { status: 'disabled' })
    const r = await payer.api.post(`/v1/platform/events/${event.id}/redeliver`)
    expect(r.status).toBe(409)
    expect(r.body.error.code).toBe('conflict')
  })
})

describe("another tenant's endpoints and events are not found", () => {
  it('answers 404 not_found, and changes nothing', async () => {
    const { hooks, payer: owner } = await tenant()
    const { intentId } = await pay(owner)
    await tick()
    const event = await eventOf(owner.api, intentId)
    const { api } = await setupClockedPayer(file.server)

    const tries = [
      await api.get(`/v1/platform/webhook-endpoints/${owner.endpointId}`),
      await api.patch(`/v1/platform/webhook-endpoints/${owner.endpointId}`, { url: 'https://evil.example.com/x' }),
      await api.post(`/v1/platform/webhook-endpoints/${owner.endpointId}/rotate-secret`),
      await api.delete(`/v1/platform/webhook-endpoints/${owner.endpointId}`),
      await api.get(`/v1/platform/events/${event.id}`),
      await api.get(`/v1/platform/events/${event.id}/deliveries`),
      await api.post(`/v1/platform/events/${event.id}/redeliver`),
    ]
    for (const r of tries) {
      expect(r.status).toBe(404)
      expect(r.body.error.code).toBe('not_found')
    }
    expect((await api.get('/v1/platform/webhook-endpoints')).body.data).toEqual([])
    expect((await api.get('/v1/platform/events')).body.data).toEqual([])
    expect((await api.get(`/v1/platform/events?payment_intent_id=${intentId}`)).body.data).toEqual([])

    // The owner's endpoint is untouched and still signs with its secret.
    expect((await owner.api.get(`/v1/platform/webhook-endpoints/${owner.endpointId}`)).body.data).toMatchObject({ url: hooks.url, status: 'enabled' })
    await tick()
    expect(hooks.of(event.id)).toHaveLength(1)
    const next = await pay(owner)
    await tick()
    expect(ofIntent(hooks, next.intentId)[0]!.verifiedBy).toEqual([owner.secret])
  })
})

describe('endpoint URLs to loopback, private, link-local and metadata addresses are refused unless ALLOW_PRIVATE_WEBHOOK_URLS=true', () => {
  let strict: TestServer
  beforeAll(async () => {
    // The same database, without ALLOW_PRIVATE_WEBHOOK_URLS: production behaviour.
    strict = await startServer({}, { db: file.server.db, clock: file.server.clock })
  })
  afterAll(() => strict.close())

  const PRIVATE = [
    'http://127.0.0.1:8080/hooks',
    'http://127.1.2.3/hooks',
    'http://10.0.0.5/hooks',
    'http://10.255.255.254:443/hooks',
    'http://172.16.3.4/hooks',
    'http://192.168.1.10/hooks',
    'http://169.254.169.254/latest/meta-data/',
    'http://localhost/hooks',
    'http://localhost:3000/hooks',
    'http://[::1]/hooks',
    'http://metadata.google.internal/computeMetadata/v1/',
    // Found from outside: the trailing-dot name, the machine's own name, IPv6 forms carrying a private IPv4.
    'http://localhost./hooks',
    `http://${hostname()}/hooks`,
    'http://[64:ff9b::a00:1]/hooks',
    'http://[64:ff9b::127.0.0.1]/hooks',
    'http://[2002:c0a8:10a::1]/hooks',
    'http://[::10.0.0.5]/hooks',
    'http://[::ffff:169.254.169.254]/',
  ]

  it('answers 422 on url for each such address, on create and on update', async () => {
    const { api } = await setupClockedPayer(strict)
    for (const url of PRIVATE) {
      const r = await api.post('/v1/platform/webhook-endpoints', { url })
      expect(r.status, url).toBe(422)
      expect(r.body.error, url).toMatchObject({ code: 'validation_error', details: [{ field: 'url', issue: expect.any(String) }] })
    }
    const pub = await api.post('/v1/platform/webhook-endpoints', { url: 'https://hooks.example.com/paylink' })
    expect(pub.status).toBe(201)
    for (const url of ['http://10.0.0.5/hooks', 'http://169.254.169.254/', 'http://localhost/']) {
      const r = await api.patch(`/v1/platform/webhook-endpoints/${pub.body.data.id}`, { url })
      expect(r.status, url).toBe(422)
    }
    expect((await api.get('/v1/platform/webhook-endpoints')).body.data.map((e: { url: string }) => e.url)).toEqual(['https://hooks.example.com/paylink'])
  })

  it('accepts them when ALLOW_PRIVATE_WEBHOOK_URLS=true', async () => {
    const { api } = await setupClockedPayer(file.server)
    for (const url of PRIVATE.slice(0, 3)) expect((await api.post('/v1/platform/webhook-endpoints', { url })).status, url).toBe(201)
  })

  it('refuses, when delivering, a host name that resolves to a private address', async () => {
    const hooks = await receiver()
    // Saved while allowed (as "localhost"), then delivered by a worker that does not allow it.
    const { api, userId } = await setupClockedPayer(file.server)
    const ep = await api.post('/v1/platform/webhook-endpoints', { url: hooks.url.replace('127.0.0.1', 'localhost') })
    expect(ep.status).toBe(201)
    const { intentId } = await pay({ api, userId })
    await strict.services.deliveryWorker.drain()
    expect(hooks.received).toHaveLength(0)
    const [delivery] = await deliveriesOf(api, (await eventOf(api, intentId)).id)
    expect(delivery!.attempt_log).toEqual([expect.objectContaining({ status_code: null, error: expect.stringMatching(/private address/) })])
  })

  it('refuses, when delivering, a private address written as an IP literal', async () => {
    const hooks = await receiver()
    // Saved as http://127.0.0.1:… while allowed, then delivered by a worker that does not allow it.
    const { api, userId } = await setupClockedPayer(file.server)
    expect((await api.post('/v1/platform/webhook-endpoints', { url: hooks.url })).status).toBe(201)
    const { intentId } = await pay({ api, userId })
    await strict.services.deliveryWorker.drain()
    expect(hooks.received).toHaveLength(0)
    const [delivery] = await deliveriesOf(api, (await eventOf(api, intentId)).id)
    expect(delivery!.attempt_log).toEqual([expect.objectContaining({ status_code: null, error: expect.stringMatching(/private address/) })])
  })
})
