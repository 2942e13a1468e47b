/** The public objects, as the API renders them. */
import { Type, type Static } from 'typebox'
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

export const Tenant = Type.Object({
  id: IdOf('tenant'),
  object: Type.Literal('tenant'),
  name: Type.String(),
  allowed_origins: Type.Array(Type.String()),
  allow_top_level: Type.Boolean(),
  created_at: Timestamp,
})

/** A tenant just made, with its first OAuth client. */
export const CreatedTenant = Type.Object({
  tenant: Tenant,
  tenant_id: IdOf('tenant'),
  client_id: Type.String(),
  client_secret: Type.String({ description: 'Shown once.' }),
})

/** An OAuth client just made: the only answer that shows its secret. */
export const CreatedClient = Type.Object({
  client_id: Type.String(),
  client_secret: Type.String({ description: 'Shown once.' }),
  tenant_id: Type.Union([Type.String(), Type.Null()]),
  scopes: Type.Array(Type.String()),
})

export const RevokedClient = Type.Object({ client_id: Type.String(), revoked: Type.Literal(true) })

/*
 * A card-processing account is one object (`card_processing_account`, one `card_processing_id`)
 * seen from two sides, so both views carry its name and the fields they share are the same:
 * the operator sees its configuration (`tenant_id`, `priority`), a tenant sees it through one
 * user's enrolment (`status`, `is_default`). Neither view can be a superset of the other: an
 * account has no enrolment status outside a user, and the tenant's answers never carried the
 * operator's fields.
 */

/** A card-processing account as one user of the tenant has it. */
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

/** A card-processing account as the operator sees it (/v1/admin). */
export const AdminCardProcessingAccount = Type.Object({
  card_processing_id: IdOf('account'),
  object: Type.Literal('card_processing_account'),
  tenant_id: IdOf('tenant'),
  name: Type.String(),
  processor: Type.String(),
  currencies: Type.Array(Type.String()),
  priority: Type.Integer(),
  created_at: Timestamp,
})

/** A user's enrolment in an account, as the operator's approval leaves it. */
export const EnrolmentApproval = Type.Object({
  tenant_id: Type.String(),
  user_id: Type.String(),
  card_processing_id: Type.String(),
  status: Type.String(),
  approved_at: Timestamp,
})

/** The token endpoint's answer (RFC 6749 §5.1). */
export const AccessToken = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
})

/** The token endpoint's errors (RFC 6749 §5.2), outside the envelope. */
export const OAuthErrorBody = Type.Object({ error: Type.String(), error_description: Type.Optional(Type.String()) })

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
  Type.Literal('incorrect_number'),
  Type.Literal('lost_or_stolen'),
  Type.Literal('fraudulent'),
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
    amount_refunded: Type.String({ description: 'What succeeded refunds gave back, in major units like `amount`.' }),
    amount_refunded_minor: Type.Integer(),
    processor_code: Nullable(Type.String({ description: 'The processor’s own decline or error code, as it gave it (for support; the shopper sees only the plain reason).' })),
    processor_message: Nullable(Type.String({ description: 'The processor’s own message for `processor_code`.' })),
    card: Nullable(CardSummary),
    saved_card_id: Nullable(Type.String()),
    expires_at: Timestamp,
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { additionalProperties: false },
)

export const Refund = Type.Object(
  {
    id: IdOf('refund'),
    object: Type.Literal('refund'),
    payment_intent_id: IdOf('paymentIntent'),
    amount: Type.String({ description: 'Major units as a decimal string with the currency’s digits.' }),
    amount_minor: Type.Integer(),
    currency: Type.String(),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')], {
      description: '`pending` until the processor says (at once for the sandbox and Stripe; by webhook for Adyen).',
    }),
    failure_code: Nullable(FailureCode),
    reason: Nullable(Type.Union([Type.Literal('requested_by_customer'), Type.Literal('duplicate'), Type.Literal('fraudulent')])),
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

/** The page's answer to a confirmation or a 3-D Secure answer (POST /pay/{token}/confirm and /challenge). */
export const PaymentResult = Type.Object(
  {
    payment_intent_id: Type.String(),
    status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('requires_authentication'), Type.Literal('processing')]),
    failure_code: Type.Union([Type.String(), Type.Null()]),
    failure_message: Type.Union([Type.String(), Type.Null()]),
    challenge: Type.Optional(Type.Object({ id: Type.String(), prompt: Type.String() })),
    redirect: Type.Optional(
      Type.Object(
        { url: Type.String(), method: Type.Union([Type.Literal('GET'), Type.Literal('POST')]) },
        { description: '3-D Secure at the processor: the frame goes to `url` (GET), or posts to /pay/{token}/redirect, which sends the processor’s form (POST).' },
      ),
    ),
    card: Type.Union([Type.Object({ brand: Type.String(), last4: Type.String() }), Type.Null()]),
    saved_card_id: Type.Union([Type.String(), Type.Null()]),
  },
)
/** The page's script imports this type too (type only: nothing of the server reaches its bundle). */
export type PaymentResult = Static<typeof PaymentResult>

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
