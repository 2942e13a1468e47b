/**
 * SPEC "The envelope" and "HTTP surface" (operations and documentation): every JSON answer
 * of the API is `{success, data, error, request_id}` (lists add `pagination`), whatever
 * layer answers; errors carry a stable code; a 500 shows nothing of what broke; the
 * OpenAPI document renders the envelope around each route's own payload.
 */
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { apiClient, createTenant, getToken, newTenant, openPrivateDb, setupPayer, startServer, type ApiResponse, type TestServer } from '../helpers/index.js'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

let server: TestServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(() => server.close())


/** The envelope, exactly: its keys, a req_ id equal to the X-Request-Id header, and success/error agreeing with the status. */
function expectEnvelope(r: ApiResponse, opts: { list?: boolean } = {}) {
  expect(r.headers.get('content-type')).toMatch(/^application\/json/)
  expect(Object.keys(r.body).sort()).toEqual(opts.list ? ['data', 'error', 'pagination', 'request_id', 'success'] : ['data', 'error', 'request_id', 'success'])
  expect(r.body.request_id).toMatch(/^req_[0-9a-z]{16,}$/)
  expect(r.headers.get('x-request-id')).toBe(r.body.request_id)
  if (r.status < 400) {
    expect(r.body.success).toBe(true)
    expect(r.body.error).toBeNull()
  } else {
    expect(r.body.success).toBe(false)
    expect(r.body.data).toBeNull()
    expect(Object.keys(r.body.error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true)
    expect(r.body.error.code).toMatch(/^[a-z_]+$/)
    expect(typeof r.body.error.message).toBe('string')
    for (const d of r.body.error.details ?? []) expect(Object.keys(d).sort()).toEqual(['field', 'issue'])
  }
}

/** Expects the error envelope with this status and code. */
function expectError(r: ApiResponse, status: number, code: string) {
  expect(r.status).toBe(status)
  expectEnvelope(r)
  expect(r.body.error.code).toBe(code)
}

describe('every JSON answer is the envelope, with request_id equal to the X-Request-Id header', () => {
  it('wraps a success, a list with pagination, and a created object', async () => {
    const { api } = await newTenant(server)
    const created = await api.post('/v1/platform/users', { name: 'Enveloped' })
    expect(created.status).toBe(201)
    expectEnvelope(created)
    const list = await api.get('/v1/platform/users')
    expectEnvelope(list, { list: true })
    expect(list.body.pagination).toEqual({ next_cursor: null, has_more: false })
  })

  it('wraps the errors of every layer: authentication, scope, routing, validation, lookup', async () => {
    const { tenant, api } = await newTenant(server)
    const noToken = await apiClient(server).get('/v1/platform/users')
    expectError(noToken, 401, 'unauthorized')
    expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer /)
    expectError(await apiClient(server, 'not.a.token').get('/v1/platform/users'), 401, 'unauthorized')
    const readOnly = apiClient(server, await getToken(server, tenant, { scope: 'users:read' }))
    expectError(await readOnly.post('/v1/platform/users', {}), 403, 'forbidden')
    expectError(await api.get('/v1/platform/no-such-thing'), 404, 'not_found')
    expectError(await api.post('/v1/platform/users', { colour: 'blue' }), 422, 'validation_error')
    expectError(await api.get('/v1/platform/users/usr_nosuchuser000000000000'), 404, 'not_found')
  })

  it('gives every request its own id and never takes one from the client', async () => {
    const { api } = await newTenant(server)
    const a = await api.get('/v1/platform/users', { headers: { 'x-request-id': 'req_chosen_by_client' } })
    const b = await api.get('/v1/platform/users')
    expectEnvelope(a, { list: true })
    expect(a.body.request_id).not.toBe('req_chosen_by_client')
    expect(a.body.request_id).not.toBe(b.body.request_id)
  })
})

