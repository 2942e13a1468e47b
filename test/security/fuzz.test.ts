/**
 * Fuzzing every JSON route of the OpenAPI document with fast-check (issue 6 item 3).
 *
 * For each operation whose answers the document declares as JSON, requests are generated
 * from its own schemas and mixed with hostile input: bodies valid by the schema, the same
 * with one field given a wrong type, a huge or unicode string, NULs or deep nesting; any JSON
 * at all; broken JSON and odd encodings; random path ids (real ones of both kinds, garbage,
 * bad percent-encoding, over-long segments); random query strings; random headers
 * (content-type, Idempotency-Key, the page session, Authorization, encodings) and now and
 * then another method. Requests go concurrently in batches over keep-alive connections.
 *
 * Every answer must be below 500 and in the envelope (success with data, or failure with a
 * code, and the request id); /oauth/token answers its token, an RFC 6749 §5.2 error, or the
 * envelope for 429. At least 10,000 requests in all. PAYLINK_FUZZ_SEED replays a run; the
 * seed is printed with the figures.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, getToken, mint, newCard, openLink, pagePost, setupPayer, startServer, type Payer, type TestServer } from '../helpers/index.js'
import { ALL_SCOPES } from '../../src/domain/oauth/scopes.js'
import { TEST_CARD_NUMBERS } from '../../src/processors/sandbox/cards.js'
import { closeAgent, envelopeProblem, fillPath, operations, raw, type Operation, type RawAnswer, type RawRequest } from './support.js'

const SEED = process.env.PAYLINK_FUZZ_SEED ? Number(process.env.PAYLINK_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31)
/** Generated requests per operation; 33 JSON operations make about 10,600. */
const PER_OPERATION = Number(process.env.PAYLINK_FUZZ_PER_OPERATION ?? 320)
/** Requests in flight at once. */
const CONCURRENCY = 16
const BODY_LIMIT = 64 * 1024

let server: TestServer
let payer: Payer
let tenantToken: string
let adminToken: string
let ops: Operation[]
/** Real ids by path parameter name (of the file's tenant), to mix with garbage. */
const ids: Record<string, string[]> = {}
/** Links opened in a frame, with their page sessions; and links never opened. */
const links: Array<{ token: string; session?: string }> = []
let cursor = ''

const figures = {
  cases: 0,
  fiveHundreds: 0,
  notEnvelope: 0,
  transportErrors: 0,
  routes: new Set<string>(),
  statuses: new Map<number, number>(),
  perRoute: new Map<string, number>(),
  deterministic: 0,
}
const failures: string[] = []

// ---------------------------------------------------------------------------------------
// Strings that break things

const NASTY = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202eevil',
  '\u2028\u2029',
  '\ufeff{}',
  '🙂'.repeat(50),
  'Ωmega ünïcödé 中文 العربية',
  "' OR '1'='1' --",
  '"; DROP TABLE tenants; --',
  '$1',
  '${7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00',
  '%zz',
  '\\',
  '"',
  'null',
  'true',
  '-0',
  '1e400',
  'NaN',
  'Infinity',
  '__proto__',
  'constructor',
  '\r\nX-Injected: 1',
  'a'.repeat(201),
  'b'.repeat(5000),
]
const nasty = fc.constantFrom(...NASTY)
/** Any UTF-16 code unit, lone surrogates included. */
const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 })
const anyString = fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }, { weight: 2, arbitrary: anyUnits }, { weight: 2, arbitrary: nasty })
/** What a header value may carry on the wire (latin-1, no control characters but tab). */
const headerValue = (maxLength = 60) =>
  fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff }), fc.constant(0x09)).map((c) => String.fromCharCode(c)), maxLength })
const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  anyString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(true, false, null, 0, -1, 2 ** 53, -(2 ** 63), 1e308, 5e-324),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom([], {}, [null], { a: { b: { c: [] } } }),
  fc.integer({ min: 60_000, max: 70_000 }).map((n) => 'x'.repeat(n)),
)

// ---------------------------------------------------------------------------------------
// Bodies from the document's schemas

