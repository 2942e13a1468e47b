/**
 * Tenant isolation, generated from the OpenAPI document (issue 6 item 3; SPEC "The
 * envelope": another tenant's object is not_found, never forbidden).
 *
 * Two tenants, A (the victim) and B (the attacker), each with one of everything: a user, a
 * card-processing account, a paid intent with its saved card and its event, a webhook
 * endpoint, a spare OAuth client, and a claimed link. For every operation of the document
 * whose path takes a parameter, every mix of A's and B's ids with at least one of A's is sent:
 * - tenant routes, with B's token and with B's tenant portal session (`Bearer pps_…`, the
 *   portal's own calls): 404 not_found in the envelope, for every method;
 * - operator routes (/v1/admin): B's tenant token gets 403, and an operator token with ids
 *   of two different tenants gets 404;
 * - the page's calls (/pay/{token}/…): B's bearer token and B's page session open nothing
 *   of A's link (401), and nothing is charged.
 * A path parameter without a fixture fails the file: a new route needs a new fixture. Then
 * A's token on the same operations works (the ids are real) and A's objects are unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, apiClient, chargesFor, getToken, newCard, openLink, pagePost, setupPayer, spaced, startServer, type OpenLink, type Payer, type TestServer } from '../helpers/index.js'
import { envelopeProblem, fillPath, operations, type Operation } from './support.js'

let server: TestServer
let ops: Operation[]
let adminToken: string
let A: World
let B: World

const figures = { operations: 0, withIds: 0, tenantRequests: 0, adminRequests: 0, pageRequests: 0, notFound: 0, forbidden: 0, unauthorized: 0, otherIdRequests: 0, controls: 0 }

interface World {
  payer: Payer
  /** One real id per path parameter name of the document. */
  ids: Record<string, string>
  /** The claimed, unpaid link (the `token` fixture) and its page session. */
  link: OpenLink
  /** How many deliveries the event fixture has (one per endpoint), to see that no one queued more. */
  deliveries: number
  /** A tenant portal session's secret (SPEC "Tenant portal"), made by the payer's client: a bearer credential with every tenant scope. */
  portal: string
}

/**
 * The fixture for each path parameter name. A parameter missing here fails the file, so a
 * route added to the document with a new kind of id must bring its fixture.
 */
const FIXTURES = ['user_id', 'payment_intent_id', 'card_id', 'endpoint_id', 'event_id', 'tenant_id', 'client_id', 'card_processing_id', 'token', 'refund_id'] as const

async function makeWorld(): Promise<World> {
  const payer = await setupPayer(server)
  const endpoint = await payer.api.post('/v1/platform/webhook-endpoints', { url: 'https://hooks.shop.example/paylink', description: 'isolation fixture' })
  expect(endpoint.status).toBe(201)
  const paid = await openLink(payer)
  const r = await pagePost(paid.payUrl, 'confirm', paid.session, { card: newCard(spaced(CARDS.visa), { cvc: '737' }), save_card: true })
  expect(r.body.data).toMatchObject({ status: 'succeeded', saved_card_id: expect.stringMatching(/^card_/) })
  const events = await payer.api.get(`/v1/platform/events?payment_intent_id=${paid.intentId}`)
  expect(events.body.data).toHaveLength(1)
  const eventId = events.body.data[0].id as string
  const deliveries = (await payer.api.get(`/v1/platform/events/${eventId}/deliveries`)).body.data.length as number
  expect(deliveries).toBe(1)
  const refund = await payer.api.post(`/v1/platform/payment-intents/${paid.intentId}/refunds`, { amount: '1.00' })
  expect(refund.body.data).toMatchObject({ status: 'succeeded' })
  const spare = await server.services.tenants.createClient(payer.tenant.tenantId, [])
  const link = await openLink(payer)
  const portalLink = await payer.api.post('/v1/platform/portal-sessions', {})
  const portalToken = (portalLink.body.data.url as string).split('/').pop()!
  const portal = await apiClient(server).post('/portal/api/sessions', { token: portalToken })
  expect(portal.status).toBe(201)
  return {
    payer,
    link,
    deliveries,
    portal: portal.body.data.secret,
    ids: {
      user_id: payer.userId,
      payment_intent_id: paid.intentId,
      card_id: r.body.data.saved_card_id,
      endpoint_id: endpoint.body.data.id,
      event_id: eventId,
      tenant_id: payer.tenant.tenantId,
      client_id: spare.clientId,
      card_processing_id: payer.accountId,
      token: link.token,
      refund_id: refund.body.data.id,
    },
  }
}

