/** Each error code's HTTP status: how the envelope answers an AppError. */
import type { ErrorCode } from '../domain/shared/errors.js'

export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_error: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  payment_in_progress: 409,
  link_expired: 410,
  portal_link_used: 410,
  portal_link_expired: 410,
  portal_link_not_found: 404,
  payload_too_large: 413,
  bad_request: 400,
  header_too_large: 431,
  invalid_signature: 400,
  unsupported_media_type: 415,
  refund_exceeds_amount: 422,
  card_processing_unavailable: 422,
  currency_not_supported: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
}
