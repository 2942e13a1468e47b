/**
 * SPEC "Webhooks", retries: only 2xx is success; retries after 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h and 10 h, each ±20% jitter; Retry-After honoured within bounds; redirects not
 * followed; 410 disables the endpoint; an endpoint failing for 5 days is disabled; the
 * webhook-id is the event id on every retry.
 * The server's clock stands still and moves only when a test advances it, so a test can
 * stand just before the earliest moment a retry may go and just after the latest.
 */
import { describe, expect, it } from 'vitest'
import { DAY, HOUR, MINUTE, SECOND, pay, startReceiver, type EndpointPayer, type Receiver } from '../helpers/index.js'
import { deliveriesOf, eventOf, webhookTestFile } from './support.js'

/** SPEC: the delays before the 2nd … 8th attempt. */
const SCHEDULE = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR]
const EARLIEST = (step: number) => step * 0.8
const LATEST = (step: number) => step * 1.2

const file = webhookTestFile()
const { receivers, tick } = file
/** A tenant whose one endpoint is a fresh receiver answering `status` unless planned otherwise. */
const tenantAnswering = file.tenant

/** A payment whose event is sent once at once (the first attempt); returns its event id. */
async function paidAndSentOnce(payer: EndpointPayer) {
  const { intentId } = await pay(payer)
  await tick()
  return (await eventOf(payer.api, intentId)).id
}

const endpointOf = async (payer: EndpointPayer) => (await payer.api.get(`/v1/platform/webhook-endpoints/${payer.endpointId}`)).body.data

/** `ms` later the event has still been sent `times` in all, and the endpoint is still enabled. */
async function expectQuietFor(ms: number, hooks: Receiver, payer: EndpointPayer, eventId: string, times: number) {
  file.server.clock.advance(ms)
  await tick()
  expect(hooks.of(eventId)).toHaveLength(times)
  expect((await endpointOf(payer)).status).toBe('enabled')
}

describe('a receiver that answers 500 and then 2xx receives the event on the schedule', () => {
  it('sends each retry no sooner than 80% and no later than 120% of 5 s, 5 min, 30 min, 2 h, 5 h, 10 h after the last attempt', async () => {
    const { hooks, payer } = await tenantAnswering(204)
    hooks.plan(500, 500, 500, 500, 500, 500) // down for six attempts, back for the seventh
    const eventId = await paidAndSentOnce(payer)
    expect(hooks.of(eventId)).toHaveLength(1)

    const ratios: number[] = []
    for (const [i, step] of SCHEDULE.slice(0, 6).entries()) {
      const [d] = await deliveriesOf(payer.api, eventId)
      const last = d!.attempt_log.at(-1)!
      const waits = Date.parse(d!.next_attempt_at!) - Date.parse(last.attempted_at)
      expect(waits, `retry ${i + 1}`).toBeGreaterThanOrEqual(EARLIEST(step))
      expect(waits, `retry ${i + 1}`).toBeLessThanOrEqual(LATEST(step))
      ratios.push(waits / step)

      file.server.clock.advance(EARLIEST(step) - 1) // just before the earliest moment
      await tick()
      expect(hooks.of(eventId), `nothing sent before 80% of retry ${i + 1}`).toHaveLength(i + 1)
      file.server.clock.advance(LATEST(step) - EARLIEST(step) + 1) // just after the latest
      await tick()
      expect(hooks.of(eventId), `retry ${i + 1} sent by 120%`).toHaveLength(i + 2)
    }
    // The jitter is real: the waits are not all exactly the nominal ones.
    expect(ratios.some((r) => r !== 1)).toBe(true)

    const [d] = await deliveriesOf(payer.api, eventId)
    expect(d).toMatchObject({ status: 'succeeded', attempts: 7, last_status_code: 204, next_attempt_at: null })
    expect(d!.attempt_log.map((a) => a.status_code)).toEqual([500, 500, 500, 500, 500, 500, 204])
    expect(hooks.of(eventId).every((h) => h.verified)).toBe(true)

    await expectQuietFor(2 * DAY, hooks, payer, eventId, 7)
  })
})