/** A body the operation accepts from `who`, so that only the ids decide the answer. */
function bodyFor(op: Operation, who: World): unknown {
  if (!op.op.requestBody) return undefined
  switch (op.operationId) {
    case 'enrolUserInCardProcessingAccount':
      return { card_processing_id: who.ids.card_processing_id }
    case 'updateWebhookEndpoint':
      return { description: 'changed by another tenant' }
    case 'adminApproveEnrolment':
      return { user_id: who.ids.user_id }
    case 'adminCreateCardProcessingAccount':
      return { name: 'Isolation', processor: 'sandbox', currencies: ['USD'] }
    case 'adminUpdateCardProcessingAccount':
      return { config: {} }
    case 'confirmPayment':
      return { card: newCard(spaced(CARDS.visa), { cvc: '737' }) }
    case 'answerChallenge':
      return { answer: 'approve' }
    default: {
      const required = op.op.requestBody.content?.['application/json']?.schema?.required ?? []
      if (required.length) throw new Error(`${op.operationId}: add a valid body to bodyFor() (required: ${required.join(', ')})`)
      return {}
    }
  }
}

/** Every assignment of A's or B's id to each parameter, with at least one of A's. */
function mixes(params: string[]): Array<Record<string, World>> {
  const out: Array<Record<string, World>> = []
  for (let mask = 1; mask < 1 << params.length; mask++) out.push(Object.fromEntries(params.map((p, i) => [p, mask & (1 << i) ? A : B])))
  return out
}
const idsOf = (mix: Record<string, World>) => Object.fromEntries(Object.entries(mix).map(([p, w]) => [p, encodeURIComponent(w.ids[p]!)]))
const describeMix = (mix: Record<string, World>) => Object.entries(mix).map(([p, w]) => `${p}=${w === A ? 'A' : 'B'}`).join(' ')

const isAdmin = (op: Operation) => op.scopes.includes('admin')
const isTenant = (op: Operation) => op.scopes.length > 0 && !isAdmin(op)
const isPage = (op: Operation) => op.scopes.length === 0 && op.path.startsWith('/pay/')
/**
 * A processor's webhook: no token, but a signature with the account's own secret, and it
 * changes only that account's payments (test/processors/stripe.test.ts, "never touch a
 * payment of another account"). Not callable here without the processor's secret.
 */
const isProcessorWebhook = (op: Operation) => op.scopes.length === 0 && op.path.startsWith('/processor-webhooks/')

beforeAll(async () => {
  server = await startServer()
  ;({ ops } = await operations(server))
  A = await makeWorld()
  B = await makeWorld()
  adminToken = await getToken(server, await server.services.tenants.createClient(null, []))
})
afterAll(async () => {
  console.log(
    `[security/isolation] ${figures.operations} operations in /openapi.json, ${figures.withIds} take ids in their path; ` +
      `${figures.tenantRequests} tenant requests with another tenant's ids (all 404), ${figures.adminRequests} operator-route requests ` +
      `(${figures.forbidden} 403 to a tenant token, rest 404 for mixed tenants), ${figures.pageRequests} page calls on another tenant's link (${figures.unauthorized} 401), ` +
      `${figures.otherIdRequests} requests with another tenant's ids in queries and bodies, ${figures.controls} controls with the owner's token; ${figures.notFound} answers were 404 not_found`,
  )
  await server.close()
})

