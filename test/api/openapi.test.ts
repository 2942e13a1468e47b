/**
 * Issue 13 item 6: the OpenAPI document describes the API as a validating gateway sees it —
 * the token endpoint's form, the headers of the answers, an example for every path parameter,
 * the bodies of the actions that take no input. (PAYLINK_PRISM=1 checks the API suite's real
 * traffic against the same document: test/helpers/prism.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Ajv } from 'ajv'
import { apiClient, getToken, newTenant, startServer, type TestServer } from '../helpers/index.js'

type Header = { required?: boolean; schema: { pattern?: string } }
type Response = { $ref?: string; headers?: Record<string, { $ref: string }> }
type Operation = {
  operationId: string
  security?: Record<string, string[]>[]
  parameters?: { in: string; name: string; example?: unknown; schema: object }[]
  requestBody?: { required?: boolean; content: Record<string, { schema: any }> }
  responses: Record<string, Response>
}

let server: TestServer
let doc: { paths: Record<string, Record<string, Operation>>; components: { headers: Record<string, Header>; responses: Record<string, Response>; securitySchemes: Record<string, any> } }
const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })))
const byId = (id: string) => operations().find((o) => o.op.operationId === id)!.op
const lastPart = (ref: string) => ref.split('/').pop()!
/** The header objects a response (or the shared response it refers to) declares, by lower-case name. */
function headersOf(r: Response) {
  const response = r.$ref ? doc.components.responses[lastPart(r.$ref)]! : r
  return Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), doc.components.headers[lastPart(h.$ref)]!]))
}

beforeAll(async () => {
  server = await startServer()
  doc = (await apiClient(server).get('/openapi.json')).body
})
afterAll(() => server.close())

describe('POST /oauth/token: its form body and its two ways to authenticate', () => {
  it('describes the form-encoded body: grant_type client_credentials, scope, client_id, client_secret', () => {
    const body = byId('createAccessToken').requestBody!
    expect(Object.keys(body.content)).toEqual(['application/x-www-form-urlencoded'])
    const schema = body.content['application/x-www-form-urlencoded']!.schema
    expect(schema.required).toEqual(['grant_type'])
    expect(schema.properties.grant_type.enum).toEqual(['client_credentials'])
    expect(Object.keys(schema.properties).sort()).toEqual(['client_id', 'client_secret', 'grant_type', 'scope'])
  })

  it('offers HTTP Basic, or the credentials in the form', () => {
    expect(byId('createAccessToken').security).toEqual([{ clientBasic: [] }, {}])
    expect(doc.components.securitySchemes.clientBasic).toMatchObject({ type: 'http', scheme: 'basic' })
  })

  it('still answers a form the document would refuse in OAuth’s own words, not as a schema error', async () => {
    const tenant = await newTenant(server)
    const basic = `Basic ${Buffer.from(`${tenant.tenant.clientId}:${tenant.tenant.clientSecret}`).toString('base64')}`
    const post = (form: string) => fetch(`${server.baseUrl}/oauth/token`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: form })
    const wrongGrant = await post('grant_type=password')
    expect([wrongGrant.status, await wrongGrant.json()]).toEqual([400, { error: 'unsupported_grant_type', error_description: expect.any(String) }])
    const noGrant = await post('scope=users%3Aread')
    expect([noGrant.status, (await noGrant.json()).error]).toEqual([400, 'invalid_request'])
  })
})

describe('every answer’s headers are declared', () => {
  it('declares X-Request-Id, required, on every answer of every operation', () => {
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) expect(headersOf(response)['x-request-id'], `${method} ${path} ${status}`).toMatchObject({ required: true })
    }
  })

  it('declares 401 and 403 with WWW-Authenticate on every operation that takes an access token', () => {
    const withToken = operations().filter((o) => o.op.security?.some((s) => 'oauth2' in s))
    expect(withToken.length).toBeGreaterThan(25)
    for (const { op } of withToken) {
      for (const status of ['401', '403']) expect(headersOf(op.responses[status]!)['www-authenticate'], `${op.operationId} ${status}`).toMatchObject({ required: true })
    }
  })

  it('sends WWW-Authenticate with insufficient_scope on a 403: an operator’s token on a tenant route', async () => {
    const admin = await getToken(server, await server.services.tenants.createClient(null, []))
    const r = await apiClient(server, admin).get('/v1/platform/users')
    expect(r.status).toBe(403)
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="paylink", error="insufficient_scope"/)
  })

  it('declares Retry-After on the 429 of every rate-limited operation and on the 503 of readiness', () => {
    for (const id of ['createAccessToken', 'createPaymentLink', 'confirmPayment', 'answerChallenge']) {
      expect(headersOf(byId(id).responses['429']!)['retry-after'], id).toMatchObject({ required: true })
    }
    expect(headersOf(byId('getReadiness').responses['503']!)['retry-after']).toMatchObject({ required: true })
  })

  it('declares Idempotent-Replayed on the success of every operation that takes an Idempotency-Key', () => {
    const idempotent = operations().filter((o) => o.op.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'))
    expect(idempotent.map((o) => o.op.operationId).sort()).toEqual(['createPaymentLink', 'createRefund'])
    for (const { op } of idempotent) expect(headersOf(op.responses['201']!)['idempotent-replayed'], op.operationId).toBeDefined()
  })
})

describe('every path parameter has an example', () => {
  it('gives each one an example its own schema accepts', () => {
    const ajv = new Ajv({ strict: false })
    const params = operations().flatMap(({ op }) => (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => ({ op: op.operationId, p })))
    expect(params.length).toBeGreaterThan(20)
    for (const { op, p } of params) {
      expect(p.example, `${op} {${p.name}}`).toEqual(expect.any(String))
      expect(ajv.validate(p.schema, p.example), `${op} {${p.name}}`).toBe(true)
    }
  })
})

describe('rotate-secret and redeliver: the body is declared as the server takes it', () => {
  it('declares an optional JSON body that is an empty object', () => {
    for (const id of ['rotateWebhookSecret', 'redeliverEvent']) {
      const body = byId(id).requestBody!
      expect(body.required, id).toBe(false)
      expect(body.content['application/json']!.schema, id).toMatchObject({ type: 'object', properties: {}, additionalProperties: false })
    }
  })
})