describe('a receiver that stays down gets the full schedule (8 attempts), then the delivery fails', () => {
  it('attempts 8 times in about 28 hours, then stops and marks the delivery failed', async () => {
    const { hooks, payer } = await tenantAnswering(500)
    const eventId = await paidAndSentOnce(payer)
    for (const [i, step] of SCHEDULE.entries()) {
      file.server.clock.advance(LATEST(step) + 1)
      await tick()
      expect(hooks.of(eventId), `attempt ${i + 2}`).toHaveLength(i + 2)
    }
    const [d] = await deliveriesOf(payer.api, eventId)
    expect(d).toMatchObject({ status: 'failed', attempts: 8, next_attempt_at: null, last_status_code: 500, last_error: 'HTTP 500' })
    expect(d!.attempt_log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(d!.attempt_log.every((a) => a.status_code === 500 && a.error === 'HTTP 500')).toBe(true)

    // About 28 hours of failures is not 5 days: the endpoint stays enabled.
    await expectQuietFor(3 * DAY, hooks, payer, eventId, 8)
  })
})

describe('webhook-id is the event id on every retry', () => {
  it('sends the same id and the same body on each attempt, each signed at its own time', async () => {
    const { hooks, payer } = await tenantAnswering(204)
    hooks.plan(500, 503)
    const eventId = await paidAndSentOnce(payer)
    file.server.clock.advance(LATEST(SCHEDULE[0]!) + 1)
    await tick()
    file.server.clock.advance(LATEST(SCHEDULE[1]!) + 1)
    await tick()
    const sent = hooks.received
    expect(sent).toHaveLength(3)
    expect(sent.map((s) => s.id)).toEqual([eventId, eventId, eventId])
    expect(new Set(sent.map((s) => s.body)).size).toBe(1)
    expect(sent.every((s) => s.verified)).toBe(true)
    expect(new Set(sent.map((s) => s.timestamp)).size).toBe(3)
  })
})

describe('only 2xx is success', () => {
  it('counts 200, 201, 202 and 299 as delivered, at the first attempt', async () => {
    const { hooks, payer } = await tenantAnswering(204)
    for (const status of [200, 201, 202, 299]) {
      hooks.plan(status)
      const eventId = await paidAndSentOnce(payer)
      const [d] = await deliveriesOf(payer.api, eventId)
      expect(d, `HTTP ${status}`).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: status })
    }
  })

  it('counts 3xx, 4xx and 5xx answers (300, 304, 400, 404, 429, 500, 503) as failures, and retries', async () => {
    const failures = [300, 304, 400, 404, 429, 500, 503]
    const { hooks, payer } = await tenantAnswering(204)
    hooks.plan(...failures)
    const eventId = await paidAndSentOnce(payer)
    for (const step of SCHEDULE) {
      file.server.clock.advance(LATEST(step) + 1)
      await tick()
    }
    const [d] = await deliveriesOf(payer.api, eventId)
    expect(d!.attempt_log.map((a) => a.status_code)).toEqual([...failures, 204])
    expect(d!.attempt_log.map((a) => a.error)).toEqual([...failures.map((s) => `HTTP ${s}`), null])
    expect(d).toMatchObject({ status: 'succeeded', attempts: 8 })
  })
})

describe('redirects are not followed: a 3xx is a failure', () => {
  it('sends nothing to the redirect target and retries the endpoint itself', async () => {
    const target = await startReceiver('/elsewhere', { clock: file.server.clock })
    receivers.push(target)
    const { hooks, payer } = await tenantAnswering(204)
    target.secrets.push(payer.secret)
    const redirects = [301, 302, 303, 307, 308]
    hooks.plan(...redirects.map((status) => ({ status, headers: { location: target.url } })))
    const eventId = await paidAndSentOnce(payer)

    let [d] = await deliveriesOf(payer.api, eventId)
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 301, last_error: 'HTTP 301' })
    for (const step of SCHEDULE.slice(0, redirects.length)) {
      file.server.clock.advance(LATEST(step) + 1)
      await tick()
    }
    ;[d] = await deliveriesOf(payer.api, eventId)
    expect(d!.attempt_log.map((a) => a.status_code)).toEqual([...redirects, 204])
    expect(d!.status).toBe('succeeded')
    expect(target.received).toHaveLength(0)
    expect(hooks.of(eventId)).toHaveLength(redirects.length + 1)
  })
})

