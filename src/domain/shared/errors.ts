/**
 * The one error catalogue. Every error a client can see has a stable `code`, an HTTP
 * status and a plain message. The HTTP layer renders them in the envelope; anything
 * that is not an AppError becomes `internal_error` with nothing of its insides shown.
 */

export const ERROR_CATALOGUE = {
  validation_error: { status: 422, message: 'The request is not valid.' },
  unauthorized: { status: 401, message: 'A valid access token is required.' },
  forbidden: { status: 403, message: 'The access token does not carry the scope this needs.' },
  not_found: { status: 404, message: 'No such object.' },
  method_not_allowed: { status: 405, message: 'This route does not accept that method.' },
  conflict: { status: 409, message: 'The request conflicts with the current state.' },
  idempotency_conflict: { status: 409, message: 'This Idempotency-Key was already used with a different request.' },
  payment_in_progress: { status: 409, message: 'This payment is already being processed or is finished.' },
  link_expired: { status: 410, message: 'This payment link has expired.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Send the body as application/json.' },
  card_processing_unavailable: { status: 422, message: 'No approved card-processing account fits this payment.' },
  currency_not_supported: { status: 422, message: 'The card-processing account does not support this currency.' },
  rate_limited: { status: 429, message: 'Too many requests; retry later.' },
  internal_error: { status: 500, message: 'Something went wrong on our side. It has been logged.' },
  service_unavailable: { status: 503, message: 'The service is not ready.' },
} as const

export type ErrorCode = keyof typeof ERROR_CATALOGUE

/** One problem with one field of the request. */
export interface FieldIssue {
  field: string
  issue: string
}

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: FieldIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ERROR_CATALOGUE[code].message)
    this.name = 'AppError'
    this.status = ERROR_CATALOGUE[code].status
  }
}

export const notFound = (what = 'object') => new AppError('not_found', `No such ${what}.`)

export const invalid = (field: string, issue: string) =>
  new AppError('validation_error', `${field} ${issue}.`, [{ field, issue }])
