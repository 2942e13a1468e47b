/**
 * Renders every JSON answer in the envelope: successes through `ok`/`page`, failures
 * through the one error handler. 5xx answers never show what went wrong inside; the log
 * has it under the same request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, ERROR_CATALOGUE, type ErrorCode, type FieldIssue } from '../../domain/shared/errors.js'
import type { Page } from '../../domain/shared/pagination.js'
import { toFieldIssues } from './validation.js'
import { HTTP_STATUS } from '../status.js'
import { loggableUrl } from '../../logger.js'

export const ok = <T>(request: FastifyRequest, data: T) => ({ success: true as const, data, error: null, request_id: request.id })

export const page = <T>(request: FastifyRequest, data: T[], pagination: { next_cursor: string | null; has_more: boolean }) => ({
  success: true as const,
  data,
  error: null,
  pagination,
  request_id: request.id,
})

/** A listing's answer: the service's page of domain objects, each presented. */
export const pageFrom = <T, J>(request: FastifyRequest, result: Page<T>, present: (item: T) => J) =>
  page(request, result.items.map(present), { next_cursor: result.nextCursor, has_more: result.hasMore })

/** A listing's query with its page size (20 unless asked). */
export const withLimit = <Q extends { limit?: number }>(query: Q) => ({ ...query, limit: query.limit ?? 20 })

/**
 * How long a client should wait after a 503 (not ready: the database does not answer, migrations
 * are pending, or the process is shutting down). RFC 9110 §10.2.3: a 503 may say when to come
 * back; load balancers and SDKs read it, and without it some retry at once, in a tight loop.
 */
const RETRY_AFTER_UNAVAILABLE_S = 5

export function sendError(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, message?: string, details?: FieldIssue[]) {
  const status = HTTP_STATUS[code]
  if (status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_UNAVAILABLE_S))
  // On a route that takes a bearer token, every 401 and 403 carries the challenge (RFC 6750 §3),
  // whichever layer refused: the auth plugin sets its own (with the scope); a service's refusal
  // (a portal session asking to make portal links) gets the generic one.
  if ((status === 401 || status === 403) && request.routeOptions.config?.scope && !reply.hasHeader('www-authenticate')) {
    reply.header('www-authenticate', `Bearer realm="paylink", error="${status === 401 ? 'invalid_token' : 'insufficient_scope'}"`)
  }
  const fallback = ERROR_CATALOGUE[code].message
  const error: { code: ErrorCode; message: string; details?: FieldIssue[] } = { code, message: message ?? fallback }
  if (details?.length) error.details = details
  return reply.code(status).type('application/json; charset=utf-8').send({ success: false, data: null, error, request_id: request.id })
}

const BY_STATUS: Record<number, ErrorCode> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
}

/** Maps any thrown error to the envelope. `custom` may answer first (the OAuth endpoint). */
export function registerErrorEnvelope(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError | AppError, request, reply) => {
    // The token endpoint speaks OAuth: a body it cannot read is invalid_request. A 429 stays in the envelope.
    const status = err instanceof AppError ? HTTP_STATUS[err.code] : err instanceof SyntaxError ? 400 : ((err as FastifyError).statusCode ?? 500)
    if (request.routeOptions.config?.oauthErrors && status >= 400 && status < 500 && status !== 429) {
      // RFC 6749 §5.2 says 400; a body over the limit keeps its 413, in the same form.
      return reply
        .code(status === 413 ? 413 : 400)
        .header('cache-control', 'no-store')
        .send({ error: 'invalid_request', error_description: err instanceof AppError || status < 500 ? err.message : 'The request could not be read.' })
    }
    if (err instanceof AppError) {
      if (err.headers) reply.headers(err.headers)
      if (status >= 500) request.log.error({ err }, 'request failed')
      return sendError(request, reply, err.code, err.message, err.details)
    }
    const fe = err as FastifyError
    if (fe.validation) {
      const details = toFieldIssues(fe.validation, fe.validationContext)
      const first = details[0]
      return sendError(request, reply, 'validation_error', first ? `${first.field} ${first.issue}.` : undefined, details)
    }
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return sendError(request, reply, 'validation_error', 'The body is not valid JSON.', [{ field: 'body', issue: 'is not valid JSON' }])
    }
    if (status >= 400 && status < 500) {
      return sendError(request, reply, BY_STATUS[status] ?? 'validation_error', status in BY_STATUS ? undefined : fe.message)
    }
    request.log.error({ err }, 'request failed')
    return sendError(request, reply, status === 503 ? 'service_unavailable' : 'internal_error')
  })

  // A known path asked with a method it does not take is 405 with `Allow`, not 404 (RFC 9110 §15.5.6).
  const routes: { pattern: RegExp; methods: string[] }[] = []
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`)
    routes.push({ pattern, methods: ([] as string[]).concat(route.method) })
  })
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods))]
    if (allowed.length) {
      reply.header('allow', allowed.sort().join(', '))
      return sendError(request, reply, 'method_not_allowed', `${request.method} is not allowed here; use ${allowed.sort().join(', ')}.`)
    }
    return sendError(request, reply, 'not_found', `No route ${request.method} ${loggableUrl(path)}.`)
  })
}