describe('Retry-After is honoured within bounds (no sooner than 5 s, no later than 10 h)', () => {
  /** Sends one event answered 503 with this Retry-After, and checks the retry goes exactly `after` ms later. */
  async function retriesAfter(retryAfter: (now: Date) => string, after: (attemptedAt: number) => number) {
    const { hooks, payer } = await tenantAnswering(204)
    hooks.plan({ status: 503, headers: { 'retry-after': retryAfter(file.server.clock.now()) } })
    const attemptedAt = file.server.clock.now().getTime()
    const eventId = await paidAndSentOnce(payer)
    const wait = after(attemptedAt)
    const [d] = await deliveriesOf(payer.api, eventId)
    expect(Date.parse(d!.next_attempt_at!) - attemptedAt).toBe(wait)
    file.server.clock.advance(wait - 1)
    await tick()
    expect(hooks.of(eventId), 'not sent before Retry-After').toHaveLength(1)
    file.server.clock.advance(1)
    await tick()
    expect(hooks.of(eventId), 'sent when Retry-After is over').toHaveLength(2)
    return { hooks, payer, eventId }
  }

  it('waits the seconds it asks for, instead of the schedule', async () => {
    // 120 s: well past the 5 s (±20%) the schedule would have used.
    await retriesAfter(() => '120', () => 2 * MINUTE)
  })

  it('waits until the HTTP date it gives', async () => {
    let until = 0
    await retriesAfter(
      (now) => {
        const text = new Date(now.getTime() + 3 * HOUR).toUTCString()
        until = Date.parse(text)
        return text
      },
      (attemptedAt) => until - attemptedAt,
    )
  })

  it('waits at least 5 s when it asks for less', async () => {
    await retriesAfter(() => '0', () => 5 * SECOND)
  })

  it('waits at most 10 h when it asks for more', async () => {
    await retriesAfter(() => String(7 * 24 * 3600), () => 10 * HOUR)
  })

  it('follows the schedule when Retry-After cannot be read', async () => {
    const { hooks, payer } = await tenantAnswering(204)
    hooks.plan({ status: 503, headers: { 'retry-after': 'soon' } })
    const eventId = await paidAndSentOnce(payer)
    file.server.clock.advance(LATEST(SCHEDULE[0]!) + 1)
    await tick()
    expect(hooks.of(eventId)).toHaveLength(2)
  })
})

describe('410 Gone disables the endpoint at once', () => {
  it('fails the delivery without retrying, disables the endpoint, and queues nothing more for it', async () => {
    const { hooks, payer } = await tenantAnswering(410)
    const eventId = await paidAndSentOnce(payer)
    const [d] = await deliveriesOf(payer.api, eventId)
    expect(d).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410, next_attempt_at: null })
    expect(await endpointOf(payer)).toMatchObject({ status: 'disabled', disabled_reason: expect.stringMatching(/410/) })

    file.server.clock.advance(DAY)
    await tick()
    expect(hooks.received).toHaveLength(1)
    const next = await pay(payer)
    await tick()
    expect(await deliveriesOf(payer.api, (await eventOf(payer.api, next.intentId)).id)).toEqual([])
    expect(hooks.received).toHaveLength(1)

    // Enabled again by the tenant, it receives the next outcome.
    hooks.respond(204)
    expect((await payer.api.patch(`/v1/platform/webhook-endpoints/${payer.endpointId}`, { status: 'enabled' })).body.data).toMatchObject({ status: 'enabled', disabled_reason: null })
    const after = await paidAndSentOnce(payer)
    expect(hooks.of(after)).toHaveLength(1)
  })
})

describe('an endpoint failing for 5 days is disabled', () => {
  it('stays enabled through 5 days less a moment of failures, and is disabled by a failure at 5 days', async () => {
    const { hooks, payer } = await tenantAnswering(503)
    const firstFailure = file.server.clock.now().getTime()
    await paidAndSentOnce(payer)
    // A payment a day, every retry sent as it falls due (a pass of the worker every 2 hours).
    const elapsed = () => file.server.clock.now().getTime() - firstFailure
    while (elapsed() + 2 * HOUR < 5 * DAY) {
      file.server.clock.advance(2 * HOUR)
      if (elapsed() % DAY === 0) await pay(payer)
      await tick()
    }
    // Five days of failures: one event a day, each tried and failing.
    expect(new Set(hooks.received.map((h) => h.id)).size).toBe(5)
    expect(hooks.received.every((h) => h.verified)).toBe(true)

    file.server.clock.advance(5 * DAY - elapsed() - 1)
    await pay(payer)
    await tick()
    expect(await endpointOf(payer), 'failing for 5 days less 1 ms').toMatchObject({ status: 'enabled' })

    file.server.clock.advance(1)
    await pay(payer)
    await tick()
    expect(await endpointOf(payer), 'failing for 5 days').toMatchObject({ status: 'disabled', disabled_reason: expect.stringMatching(/5 days/) })

    // Disabled: no more requests, not even the retries still pending.
    const seen = hooks.received.length
    const later = await pay(payer)
    for (let i = 0; i < 3; i++) {
      file.server.clock.advance(12 * HOUR)
      await tick()
    }
    expect(hooks.received).toHaveLength(seen)
    expect(await deliveriesOf(payer.api, (await eventOf(payer.api, later.intentId)).id)).toEqual([])
  })

  it('counts from the last success: failures around a success do not add up', async () => {
    const { hooks, payer } = await tenantAnswering(503)
    await paidAndSentOnce(payer) // fails
    file.server.clock.advance(4 * DAY)
    await tick() // retries fail
    hooks.respond(204)
    await paidAndSentOnce(payer) // succeeds
    hooks.respond(503)
    file.server.clock.advance(2 * DAY)
    await paidAndSentOnce(payer) // fails, 6 days after the first failure
    expect(await endpointOf(payer)).toMatchObject({ status: 'enabled' })
  })
})