describe('every route that takes an id in its path', () => {
  it('is found in the document, and every path parameter has a fixture', () => {
    figures.operations = ops.length
    const withIds = ops.filter((o) => o.pathParams.length)
    figures.withIds = withIds.length
    expect(withIds.length).toBeGreaterThanOrEqual(20)
    const missing = withIds.flatMap((o) => o.pathParams.filter((p) => !(FIXTURES as readonly string[]).includes(p)).map((p) => `${o.method} ${o.path}: {${p}}`))
    expect(missing, 'add a fixture for these path parameters to FIXTURES and makeWorld()').toEqual([])
    const unclassified = withIds.filter((o) => !isAdmin(o) && !isTenant(o) && !isPage(o) && !isProcessorWebhook(o)).map((o) => `${o.method} ${o.path}`)
    expect(unclassified, 'routes with ids but no isolation rule (neither a tenant scope, admin, /pay, nor a processor webhook)').toEqual([])
  })

  it("answers a tenant's token, and its portal session, 404 not_found for another tenant's ids, for every method and every mix of ids", async () => {
    const failures: string[] = []
    for (const op of ops.filter((o) => o.pathParams.length && isTenant(o))) {
      for (const mix of mixes(op.pathParams)) {
        for (const [who, bearer] of [['token', B.payer.token], ['portal session', B.portal]] as const) {
          const res = await apiClient(server, bearer).call(op.method, fillPath(op.path, idsOf(mix)), bodyFor(op, B))
          figures.tenantRequests++
          if (res.status === 404) figures.notFound++
          const problem = envelopeProblem(res.status, res.body)
          if (res.status !== 404 || problem || res.body.error.code !== 'not_found') failures.push(`B's ${who}: ${op.method} ${op.path} [${describeMix(mix)}] → ${res.status} ${problem ?? ''} ${JSON.stringify(res.body).slice(0, 200)}`)
        }
      }
    }
    expect(failures).toEqual([])
  })

  it('refuses operator routes to a tenant token (403), and answers an operator 404 when the ids belong to different tenants', async () => {
    const failures: string[] = []
    for (const op of ops.filter((o) => o.pathParams.length && isAdmin(o))) {
      for (const mix of mixes(op.pathParams)) {
        const path = fillPath(op.path, idsOf(mix))
        const asTenant = await apiClient(server, B.payer.token).call(op.method, path, bodyFor(op, A))
        figures.adminRequests++
        if (asTenant.status === 403) figures.forbidden++
        if (asTenant.status !== 403 || envelopeProblem(asTenant.status, asTenant.body) || asTenant.body.error.code !== 'forbidden') {
          failures.push(`tenant token: ${op.method} ${op.path} [${describeMix(mix)}] → ${asTenant.status} ${JSON.stringify(asTenant.body).slice(0, 200)}`)
        }
        // Ids of one object graph must belong to one tenant: with both tenants in one path, nothing is found.
        const tenants = new Set(Object.values(mix))
        if (tenants.size < 2) continue
        const asOperator = await apiClient(server, adminToken).call(op.method, path, bodyFor(op, mix.tenant_id ?? A))
        figures.adminRequests++
        if (asOperator.status === 404) figures.notFound++
        if (asOperator.status !== 404 || envelopeProblem(asOperator.status, asOperator.body) || asOperator.body.error.code !== 'not_found') {
          failures.push(`operator token: ${op.method} ${op.path} [${describeMix(mix)}] → ${asOperator.status} ${JSON.stringify(asOperator.body).slice(0, 200)}`)
        }
      }
    }
    expect(failures).toEqual([])
  })

  it("opens nothing of another tenant's link with a tenant's token or its own page session (401), and charges nothing", async () => {
    const failures: string[] = []
    for (const op of ops.filter((o) => o.pathParams.length && isPage(o))) {
      const path = fillPath(op.path, idsOf({ token: A }))
      const attempts: Array<[string, Record<string, string>]> = [
        ["B's bearer token", { authorization: `Bearer ${B.payer.token}` }],
        ["B's page session", { 'x-paylink-session': B.link.session }],
        ["B's bearer token and page session", { authorization: `Bearer ${B.payer.token}`, 'x-paylink-session': B.link.session }],
      ]
      for (const [what, headers] of attempts) {
        const res = await apiClient(server).call(op.method, path, bodyFor(op, B), { headers })
        figures.pageRequests++
        if (res.status === 401) figures.unauthorized++
        if (res.status !== 401 || envelopeProblem(res.status, res.body) || res.body.error.code !== 'unauthorized') failures.push(`${op.method} ${op.path} with ${what} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
      }
    }
    expect(failures).toEqual([])
    expect(await chargesFor(server, A.link.intentId)).toBe(0)
    expect((await A.payer.api.get(`/v1/platform/payment-intents/${A.link.intentId}`)).body.data.status).toBe('pending')
  })
})

describe("another tenant's ids in queries and bodies", () => {
  it('filter lists to nothing, and neither mint nor enrol', async () => {
    const api = apiClient(server, B.payer.token)
    figures.otherIdRequests += 4
    for (const path of [`/v1/platform/payment-intents?user_id=${A.ids.user_id}`, `/v1/platform/events?payment_intent_id=${A.ids.payment_intent_id}`]) {
      const res = await api.get(path)
      expect(res.status, path).toBe(200)
      expect(res.body.data, path).toEqual([])
    }
    const minted = await api.post('/v1/platform/card/payment-link', { user_id: A.ids.user_id, amount: '1.00' })
    expect(minted.status).toBe(404)
    expect(minted.body.error.code).toBe('not_found')
    const pinned = await api.post('/v1/platform/card/payment-link', { user_id: B.ids.user_id, amount: '1.00', card_processing_id: A.ids.card_processing_id })
    expect(pinned.status).toBeGreaterThanOrEqual(400)
    expect(pinned.status).toBeLessThan(500)
    const enrol = await api.post(`/v1/platform/card-processing/users/${B.ids.user_id}`, { card_processing_id: A.ids.card_processing_id })
    expect([404, 422]).toContain(enrol.status)
    expect((await api.get(`/v1/platform/card-processing/users/${B.ids.user_id}`)).body.data.map((a: any) => a.card_processing_id)).toEqual([B.ids.card_processing_id])
  })

  it("never offers a saved card of another tenant's user on a page, nor charges it", async () => {
    const link = await openLink(B.payer)
    const res = await pagePost(link.payUrl, 'confirm', link.session, { saved_card_id: A.ids.card_id })
    figures.otherIdRequests++
    expect(res.status).toBe(422)
    expect(await chargesFor(server, link.intentId)).toBe(0)
  })
})

describe("the owner's token on the same routes (the fixtures are real)", () => {
  it("works on every operation with the owner's ids, after the attacks changed nothing of A's", async () => {
    const api = A.payer.api
    // Nothing the attacker sent changed A's objects.
    const endpoint = await api.get(`/v1/platform/webhook-endpoints/${A.ids.endpoint_id}`)
    expect(endpoint.body.data).toMatchObject({ status: 'enabled', description: 'isolation fixture' })
    expect((await api.get(`/v1/platform/users/${A.ids.user_id}/cards`)).body.data.map((c: any) => c.id)).toEqual([A.ids.card_id])
    expect((await api.get(`/v1/platform/events/${A.ids.event_id}/deliveries`)).body.data).toHaveLength(A.deliveries)

    // Then every operation with A's own ids answers 2xx (deletions last, so they do not hide the rest).
    const order = (o: Operation) => (o.method === 'DELETE' ? 1 : 0)
    const failures: string[] = []
    for (const op of ops.filter((o) => o.pathParams.length && !isProcessorWebhook(o)).sort((a, b) => order(a) - order(b))) {
      const path = fillPath(op.path, idsOf(Object.fromEntries(op.pathParams.map((p) => [p, A]))))
      let res
      if (isPage(op)) {
        // The right session: the link is A's to pay (confirm pays it; then challenge has nothing to answer).
        res = await apiClient(server).call(op.method, path, bodyFor(op, A), { headers: { 'x-paylink-session': A.link.session } })
        if (op.operationId === 'answerChallenge' && res.status === 409) continue
      } else {
        res = await apiClient(server, isAdmin(op) ? adminToken : A.payer.token).call(op.method, path, bodyFor(op, A))
      }
      figures.controls++
      if (res.status >= 300) failures.push(`${op.method} ${op.path} → ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`)
    }
    expect(failures).toEqual([])
    expect(await chargesFor(server, A.link.intentId)).toBe(1)
  })
})
