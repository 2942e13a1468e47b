/**
 * What the OpenAPI document says of every operation alike, because the app — not a route —
 * does it: the headers of the answers, the 401/403/429 the auth plugin gives on every route with a
 * scope, and an example for every path parameter. Applied to the whole document once it is
 * generated from the routes (`transformObject` of @fastify/swagger); the routes' own schemas,
 * which Fastify validates and serialises with, are left alone.
 *
 * A validating gateway (Prism in the test suite: PAYLINK_PRISM=1) checks these headers on real
 * answers: a header declared `required` is sent on every such answer.
 */
import { PREFIXES, type IdKind } from '../domain/shared/ids.js'

type Schema = Record<string, unknown>
interface Header {
  description: string
  required?: boolean
  schema: Schema
}
interface Response {
  description?: string
  headers?: Record<string, Header | { $ref: string }>
  content?: Record<string, { schema: Schema }>
}
interface Parameter {
  in: string
  name: string
  schema?: Schema
  example?: unknown
}
interface Operation {
  'x-optional-body'?: boolean
  requestBody?: { required?: boolean }
  security?: Array<Record<string, string[]>>
  parameters?: Parameter[]
  responses?: Record<string, Response | { $ref: string }>
}
interface Document {
  paths?: Record<string, Record<string, Operation>>
  components?: { headers?: Record<string, Header>; responses?: Record<string, Response> }
}

const REQUEST_ID: Header = {
  description: 'Identifies this request in our logs; the same as `request_id` in an envelope. Quote it when asking for support.',
  required: true,
  schema: { type: 'string', pattern: '^req_[0-9a-z]+$', examples: ['req_5g3k9c2m1q8w4e7r6t0y2u3i'] },
}
const RETRY_AFTER: Header = { description: 'Seconds to wait before trying again.', required: true, schema: { type: 'string', pattern: '^[0-9]+$', examples: ['30'] } }
const WWW_AUTHENTICATE: Header = {
  description:
    'The challenge: `Bearer realm="paylink", error="invalid_token"` on 401, `Bearer realm="paylink", error="insufficient_scope"` on 403 (RFC 6750 §3); `Basic realm="paylink"` on the token endpoint’s 401.',
  required: true,
  schema: { type: 'string', examples: ['Bearer realm="paylink", error="invalid_token"'] },
}
const IDEMPOTENT_REPLAYED: Header = {
  description: 'Present, `true`, when this answer is the stored answer to an earlier request with the same Idempotency-Key.',
  schema: { type: 'string', enum: ['true'] },
}

/** Statuses the auth plugin answers on every route with a scope (besides the route's own), declared once in `components.responses`. */
const AUTH_ANSWERS: Record<string, { name: string; description: string }> = {
  '401': { name: 'Unauthorized', description: 'No access token, or one that is invalid or expired (`unauthorized`).' },
  '403': { name: 'Forbidden', description: 'The access token lacks the scope (`forbidden`), or is not a tenant client’s on a tenant route.' },
  '429': { name: 'TooManyRequests', description: 'Too many portal session secrets (`Bearer pps_…`) that opened nothing came from this address (`rate_limited`); Retry-After says when to try again.' },
}

/** The headers above, declared once in `components.headers` and referred to by name. */
const HEADERS = { 'X-Request-Id': REQUEST_ID, 'Retry-After': RETRY_AFTER, 'Retry-After-On-503': { ...RETRY_AFTER, description: 'On a 503: seconds to wait before trying again.', required: false }, 'WWW-Authenticate': WWW_AUTHENTICATE, 'Idempotent-Replayed': IDEMPOTENT_REPLAYED }
const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` })

/** Adds the app-wide facts above to every operation of `doc` (in place) and answers it. */
export function documentAppAnswers<D>(doc: D): D {
  const d = doc as Document
  const responses: Record<string, Response> = {}
  for (const operations of Object.values(d.paths ?? {})) {
    for (const op of Object.values(operations)) {
      // A body the route lets the client leave out (`noInput` in src/http/routes/operation.ts).
      if (op['x-optional-body']) {
        if (op.requestBody) op.requestBody.required = false
        delete op['x-optional-body']
      }
      const answers = (op.responses ??= {})
      const idempotent = op.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key')
      for (const [status, response] of Object.entries(answers)) {
        if ('$ref' in response) continue
        const headers: Record<string, { $ref: string }> = { 'X-Request-Id': ref('X-Request-Id') }
        if (status === '429' || status === '503') headers['Retry-After'] = ref('Retry-After')
        if (status === '5XX') headers['Retry-After'] = ref('Retry-After-On-503')
        if (status === '401' || status === '403') headers['WWW-Authenticate'] = ref('WWW-Authenticate')
        if (idempotent && status.startsWith('2')) headers['Idempotent-Replayed'] = ref('Idempotent-Replayed')
        answers[status] = { ...response, headers: { ...headers, ...response.headers } }
      }
      // The auth plugin's answers: the envelope of the operation's 4XX, declared once and referred to.
      const envelope = answers['4XX']
      if (op.security?.some((s) => 'oauth2' in s) && envelope && !('$ref' in envelope)) {
        for (const [status, { name, description }] of Object.entries(AUTH_ANSWERS)) {
          responses[name] ??= { description, content: envelope.content, headers: { 'X-Request-Id': ref('X-Request-Id'), ...(status === '429' ? { 'Retry-After': ref('Retry-After') } : { 'WWW-Authenticate': ref('WWW-Authenticate') }) } }
          answers[status] ??= { $ref: `#/components/responses/${name}` }
        }
      }
      for (const p of op.parameters ?? []) {
        if (p.in === 'path' && p.example === undefined) p.example = pathExample(p)
      }
    }
  }
  d.components = { ...d.components, headers: { ...d.components?.headers, ...HEADERS }, responses: { ...d.components?.responses, ...responses } }
  return doc
}

/** The kind of id each path parameter holds, for its example. */
const ID_PARAMS: Record<string, IdKind> = {
  user_id: 'user',
  payment_intent_id: 'paymentIntent',
  refund_id: 'refund',
  card_id: 'card',
  endpoint_id: 'webhookEndpoint',
  event_id: 'event',
  tenant_id: 'tenant',
  client_id: 'client',
  card_processing_id: 'account',
}

/** A path parameter's example: the first of its schema's `examples`, else an id of its kind. */
function pathExample(p: Parameter): unknown {
  const examples = p.schema?.examples
  if (Array.isArray(examples) && examples.length > 0) return examples[0]
  const kind = ID_PARAMS[p.name]
  if (!kind) throw new Error(`OpenAPI: the path parameter ${p.name} has no example (give its schema \`examples\`)`)
  return `${PREFIXES[kind]}5g3k9c2m1q8w4e7r6t0y2u3i`
}
