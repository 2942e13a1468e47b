/**
 * An authenticated route's options, written once: the scope its token needs, its OpenAPI operation (id,
 * summary, tag), its request schemas, and its answer in the envelope — one object, a list
 * of objects, or a page of them in the list envelope. Every error answer is the envelope too.
 *
 *   app.get('/v1/platform/users/:user_id', operation('users:read', ['getUser', 'Get an end user', 'users'], { params }, ok(User)), handler)
 */
import { Type, type TSchema } from 'typebox'
import type { Scope } from '../../domain/oauth/scopes.js'
import { Envelope, ListEnvelope, ListQuery, errorResponses } from '../schemas/common.js'

/** `[operationId, summary, tag, description?]` */
export type OperationMeta = readonly [id: string, summary: string, tag: string, description?: string]

interface RequestSchemas {
  params?: TSchema
  querystring?: TSchema
  body?: TSchema
  headers?: TSchema
  /** Set by `noInput`: the body may be left out. */
  'x-optional-body'?: true
}

export function operation<const R extends RequestSchemas, const A extends Record<number, TSchema>>(scope: Scope, meta: OperationMeta, request: R, answer: A) {
  const [operationId, summary, tag, description] = meta
  return {
    config: { scope },
    schema: { operationId, summary, tags: [tag], ...(description ? { description } : {}), ...request, response: { ...answer, ...errorResponses } },
    ...(request['x-optional-body'] ? { preValidation: bodyDefaultsToEmpty } : {}),
  }
}

/**
 * The body of an action that takes no input (rotate a secret, redeliver an event): leave it out,
 * or send `{}` — many HTTP clients always send a JSON body with a POST. A field in it is refused
 * as unknown (422 naming it), as on every other route, rather than silently ignored: a client
 * that believes it passes an option learns that it does not. The document marks the body
 * optional (`x-optional-body`, read by src/http/openapi.ts).
 */
export const noInput = {
  body: Type.Object({}, { additionalProperties: false, description: 'Nothing: leave the body out, or send an empty JSON object.' }),
  'x-optional-body': true,
} as const

/** An absent body is validated as `{}` (Fastify would validate it as null); a JSON `null` stays null, and is refused. */
function bodyDefaultsToEmpty(request: { body: unknown }, _reply: unknown, done: () => void) {
  if (request.body === undefined) request.body = {}
  done()
}

/** The success answer: `data` is the object. */
export const answers = <T extends TSchema, const S extends number = 200>(data: T, status?: S) => ({ [status ?? 200]: Envelope(data) }) as { [K in S]: ReturnType<typeof Envelope<T>> }

/** The success answer: `data` is a list of objects, without pagination. */
export const answersList = <T extends TSchema>(item: T) => ({ 200: Envelope(Type.Array(item)) })

/** The success answer: a page of objects in the list envelope. */
export const answersPage = <T extends TSchema>(item: T) => ({ 200: ListEnvelope(item) })

/** A path with one id in it: `{ [name]: string }`. */
export const idParam = <const N extends string>(name: N) => Type.Object({ [name]: Type.String({ maxLength: 80 }) } as { [K in N]: ReturnType<typeof Type.String> })

/** A listing's query: the cursor and the limit, and its own filters. */
export const listQuery = <const F extends Record<string, TSchema>>(filters: F = {} as F) => Type.Object({ ...ListQuery, ...filters }, { additionalProperties: false })