describe('an unknown route is 404 not_found', () => {
  it.each([
    ['GET', '/v1/platform/unknown'],
    ['POST', '/nothing-here'],
    ['GET', '/v1/platform/users/'],
  ])('%s %s answers 404 not_found in the envelope', async (method, path) => {
    const { api } = await newTenant(server)
    expectError(await api.call(method, path), 404, 'not_found')
  })

  it.each([
    ['DELETE', '/v1/platform/users', 'GET, HEAD, POST'],
    ['PUT', '/v1/platform/payment-intents/pi_anything', 'GET, HEAD'],
    ['GET', '/pay/sometoken/confirm', 'POST'],
    ['PATCH', '/oauth/token', 'POST'],
  ])('%s %s, a known path with another method, is 405 method_not_allowed with Allow: %s', async (method, path, allow) => {
    const { api } = await newTenant(server)
    const r = await api.call(method, path)
    expectError(r, 405, 'method_not_allowed')
    expect(r.headers.get('allow')).toBe(allow)
  })

  it('a URL the router cannot read is answered in the envelope too', async () => {
    const { api } = await newTenant(server)
    for (const path of ['/v1/platform/users/%C0%AF', `/v1/platform/users/usr_${'a'.repeat(300)}`]) {
      const r = await api.get(path)
      expect(r.status).toBeGreaterThanOrEqual(400)
      expect(r.status).toBeLessThan(500)
      expectEnvelope(r)
    }
  })
})

describe('a body that is not valid JSON is 422 validation_error', () => {
  it.each([
    ['cut short', '{"email":'],
    ['not JSON at all', 'email=a@example.com'],
    ['a trailing comma', '{"name":"x",}'],
  ])('refuses JSON %s and creates nothing', async (_what, raw) => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', undefined, { raw })
    expectError(r, 422, 'validation_error')
    expect(r.body.error.details).toEqual([{ field: 'body', issue: expect.any(String) }])
    expect((await api.get('/v1/platform/users')).body.data).toEqual([])
  })

  it.each([
    ['{"name":"x","__proto__":{"admin":true}}', '__proto__'],
    ['{"constructor":{"prototype":{"x":1}}}', 'constructor.prototype'],
  ])('refuses valid JSON with a prototype key (%s) as a field it does not know, naming it, and creates nothing', async (raw, field) => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', undefined, { raw })
    expectError(r, 422, 'validation_error')
    expect(r.body.error.details).toEqual([{ field, issue: 'is not a known field' }])
    expect((await api.get('/v1/platform/users')).body.data).toEqual([])
  })

  it('refuses an empty body sent as JSON', async () => {
    const { api } = await newTenant(server)
    expectError(await api.post('/v1/platform/users', undefined, { raw: '' }), 422, 'validation_error')
  })
})

describe('a body that is not JSON by its content type is 415 unsupported_media_type', () => {
  it.each([
    ['text/plain', '{"name":"Plain"}'],
    ['application/x-www-form-urlencoded', 'name=Form'],
    ['application/xml', '<user><name>X</name></user>'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nMulti\r\n--x--\r\n'],
  ])('refuses %s and creates nothing', async (type, raw) => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', undefined, { raw, headers: { 'content-type': type } })
    expectError(r, 415, 'unsupported_media_type')
    expect((await api.get('/v1/platform/users')).body.data).toEqual([])
  })

  it('accepts application/json with a charset', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', undefined, { raw: '{"name":"Charset"}', headers: { 'content-type': 'application/json; charset=utf-8' } })
    expect(r.status).toBe(201)
  })
})

describe('a body over 64 KiB is 413 payload_too_large', () => {
  it('refuses a 65 KiB body and creates nothing', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', { name: 'x'.repeat(65 * 1024) })
    expectError(r, 413, 'payload_too_large')
    expect((await api.get('/v1/platform/users')).body.data).toEqual([])
  })

  it('reads a body just under the limit and judges it on its content', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', { name: 'x'.repeat(60 * 1024) })
    expectError(r, 422, 'validation_error')
    expect(r.body.error.details).toEqual([{ field: 'name', issue: expect.any(String) }])
  })
})

