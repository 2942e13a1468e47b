/**
 * The envelope (CommonResponse) and shared pieces of the public contract.
 * Every JSON answer is `{success, data, error, request_id}`; lists add `pagination`.
 * `Envelope(X)` renders the envelope around a route's own payload in OpenAPI.
 */
import { Type, type TSchema } from 'typebox'
import { idPattern, type IdKind } from '../../domain/shared/ids.js'

export const FieldIssue = Type.Object(
  { field: Type.String({ description: 'The request field, as a dotted path.' }), issue: Type.String() },
  { additionalProperties: false },
)

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code; see the catalogue in the README.' }),
    message: Type.String(),
    details: Type.Optional(Type.Array(FieldIssue)),
  },
  { additionalProperties: false },
)

const RequestId = Type.String({ description: 'Identifies this request in our logs (also the X-Request-Id header).', examples: ['req_5g3k9c2m1q8w4e7r6t0y2u3i'] })

export const Envelope = <T extends TSchema>(data: T) =>
  Type.Object({ success: Type.Literal(true), data, error: Type.Null(), request_id: RequestId }, { additionalProperties: false })

export const Pagination = Type.Object(
  {
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` to get the next page; null on the last page.' }),
    has_more: Type.Boolean(),
  },
  { additionalProperties: false },
)

export const ListEnvelope = <T extends TSchema>(item: T) =>
  Type.Object(
    { success: Type.Literal(true), data: Type.Array(item), error: Type.Null(), pagination: Pagination, request_id: RequestId },
    { additionalProperties: false },
  )

export const ErrorEnvelope = Type.Object(
  { success: Type.Literal(false), data: Type.Null(), error: ErrorBody, request_id: RequestId },
  { additionalProperties: false, description: 'An error, in the envelope.' },
)

/** The error answers every authenticated route may give. */
export const errorResponses = {
  '4XX': ErrorEnvelope,
  '5XX': ErrorEnvelope,
}

/** The answer of a route under a rate limit (`rate_limited`, with Retry-After; src/http/openapi.ts declares the header). */
export const rateLimited = { 429: Type.Object(ErrorEnvelope.properties, { additionalProperties: false, description: 'Too many requests (`rate_limited`): retry after Retry-After seconds.' }) }

/** The answer of a route that may be unable to serve (`service_unavailable`, with Retry-After). */
export const unavailable = { 503: Type.Object(ErrorEnvelope.properties, { additionalProperties: false, description: 'Not ready (`service_unavailable`): retry after Retry-After seconds.' }) }

export const IdOf = (kind: IdKind, description?: string) => Type.String({ pattern: idPattern(kind), maxLength: 80, ...(description ? { description } : {}) })

export const Timestamp = Type.String({ format: 'date-time' })

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Page size, 1–100 (default 20).' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The `next_cursor` of the previous page.' })),
}
