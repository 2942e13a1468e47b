/**
 * The one error catalogue. Every error a client can see has a stable `code` and a plain
 * message. The HTTP layer gives each code its status (src/http/status.ts) and renders it in
 * the envelope; anything that is not an AppError becomes `internal_error` with nothing of
 * its insides shown.
 */

export const ERROR_CATALOGUE = {
  validation_error: { message: 'The request is not valid.' },
  unauthorized: { message: 'A valid access token is required.' },
  forbidden: { message: 'The access token does not carry the scope this needs.' },
  not_found: { message: 'No such object.' },
  method_not_allowed: { message: 'This route does not accept that method.' },
  conflict: { message: 'The request conflicts with the current state.' },
  idempotency_conflict: { message: 'This Idempotency-Key was already used with a different request.' },
  payment_in_progress: { message: 'This payment is already being processed or is finished.' },
  link_expired: { message: 'This payment link has expired.' },
  portal_link_used: { message: 'This portal link was already used. Ask for a new one.' },
  portal_link_expired: { message: 'This portal link has expired. Ask for a new one.' },
  portal_link_not_found: { message: 'No such portal link.' },
  payload_too_large: { message: 'The request body is too large.' },
  bad_request: { message: 'The HTTP request could not be read.' },
  header_too_large: { message: 'The request headers are too large.' },
  invalid_signature: { message: 'The signature does not verify; nothing was applied.' },
  unsupported_media_type: { message: 'Send the body as application/json.' },
  refund_exceeds_amount: { message: 'The refund is more than what is left to refund.' },
  card_processing_unavailable: { message: 'No approved card-processing account fits this payment.' },
  currency_not_supported: { message: 'The card-processing account does not support this currency.' },
  rate_limited: { message: 'Too many requests; retry later.' },
  internal_error: { message: 'Something went wrong on our side. It has been logged.' },
  service_unavailable: { message: 'The service is not ready.' },
} as const

export type ErrorCode = keyof typeof ERROR_CATALOGUE

/** One problem with one field of the request. */
export interface FieldIssue {
  field: string
  issue: string
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: FieldIssue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ERROR_CATALOGUE[code].message)
    this.name = 'AppError'
  }
}

export const notFound = (what = 'object') => new AppError('not_found', `No such ${what}.`)

export const invalid = (field: string, issue: string) =>
  new AppError('validation_error', `${field} ${issue}.`, [{ field, issue }])