describe('what Node refuses before any route runs is the envelope too', () => {
  /** Sends raw bytes and reads the answer (status line, headers, body). */
  const raw = (bytes: string) =>
    new Promise<{ status: number; headers: string; body: any }>((resolve, reject) => {
      const url = new URL(server.baseUrl)
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write(bytes))
      let text = ''
      socket.on('data', (d) => (text += d))
      socket.on('error', reject)
      socket.on('close', () => {
        const [head = '', body = ''] = text.split('\r\n\r\n')
        resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), headers: head.toLowerCase(), body: JSON.parse(body) })
      })
    })

  it('answers headers over the limit with 431 header_too_large', async () => {
    const r = await raw(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'y'.repeat(20_000)}\r\n\r\n`)
    expect(r.status).toBe(431)
    expect(r.body).toMatchObject({ success: false, data: null, error: { code: 'header_too_large' }, request_id: expect.stringMatching(/^req_/) })
    expect(r.headers).toContain("content-security-policy: default-src 'none'")
  })

  it('answers a request it cannot parse with 400 bad_request', async () => {
    const r = await raw('GARBAGE\r\n\r\n')
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({ success: false, error: { code: 'bad_request' } })
  })
})

describe('validation errors list every problem as details [{field, issue}]', () => {
  it('names each bad body field once, with a plain issue', async () => {
    const { api } = await newTenant(server)
    const r = await api.post('/v1/platform/users', { email: 'nope', name: 42, colour: 'blue' })
    expectError(r, 422, 'validation_error')
    const byField = Object.fromEntries(r.body.error.details.map((d: { field: string; issue: string }) => [d.field, d.issue]))
    expect(Object.keys(byField).sort()).toEqual(['colour', 'email', 'name'])
    expect(byField.colour).toBe('is not a known field')
    for (const issue of Object.values(byField)) expect(issue).toMatch(/\w/)
    expect(r.body.error.message).toMatch(/\w/)
  })

  it('names bad query parameters the same way', async () => {
    const { api } = await newTenant(server)
    const r = await api.get('/v1/platform/payment-intents?limit=0&sort=asc')
    expectError(r, 422, 'validation_error')
    expect(r.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['limit', 'sort'])
  })

  it('names the field of a domain rule (the amount) as well', async () => {
    const { api, userId } = await setupPayer(server)
    const r = await api.post('/v1/platform/card/payment-link', { user_id: userId, amount: '-1' })
    expectError(r, 422, 'validation_error')
    expect(r.body.error.details).toEqual([{ field: 'amount', issue: expect.any(String) }])
  })
})

describe('a failure on our side is 500 internal_error and shows no internals', () => {
  it('answers internal_error with a plain message when the database is gone, and readiness says so', async () => {
    // A database of its own, which the test closes (a server sharing the run's database would
    // find signing keys sealed under another server's key; closing twice is harmless).
    const { db, drop } = await openPrivateDb()
    const logs: string[] = []
    const broken = await startServer({}, { db, logs })
    try {
      const tenant = await createTenant(broken)
      const api = apiClient(broken, await getToken(broken, tenant))
      expect((await api.get('/v1/platform/users')).status).toBe(200)
      await db.close()
      for (const r of [await api.get('/v1/platform/users'), await api.post('/v1/platform/users', { name: 'Lost' })]) {
        expectError(r, 500, 'internal_error')
        expect(r.body.error.details).toBeUndefined()
        const text = JSON.stringify(r.body)
        expect(text).not.toMatch(/select|insert|end_users|oauth_clients|pglite|pool|postgres|sql|stack|\.ts\b|\.js\b|at \S+ \(|Error:/i)
        // What went wrong is in the log, under the same request id.
        expect(logs.some((line) => line.includes(r.body.request_id) && /"level":(50|"error")/.test(line))).toBe(true)
      }
      const ready = await api.get('/readyz')
      expectError(ready, 503, 'service_unavailable')
      // A 503 says when to come back (RFC 9110 §10.2.3), so that balancers and SDKs do not retry in a tight loop.
      expect(ready.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/)
    } finally {
      await broken.close().catch(() => {})
      await drop()
    }
  })
})

describe('operations: /healthz and /readyz answer the envelope', () => {
  it('/healthz says the process answers', async () => {
    const r = await apiClient(server).get('/healthz')
    expect(r.status).toBe(200)
    expectEnvelope(r)
    expect(r.body.data).toEqual({ status: 'ok' })
  })

  it('/readyz says the database answers and every migration is applied', async () => {
    const r = await apiClient(server).get('/readyz')
    expect(r.status).toBe(200)
    expectEnvelope(r)
    expect(r.body.data).toEqual({ status: 'ready', database: 'ok', migrations: 'applied' })
  })
})

describe('GET /openapi.json describes every route with the envelope around its own payload', () => {
  type Operation = { operationId?: string; responses: Record<string, { content?: Record<string, { schema: Record<string, any> }> }>; tags?: string[]; security?: unknown[] }
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>> }
  const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })))
  const byId = (id: string) => {
    const found = operations().find((o) => o.op.operationId === id)
    if (!found) throw new Error(`no operation ${id}`)
    return found
  }
  const schemaOf = (id: string, status: string) => byId(id).op.responses[status]!.content!['application/json']!.schema
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }))
  /** Whether a real answer fits what the document says this operation answers with this status. */
  const fits = (id: string, status: string, body: unknown) => ajv.compile(schemaOf(id, status))(body)

  beforeAll(async () => {
    const r = await apiClient(server).get('/openapi.json')
    expect(r.status).toBe(200)
    doc = r.body
  })

  it('is an OpenAPI 3.1 document naming every route of the platform API, each with its operationId', () => {
    expect(doc.openapi).toMatch(/^3\.1\./)
    const expected: Record<string, string> = {
      createAccessToken: 'post /oauth/token',
      getAuthorizationServerMetadata: 'get /.well-known/oauth-authorization-server',
      getJwks: 'get /.well-known/jwks.json',
      createUser: 'post /v1/platform/users',
      listUsers: 'get /v1/platform/users',
      getUser: 'get /v1/platform/users/{user_id}',
      listUserCardProcessingAccounts: 'get /v1/platform/card-processing/users/{user_id}',
      enrolUserInCardProcessingAccount: 'post /v1/platform/card-processing/users/{user_id}',
      createPaymentLink: 'post /v1/platform/card/payment-link',
      listPaymentIntents: 'get /v1/platform/payment-intents',
      getPaymentIntent: 'get /v1/platform/payment-intents/{payment_intent_id}',
      getHealth: 'get /healthz',
      getReadiness: 'get /readyz',
    }
    for (const [id, route] of Object.entries(expected)) {
      const o = byId(id)
      expect(`${o.method} ${o.path}`).toBe(route)
    }
    const ids = operations().map((o) => o.op.operationId)
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('renders every 2xx JSON answer of the API as the envelope (OAuth answers in its own form)', () => {
    // JSON answers only: the hosted page (HTML) and scripts are not the API's JSON.
    const jsonAnswers = operations()
      .filter((o) => !o.op.tags?.includes('oauth'))
      .flatMap(({ op }) =>
        Object.entries(op.responses)
          .filter(([status, response]) => /^2/.test(status) && response.content?.['application/json'])
          .map(([status, response]) => ({ op, status, schema: response.content!['application/json']!.schema })),
      )
    expect(jsonAnswers.length).toBeGreaterThan(10)
    for (const { op, status, schema } of jsonAnswers) {
      const where = `${op.operationId} ${status}`
      expect(schema.type, where).toBe('object')
      expect(schema.additionalProperties, where).toBe(false)
      expect(schema.required, where).toEqual(expect.arrayContaining(['success', 'data', 'error', 'request_id']))
      expect(Object.keys(schema.properties), where).toEqual(expect.arrayContaining(['success', 'data', 'error', 'request_id']))
      expect(schema.properties.error.type, where).toBe('null')
      expect(schema.properties.data, where).not.toEqual({})
    }
  })

  it('documents the error envelope for the errors of every authenticated route', () => {
    // (The token endpoint's security is its client authentication, and it answers in OAuth's own form.)
    const withToken = (o: { op: Operation }) => ((o.op.security ?? []) as Record<string, unknown>[]).some((s) => 'oauth2' in s)
    for (const { op } of operations().filter(withToken)) {
      const schema = op.responses['4XX']?.content?.['application/json']?.schema
      expect(schema, op.operationId).toBeDefined()
      expect(fits(op.operationId!, '4XX', { success: false, data: null, error: { code: 'not_found', message: 'No such object.' }, request_id: 'req_x' })).toBe(true)
      expect(fits(op.operationId!, '4XX', { success: false, data: null, error: { message: 'no code' }, request_id: 'req_x' })).toBe(false)
    }
  })

  it('describes each route’s own data: real answers fit their route’s schema and no other', async () => {
    const { api, userId, accountId } = await setupPayer(server)
    const createdUser = await api.post('/v1/platform/users', { external_id: 'doc-1', email: 'doc@example.com', name: 'Doc' })
    const minted = await api.post('/v1/platform/card/payment-link', { user_id: userId, amount: '12.50' })
    const intentId = minted.body.data.payment_intent_id
    const answers: [string, string, ApiResponse][] = [
      ['createUser', '201', createdUser],
      ['listUsers', '200', await api.get('/v1/platform/users')],
      ['getUser', '200', await api.get(`/v1/platform/users/${userId}`)],
      ['listUserCardProcessingAccounts', '200', await api.get(`/v1/platform/card-processing/users/${userId}`)],
      ['enrolUserInCardProcessingAccount', '200', await api.post(`/v1/platform/card-processing/users/${userId}`, { card_processing_id: accountId })],
      ['createPaymentLink', '201', minted],
      ['listPaymentIntents', '200', await api.get('/v1/platform/payment-intents')],
      ['getPaymentIntent', '200', await api.get(`/v1/platform/payment-intents/${intentId}`)],
      ['getHealth', '200', await api.get('/healthz')],
      ['getReadiness', '200', await api.get('/readyz')],
    ]
    for (const [id, status, answer] of answers) {
      expect(answer.status, id).toBe(Number(status))
      expect(fits(id, status, answer.body), `${id} answer fits its schema`).toBe(true)
    }
    // The data schema is each route's own: a user is not a payment intent, one object is not a list.
    expect(fits('getPaymentIntent', '200', createdUser.body)).toBe(false)
    expect(fits('getUser', '200', answers[7]![2].body)).toBe(false)
    expect(fits('listUsers', '200', createdUser.body)).toBe(false)
    expect(fits('createPaymentLink', '201', createdUser.body)).toBe(false)
  })

  it('names the fields of the objects as SPEC "Objects" does, and no credentials', () => {
    const dataOf = (id: string, status: string) => schemaOf(id, status).properties.data
    expect(Object.keys(dataOf('getPaymentIntent', '200').properties).sort()).toEqual(
      ['amount', 'amount_minor', 'amount_refunded', 'amount_refunded_minor', 'card', 'card_processing_id', 'created_at', 'currency', 'expires_at', 'failure_code', 'failure_message', 'id', 'object', 'processor_code', 'processor_message', 'saved_card_id', 'status', 'updated_at', 'user_id'].sort(),
    )
    expect(dataOf('listPaymentIntents', '200').type).toBe('array')
    expect(schemaOf('listPaymentIntents', '200').properties.pagination.properties).toHaveProperty('next_cursor')
    expect(Object.keys(dataOf('createUser', '201').properties).sort()).toEqual(['created_at', 'email', 'external_id', 'id', 'name', 'object'])
    expect(Object.keys(dataOf('createPaymentLink', '201').properties).sort()).toEqual(['expires_at', 'pay_url', 'payment_intent_id'])
    const account = dataOf('listUserCardProcessingAccounts', '200').items
    expect(Object.keys(account.properties)).toEqual(expect.arrayContaining(['card_processing_id', 'name', 'processor', 'currencies', 'status', 'is_default']))
    expect(JSON.stringify(account)).not.toMatch(/config|secret|api_key|credential/i)
  })
})

describe('GET /docs renders the document', () => {
  it('answers an HTML page that loads the same document', async () => {
    const client = apiClient(server)
    const page = await client.get('/docs')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(String(page.body)).toMatch(/<html/i)
    const shown = await client.get('/docs/json')
    const served = await client.get('/openapi.json')
    expect(shown.status).toBe(200)
    expect(Object.keys(shown.body.paths).sort()).toEqual(Object.keys(served.body.paths).sort())
  })
})
