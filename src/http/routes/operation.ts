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
}

export function operation<const R extends RequestSchemas, const A extends Record<number, TSchema>>(scope: Scope, meta: OperationMeta, request: R, answer: A) {
  const [operationId, summary, tag, description] = meta
  return {
    config: { scope },
    schema: { operationId, summary, tags: [tag], ...(description ? { description } : {}), ...request, response: { ...answer, ...errorResponses } },
  }
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