/** Values worth trying for fields of these names, beside what their schema generates. */
function fieldValues(name: string | undefined): fc.Arbitrary<unknown> | undefined {
  switch (name) {
    case 'amount':
      return fc.oneof(
        fc.tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 999 })).map(([a, b]) => `${a}.${b}`),
        fc.integer({ min: -5, max: 10 ** 12 }),
        fc.double({ noNaN: true }),
        fc.constantFrom('12.50', '0.01', '0', '-1', '1e3', '1.005', '999999999.99', '1000000000', ' 12.50', '12,50', '0x10', '١٢'),
      )
    case 'currency':
      return fc.constantFrom('USD', 'usd', 'EUR', 'JPY', 'KWD', 'XXX', 'ZZZ', 'US$', 'eur')
    case 'url':
      return fc.oneof(
        fc.webUrl(),
        fc.constantFrom(
          'https://hooks.shop.example/paylink',
          'http://127.0.0.1:9/hook',
          'https://169.254.169.254/latest/meta-data',
          'https://[::1]/x',
          'https://10.0.0.1/x',
          'ftp://files.example/x',
          'https://user:pass@hooks.example/',
          'javascript:alert(1)',
          'https://xn--80ak6aa92e.com/',
          `https://h.example/${'a'.repeat(1980)}`,
        ),
      )
    case 'number':
      return fc.oneof(
        fc.constantFrom(...TEST_CARD_NUMBERS),
        fc.constantFrom(...TEST_CARD_NUMBERS).map((n) => n.replace(/(\d{4})/g, '$1 ').trim()),
        fc.stringMatching(/^[0-9 -]{0,30}$/),
      )
    case 'exp_month':
      return fc.integer({ min: -1, max: 14 })
    case 'exp_year':
      return fc.oneof(fc.integer({ min: 1999, max: 2100 }), fc.integer())
    case 'cvc':
      return fc.oneof(fc.stringMatching(/^[0-9]{2,5}$/), fc.constantFrom('123', '1234'))
    case 'processor':
      return fc.constantFrom('sandbox', 'stripe', 'adyen', '', 'SANDBOX', '../sandbox')
    case 'scopes':
      return fc.array(fc.constantFrom(...ALL_SCOPES, 'bogus', ''), { maxLength: 4 })
    case 'allowed_origins':
      return fc.array(fc.oneof(fc.constantFrom('https://shop.example', 'http://localhost:3000', '*', 'null', "'self'", 'https://a.example; script-src *', 'https://a.example/path'), fc.webUrl()), { maxLength: 3 })
    case 'tenant_id':
    case 'user_id':
    case 'card_processing_id':
    case 'saved_card_id':
    case 'payment_intent_id':
      return ids[name] ? fc.constantFrom(...ids[name]!) : undefined
    case 'answer':
      return fc.constantFrom('approve', 'decline', 'APPROVE')
    case 'cursor':
      return fc.constantFrom(cursor, `${cursor}x`, cursor.slice(0, -2), Buffer.from('{"id":"x"}').toString('base64url'))
    default:
      return undefined
  }
}

function fromSchema(schema: any, name?: string, depth = 0): fc.Arbitrary<unknown> {
  const special = fieldValues(name)
  const own = fromSchemaOnly(schema, depth)
  return special ? fc.oneof({ weight: 3, arbitrary: special }, { weight: 1, arbitrary: own }) : own
}

function fromSchemaOnly(schema: any, depth: number): fc.Arbitrary<unknown> {
  if (!schema || typeof schema !== 'object') return fc.jsonValue({ maxDepth: 2 })
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((s: unknown) => fromSchemaOnly(s, depth)))
  if (schema.enum) return fc.constantFrom(...schema.enum)
  if ('const' in schema) return fc.constant(schema.const)
  switch (schema.type) {
    case 'object': {
      const props: Record<string, any> = schema.properties ?? {}
      const model = Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fromSchema(s, k, depth + 1)]))
      const base = fc.record(model, { requiredKeys: schema.required ?? [] })
      if (schema.additionalProperties === true || depth > 0 && schema.additionalProperties === undefined) {
        return fc.tuple(base, fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })).map(([a, b]) => ({ ...b, ...a }))
      }
      return base
    }
    case 'array':
      return fc.array(fromSchema(schema.items), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) })
    case 'string': {
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? Infinity))
      if (schema.format === 'email') return fc.emailAddress()
      if (schema.format === 'date-time') return fc.date({ min: new Date(0), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString())
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) })
    }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 })
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Replaces the value at one path of `value` (chosen by `pick`) with `replacement`. */
function mutate(value: unknown, pick: number, replacement: unknown): unknown {
  const paths: string[][] = []
  const walk = (v: unknown, path: string[]) => {
    paths.push(path)
    if (v && typeof v === 'object') for (const [k, child] of Object.entries(v)) walk(child, [...path, k])
  }
  walk(value, [])
  const path = paths[pick % paths.length]!
  if (path.length === 0) return replacement
  const copy = structuredClone(value) as any
  let at = copy
  for (const k of path.slice(0, -1)) at = at[k]
  at[path[path.length - 1]!] = replacement
  return copy
}

