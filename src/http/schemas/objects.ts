/** The public objects, as the API renders them. */
import { Type } from 'typebox'
import { IdOf, Timestamp } from './common.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

export const User = Type.Object(
  {
    id: IdOf('user'),
    object: Type.Literal('user'),
    external_id: Nullable(Type.String()),
    email: Nullable(Type.String()),
    name: Nullable(Type.String()),
    created_at: Timestamp,
  },
  { additionalProperties: false },
)

export const CardProcessingAccount = Type.Object(
  {
    card_processing_id: IdOf('account'),
    object: Type.Literal('card_processing_account'),
    name: Type.String(),
    processor: Type.String(),
    currencies: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('pending'), Type.Literal('approved')], { description: "This user's enrolment." }),
    is_default: Type.Boolean({ description: 'Chosen when a payment link names no account (for the `currency` asked, USD by default).' }),
    created_at: Timestamp,
  },
  { additionalProperties: false },
)

export const CardSummary = Type.Object(
  { brand: Type.String(), last4: Type.String(), exp_month: Type.Integer(), exp_year: Type.Integer() },
  { additionalProperties: false },
)

export const PaymentIntentStatus = Type.Union([Type.Literal('pending'), Type.Literal('processing'), Type.Literal('succeeded'), Type.Literal('failed')])

export const FailureCode = Type.Union([
  Type.Literal('card_declined'),
  Type.Literal('insufficient_funds'),
  Type.Literal('expired_card'),
  Type.Literal('incorrect_cvc'),
  Type.Literal('processing_error'),
  Type.Literal('authentication_failed'),
  Type.Literal('link_expired'),
])

export const PaymentIntent = Type.Object(
  {
    id: IdOf('paymentIntent'),
    object: Type.Literal('payment_intent'),
    user_id: IdOf('user'),
    card_processing_id: IdOf('account'),
    amount: Type.String({ description: 'Major units as a decimal string with the currency’s digits, e.g. "12.50".' }),
    amount_minor: Type.Integer({ description: 'Minor units, e.g. 1250.' }),
    currency: Type.String({ description: 'ISO 4217, upper case.' }),
    status: PaymentIntentStatus,
    failure_code: Nullable(FailureCode),
    failure_message: Nullable(Type.String()),
    card: Nullable(CardSummary),
    saved_card_id: Nullable(Type.String()),
    expires_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
)

export const PaymentLink = Type.Object(
  {
    payment_intent_id: IdOf('paymentIntent'),
    pay_url: Type.String({ description: 'Load it in an iframe; it works once. An opaque string.' }),
    expires_at: Timestamp,
  },
  { additionalProperties: false },
)

export const Card = Type.Object(
  {
    id: IdOf('card'),
    object: Type.Literal('card'),
    user_id: IdOf('user'),
    card_processing_id: IdOf('account'),
    brand: Type.String(),
    last4: Type.String(),
    exp_month: Type.Integer(),
    exp_year: Type.Integer(),
    created_at: Timestamp,
  },
  { additionalProperties: false },
)

export const WebhookEndpoint = Type.Object({
  id: IdOf('webhookEndpoint'),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String(),
  description: Nullable(Type.String()),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  disabled_reason: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
})

/** The endpoint as created or rotated: the only answers that show its secret. */
export const WebhookEndpointWithSecret = Type.Object({ ...WebhookEndpoint.properties, secret: Type.String({ description: 'whsec_…; shown only now.' }) })

export const WebhookEvent = Type.Object({
  id: IdOf('event'),
  object: Type.Literal('event'),
  type: Type.String(),
  payment_intent_id: Nullable(Type.String()),
  data: Type.Any({ description: 'The webhook body as delivered: {type, timestamp, data}.' }),
  created_at: Timestamp,
})

export const DeliveryAttempt = Type.Object({
  attempt: Type.Integer(),
  attempted_at: Timestamp,
  status_code: Nullable(Type.Integer()),
  duration_ms: Type.Integer(),
  error: Nullable(Type.String()),
})

export const Delivery = Type.Object({
  id: Type.String(),
  object: Type.Literal('delivery'),
  event_id: IdOf('event'),
  endpoint_id: IdOf('webhookEndpoint'),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  next_attempt_at: Nullable(Timestamp),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  attempt_log: Type.Array(DeliveryAttempt),
  created_at: Timestamp,
  updated_at: Timestamp,
})

/** The answer to a redelivery: how many deliveries of the event were queued. */
export const Redelivery = Type.Object({ event_id: Type.String(), deliveries_queued: Type.Integer() })