/** The schema with every property required, at every level (a body with every field present). */
const requireAll = (schema: any): any =>
  schema && typeof schema === 'object'
    ? {
        ...schema,
        ...(schema.properties ? { properties: Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, requireAll(v)])), required: Object.keys(schema.properties) } : {}),
        ...(schema.items ? { items: requireAll(schema.items) } : {}),
        ...(schema.anyOf ? { anyOf: schema.anyOf.map(requireAll) } : {}),
      }
    : schema

/** `value` with every string in it replaced by `to(string)`. */
const mapStrings = (value: unknown, to: (s: string) => string): unknown =>
  typeof value === 'string'
    ? to(value)
    : Array.isArray(value)
      ? value.map((v) => mapStrings(v, to))
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, to)]))
        : value

const deepText = fc.tuple(fc.integer({ min: 100, max: 40_000 }), fc.boolean()).map(([n, arrays]) => (arrays ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n)))
const brokenJson = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    '{',
    '{"a":}',
    '{"a":1,}',
    "{'a':1}",
    '[1,2',
    'nul',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    '{"amount":1e400}',
    '{"amount":12.300000000000000001}',
    '{"a":1,"a":2}',
    '\ufeff{}',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    '"just a string"',
    '12',
    'true',
    '',
  ),
)

interface Generated {
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Buffer
}

/** Everything one operation may be sent. */
function requestsFor(op: Operation): fc.Arbitrary<Generated> {
  const isToken = op.operationId === 'createAccessToken'
  const isPage = op.path.startsWith('/pay/')
  const right = op.scopes.includes('admin') ? adminToken : op.scopes.length ? tenantToken : undefined
  const wrong = op.scopes.includes('admin') ? tenantToken : adminToken

  // Path: real ids of every kind, or garbage, raw or percent-encoded.
  const allIds = Object.values(ids).flat()
  const pathValue = (param: string) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...(ids[param] ?? allIds)).map(encodeURIComponent) },
      { weight: 1, arbitrary: fc.constantFrom(...allIds).map(encodeURIComponent) },
      { weight: 2, arbitrary: anyString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?'))) },
      { weight: 1, arbitrary: fc.constantFrom('%zz', '%', '%C0%AF', '%FF%FE', '%00', '..', '.', '%2e%2e', 'a%2Fb', 'a'.repeat(199), 'a'.repeat(201), 'c'.repeat(3000), '%F0%9F%99%82') },
    )
  const pathArb = fc.record(Object.fromEntries(op.pathParams.map((p) => [p, pathValue(p)])) as Record<string, fc.Arbitrary<string>>)

  // Query: from the document's parameters, with extra keys, repeats, or raw garbage.
  const queryParams: any[] = (op.op.parameters ?? []).filter((p: any) => p.in === 'query')
  const fromParams = fc
    .record(Object.fromEntries(queryParams.map((p) => [p.name, fc.oneof(fromSchema(p.schema, p.name), anyString, fc.array(fc.string({ maxLength: 5 }), { minLength: 2, maxLength: 3 }))])), { requiredKeys: [] })
    .chain((known) => fc.tuple(fc.constant(known), fc.option(fc.dictionary(anyString, anyString, { maxKeys: 3 }), { nil: undefined })))
    .map(([known, extra]) => {
      const q = new URLSearchParams()
      for (const [k, v] of Object.entries({ ...extra, ...known })) for (const one of Array.isArray(v) ? v : [v]) q.append(k, typeof one === 'string' ? one : JSON.stringify(one))
      const s = q.toString()
      return s ? `?${s}` : ''
    })
  const rawQuery = fc.constantFrom('?', '?%', '?a=%zz', '?limit=%ff', '?&&&', '?limit[]=1', '?limit[a]=1', '?__proto__[x]=1', '?constructor[prototype][x]=1', '?limit=1&limit=2', '?limit=0', '?limit=101', '?limit=1e1', '?limit=-1', '?limit=', `?${'a=1&'.repeat(1500)}`, '?created_gte=2024-02-30T00:00:00Z', '?created_lt=+275760-09-13T00:00:00.001Z', '?status=PENDING', '?cursor=%00')
  const queryArb = fc.oneof({ weight: queryParams.length ? 4 : 1, arbitrary: fromParams }, { weight: 1, arbitrary: rawQuery }, { weight: queryParams.length ? 2 : 6, arbitrary: fc.constant('') })

  // Body: JSON from the schema, mutated, hostile, broken or huge; a form for /oauth/token.
  const schema = op.op.requestBody?.content?.['application/json']?.schema
  const valid = schema ? fromSchema(schema) : fc.constant({})
  const jsonBody: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
    { weight: 5, arbitrary: valid.map((v) => JSON.stringify(v)) },
    { weight: 5, arbitrary: fc.tuple(valid, fc.nat(), hostile).map(([v, pick, r]) => JSON.stringify(mutate(v, pick, r))) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: brokenJson },
    { weight: 1, arbitrary: fc.integer({ min: BODY_LIMIT - 200, max: BODY_LIMIT + 5000 }).map((n) => JSON.stringify({ name: 'n'.repeat(n) })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
  const formBody = fc
    .record(
      {
        grant_type: fc.oneof(fc.constantFrom('client_credentials', 'password', 'refresh_token', ''), anyString),
        client_id: fc.oneof(fc.constant(payer.tenant.clientId), anyString),
        client_secret: fc.oneof(fc.constant(payer.tenant.clientSecret), anyString),
        scope: fc.oneof(fc.constantFrom(...ALL_SCOPES, 'users:read users:write', 'admin', ''), anyString),
      },
      { requiredKeys: [] },
    )
    .chain((f) => fc.tuple(fc.constant(f), fc.dictionary(anyString, anyString, { maxKeys: 2 }), fc.boolean()))
    .map(([f, extra, twice]) => {
      const q = new URLSearchParams({ ...extra, ...f } as Record<string, string>)
      if (twice && f.grant_type !== undefined) q.append('grant_type', 'client_credentials')
      return q.toString()
    })
  const bodyArb = isToken ? fc.oneof({ weight: 4, arbitrary: formBody }, { weight: 1, arbitrary: jsonBody }) : op.op.requestBody ? jsonBody : fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: jsonBody })

  // Headers.
  const tokenChars = fc.stringMatching(/^[A-Za-z0-9._~+/-]{0,300}=*$/)
  const auth = fc.oneof(
    { weight: right ? 14 : 2, arbitrary: fc.constant(right ? `Bearer ${right}` : undefined) },
    { weight: 1, arbitrary: fc.constant(`Bearer ${wrong}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: tokenChars.map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: headerValue(200) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'Bearer',
        'Bearer ',
        `bearer ${right ?? tenantToken}`,
        `Bearer  ${right ?? tenantToken}`,
        `${right ?? tenantToken}`,
        `Basic ${Buffer.from(`${payer.tenant.clientId}:${payer.tenant.clientSecret}`).toString('base64')}`,
        'Basic Zm9vOmJhcg==',
        'Basic !!!',
        'Basic Og==',
        'Basic ' + Buffer.from('%:%zz').toString('base64'),
      ),
    },
  )
  const contentType = fc.oneof(
    { weight: 12, arbitrary: fc.constant(isToken ? 'application/x-www-form-urlencoded' : 'application/json') },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'application/json; charset=utf-8',
        'APPLICATION/JSON',
        'application/json;charset=latin1',
        'application/json; charset=utf-16',
        'application/jsonx',
        'application/json-patch+json',
        'application/merge-patch+json',
        'text/plain',
        'text/json',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        '',
        '*/*',
        ';;;',
        'application/json; boundary=',
      ),
    },
    { weight: 1, arbitrary: headerValue(40) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
  const linkArb = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...links) }, { weight: 1, arbitrary: fc.constant(undefined) })
  const session = (link: { session?: string } | undefined) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(link?.session) },
      { weight: 1, arbitrary: headerValue(120) },
      { weight: 1, arbitrary: fc.constantFrom(...links.filter((l) => l.session).map((l) => l.session!)) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    )
  const extra = fc.record(
    {
      'idempotency-key': fc.oneof(headerValue(40), headerValue(300), fc.constantFrom('k1', 'k1', 'k2', ' ', 'é', 'a'.repeat(255), 'a'.repeat(256))),
      accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', 'image/png;q=0.1'),
      'accept-language': fc.oneof(fc.constantFrom('fr-CH, fr;q=0.9, en;q=0.8', 'de', 'zz', '*', 'en-US;q=abc'), headerValue(40)),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity', '*', 'gzip;q=0'),
      'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'),
      'transfer-encoding': fc.constant('chunked'),
      'x-forwarded-for': fc.oneof(fc.ipV4(), headerValue(40)),
      'x-request-id': headerValue(60),
      'x-http-method-override': fc.constantFrom('DELETE', 'PUT', 'GET'),
      'sec-fetch-dest': fc.constantFrom('iframe', 'document', 'empty'),
      cookie: headerValue(60),
    },
    { requiredKeys: [] },
  )
  const randomHeaders = fc.dictionary(headerName, headerValue(60), { maxKeys: 3 })
  const methodArb = fc.oneof({ weight: 19, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') })

  return fc
    .record({
      method: methodArb,
      pathValues: pathArb,
      link: isPage ? linkArb : fc.constant(undefined),
      query: queryArb,
      body: bodyArb,
      auth,
      contentType,
      extra,
      randomHeaders,
    })
    .chain((r) => fc.tuple(fc.constant(r), isPage ? session(r.link) : fc.constant(undefined)))
    .map(([r, sessionValue]) => {
      const values = { ...r.pathValues }
      if (isPage && r.link) values.token = r.link.token
      const headers: Record<string, string> = { ...r.randomHeaders, ...(r.extra as Record<string, string>) }
      // Transfer-encoding and content-encoding only now and then, and never with no body.
      if (r.body === undefined) {
        delete headers['transfer-encoding']
        delete headers['content-encoding']
      }
      if (r.auth !== undefined) headers.authorization = r.auth
      if (r.contentType !== undefined && (r.body !== undefined || r.contentType === '')) headers['content-type'] = r.contentType
      if (sessionValue !== undefined) headers['x-paylink-session'] = sessionValue
      return { method: r.method, path: fillPath(op.path, values) + r.query, headers, ...(r.body !== undefined ? { body: r.body } : {}) }
    })
}

// ---------------------------------------------------------------------------------------
// Judging answers

function judge(req: Generated, res: RawAnswer): string | undefined {
  if (res.status >= 500) return `a ${res.status}`
  // The token endpoint itself (not a near miss of its URL, which the not-found handler answers).
  if (req.method === 'POST' && req.path.split('?')[0] === '/oauth/token' && res.status !== 429) {
    if (res.status === 200) {
      const ok = res.json && typeof res.json.access_token === 'string' && res.json.token_type === 'Bearer' && typeof res.json.expires_in === 'number'
      return ok ? undefined : 'a 200 without the token answer'
    }
    const keys = res.json && typeof res.json === 'object' ? Object.keys(res.json).sort().join(',') : ''
    if (!(keys === 'error' || keys === 'error,error_description') || typeof res.json.error !== 'string') return 'an error not in RFC 6749 §5.2 form'
    return undefined
  }
  // A route of another method (or none) answers from the not-found handler: the envelope too.
  const problem = envelopeProblem(res.status, res.json)
  if (problem) return `not the envelope: ${problem}`
  if (!/^application\/json/.test(String(res.headers['content-type'] ?? ''))) return `content-type ${res.headers['content-type']}`
  if (res.headers['x-request-id'] !== res.json.request_id) return 'x-request-id is not the envelope request_id'
  return undefined
}

const show = (req: Generated) => {
  const body = req.body === undefined ? '' : Buffer.isBuffer(req.body) ? `<${req.body.length} bytes>` : req.body.length > 300 ? `${req.body.slice(0, 300)}…(${req.body.length} chars)` : req.body
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, v.length > 80 ? `${v.slice(0, 80)}…` : v]))
  return `${req.method} ${req.path.length > 200 ? `${req.path.slice(0, 200)}…` : req.path} ${JSON.stringify(headers)} ${body}`
}

async function send(op: Operation, req: Generated): Promise<void> {
  figures.cases++
  figures.routes.add(`${op.method} ${op.path}`)
  figures.perRoute.set(op.operationId, (figures.perRoute.get(op.operationId) ?? 0) + 1)
  let res: RawAnswer
  try {
    res = await raw(server, req as RawRequest)
  } catch (err) {
    // The server may close the connection after refusing a body it will not read (413); nothing else.
    const bodyLength = req.body === undefined ? 0 : Buffer.byteLength(req.body)
    if (bodyLength > BODY_LIMIT || req.headers['transfer-encoding']) {
      figures.transportErrors++
      return
    }
    failures.push(`${op.operationId}: transport error ${(err as Error).message} for ${show(req)}`)
    return
  }
  figures.statuses.set(res.status, (figures.statuses.get(res.status) ?? 0) + 1)
  if (res.status >= 500) figures.fiveHundreds++
  const problem = judge(req, res)
  if (problem) {
    if (!problem.startsWith('a 5')) figures.notEnvelope++
    if (failures.length < 50) failures.push(`${op.operationId}: ${problem} for ${show(req)} → ${res.status} ${res.text.slice(0, 300)}`)
  }
}

async function inBatches(op: Operation, requests: Generated[]) {
  for (let i = 0; i < requests.length; i += CONCURRENCY) await Promise.all(requests.slice(i, i + CONCURRENCY).map((r) => send(op, r)))
}

// ---------------------------------------------------------------------------------------

const isJsonOperation = (op: Operation) => Object.values<any>(op.op.responses ?? {}).some((r) => r?.content?.['application/json'])

beforeAll(async () => {
  server = await startServer()
  payer = await setupPayer(server)
  tenantToken = payer.token
  adminToken = await getToken(server, await server.services.tenants.createClient(null, []))
  ;({ ops } = await operations(server))

  // Real ids of every kind: a paid link (intent, saved card, event), a webhook endpoint, spare clients.
  const endpoint = await payer.api.post('/v1/platform/webhook-endpoints', { url: 'https://hooks.shop.example/paylink' })
  const paid = await openLink(payer)
  const r = await pagePost(paid.payUrl, 'confirm', paid.session, { card: newCard(CARDS.visa), save_card: true })
  const event = await payer.api.get(`/v1/platform/events?payment_intent_id=${paid.intentId}`)
  const refund = await payer.api.post(`/v1/platform/payment-intents/${paid.intentId}/refunds`, { amount: '0.01' })
  const spares = await Promise.all([1, 2, 3].map(() => server.services.tenants.createClient(payer.tenant.tenantId, [])))
  const other = await setupPayer(server)
  Object.assign(ids, {
    user_id: [payer.userId, other.userId],
    payment_intent_id: [paid.intentId, (await mint(other)).intentId],
    card_id: [r.body.data.saved_card_id],
    saved_card_id: [r.body.data.saved_card_id],
    endpoint_id: [endpoint.body.data.id],
    event_id: [event.body.data[0].id],
    tenant_id: [payer.tenant.tenantId, other.tenant.tenantId],
    // Only spare clients: the fuzzer must not revoke its own.
    client_id: spares.map((s) => s.clientId),
    card_processing_id: [payer.accountId, other.accountId],
    refund_id: [refund.body.data.id],
  })
  for (let i = 0; i < 30; i++) links.push(await openLink(payer))
  for (let i = 0; i < 5; i++) links.push({ token: (await mint(payer)).token })
  ids.token = links.map((l) => l.token)
  for (let i = 0; i < 3; i++) await mint(payer)
  cursor = (await payer.api.get('/v1/platform/payment-intents?limit=1')).body.pagination.next_cursor ?? ''
}, 120_000)

afterAll(async () => {
  const statuses = [...figures.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ')
  console.log(
    `[security/fuzz] seed ${SEED}: ${figures.cases} requests (${figures.deterministic} hand-picked) over ${figures.routes.size} JSON routes; ` +
      `5xx seen: ${figures.fiveHundreds}; answers outside the envelope: ${figures.notEnvelope}; connections closed on over-limit bodies: ${figures.transportErrors}; statuses ${statuses}`,
  )
  closeAgent(server)
  await server.close()
})

describe('fuzzing every JSON route of the OpenAPI document', () => {
  it('covers every JSON operation', () => {
    const json = ops.filter(isJsonOperation)
    expect(json.length).toBeGreaterThanOrEqual(30)
    expect(json.map((o) => o.operationId)).toEqual(expect.arrayContaining(['createAccessToken', 'createPaymentLink', 'confirmPayment', 'answerChallenge', 'adminCreateTenant']))
  })

  it('answers hand-picked hostile requests below 500 and in the envelope', async () => {
    const before = figures.cases
    for (const op of ops.filter(isJsonOperation)) {
      const right = op.scopes.includes('admin') ? adminToken : op.scopes.length ? tenantToken : undefined
      const values = Object.fromEntries(op.pathParams.map((p) => [p, encodeURIComponent(ids[p]![0]!)]))
      const base = { method: op.method, path: fillPath(op.path, values), headers: { ...(right ? { authorization: `Bearer ${right}` } : {}), 'content-type': 'application/json', ...(op.path.startsWith('/pay/') && links[0]?.session ? { 'x-paylink-session': links[0].session } : {}) } }
      const cases: Generated[] = [
        { ...base, body: '['.repeat(50_000) + ']'.repeat(50_000) },
        { ...base, body: '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) },
        { ...base, body: JSON.stringify({ name: 'x'.repeat(BODY_LIMIT) }) },
        { ...base, body: Buffer.from([0xff, 0xfe, 0x7b, 0x7d]) },
        { ...base, body: '{"a":"\\u0000"}' },
        // Nesting just within and just beyond what the parser takes, in a free-form object where the schema allows one.
        { ...base, body: `{"name":"n","processor":"sandbox","currencies":["USD"],"config":${'{"a":'.repeat(62)}1${'}'.repeat(62)}}` },
        { ...base, body: `{"name":"n","processor":"sandbox","currencies":["USD"],"config":{"a":${'['.repeat(30_000)}${']'.repeat(30_000)}}}` },
        { ...base, headers: { ...base.headers, 'content-encoding': 'gzip' }, body: '{}' },
        { ...base, headers: { ...base.headers, 'transfer-encoding': 'chunked' }, body: '{}' },
        { ...base, headers: { ...base.headers, 'content-length': '0' } },
        { ...base, headers: { ...base.headers, 'content-type': 'application/json' }, body: '' },
        { ...base, path: `${base.path}?${'q=1&'.repeat(1000)}` },
        { ...base, path: `${base.path}%` },
        { ...base, path: `${base.path}/..%2f..%2f` },
        { ...base, headers: { ...base.headers, 'idempotency-key': 'é'.repeat(10) }, body: '{}' },
      ]
      // A body valid by the schema with every string emptied, or given a lone surrogate or a NUL in the middle.
      const schema = op.op.requestBody?.content?.['application/json']?.schema
      if (schema) {
        const [sample] = fc.sample(fromSchemaOnly(requireAll(schema), 0), { numRuns: 1, seed: SEED })
        for (const to of [() => '', (s: string) => `中${s}\udddc文`, (s: string) => `${s}\u0000${s}`]) cases.push({ ...base, body: JSON.stringify(mapStrings(sample, to)) })
      }
      await inBatches(op, cases)
    }
    figures.deterministic = figures.cases - before
    expect(failures).toEqual([])
  })

  it(`answers ${PER_OPERATION} generated requests per operation (seed ${SEED}) below 500 and in the envelope`, async () => {
    const json = ops.filter(isJsonOperation)
    for (const [i, op] of json.entries()) {
      const requests = fc.sample(requestsFor(op), { numRuns: PER_OPERATION, seed: SEED + i })
      await inBatches(op, requests)
    }
    expect(failures).toEqual([])
    if (!process.env.PAYLINK_FUZZ_PER_OPERATION) expect(figures.cases).toBeGreaterThanOrEqual(10_000)
  }, 240_000)

  it('leaves the server healthy', async () => {
    const res = await raw(server, { method: 'GET', path: '/readyz' })
    expect(res.status).toBe(200)
    expect(figures.fiveHundreds).toBe(0)
  })
})
