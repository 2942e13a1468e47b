/** The public contract of the tenant portal's access and of what its screens read (SPEC "Tenant portal"). */
import { Type } from 'typebox'
import { Timestamp } from './common.js'
import { PORTAL_TTL } from '../../domain/portal/service.js'
import { TIMELINE_KINDS } from '../../domain/portal/insights.js'

export const PortalSessionsBody = Type.Object(
  {
    expires_in: Type.Optional(
      Type.Integer({
        minimum: PORTAL_TTL.min,
        maximum: PORTAL_TTL.max,
        default: PORTAL_TTL.default,
        description: `Seconds the link, and the portal session it opens, live: ${PORTAL_TTL.min}–${PORTAL_TTL.max} (default ${PORTAL_TTL.default}).`,
      }),
    ),
  },
  { additionalProperties: false },
)

export const PortalLink = Type.Object(
  {
    url: Type.String({ description: 'PUBLIC_BASE_URL/portal/<token>: opens the portal once. Give it to one person; it is a credential until used or expired.' }),
    expires_at: { ...Timestamp, description: 'The link, and the session it opens, end then.' },
  },
  { additionalProperties: false },
)

export const PortalExchangeBody = Type.Object(
  { token: Type.String({ maxLength: 200, description: 'The last segment of the portal link (`plk_…`).' }) },
  { additionalProperties: false },
)

export const PortalSession = Type.Object(
  {
    secret: Type.String({ description: '`pps_…`: send as `Authorization: Bearer <secret>` to the /v1/platform routes, until `expires_at`. Shown only now.' }),
    expires_at: Timestamp,
    tenant: Type.Object({ id: Type.String(), name: Type.String() }, { additionalProperties: false }),
    scopes: Type.Array(Type.String(), { description: 'What the session may do: the scopes of the client that made the link.' }),
  },
  { additionalProperties: false },
)

export const StatsQuery = Type.Object(
  {
    currency: Type.String({ minLength: 3, maxLength: 3, description: 'ISO 4217 code, any case.' }),
    granularity: Type.Optional(Type.Union([Type.Literal('hour'), Type.Literal('day')], { default: 'hour', description: '`hour`: the last 48 hours; `day`: the last 30 days (UTC).' })),
  },
  { additionalProperties: false },
)

const Decimal = Type.String({ description: 'Major units of the currency, as a decimal string.' })

export const PaymentStats = Type.Object(
  {
    currency: Type.String(),
    granularity: Type.Union([Type.Literal('hour'), Type.Literal('day')]),
    from: { ...Timestamp, description: 'Start of the first bucket.' },
    to: { ...Timestamp, description: 'End of the last bucket (the end of the current hour or day).' },
    buckets: Type.Array(
      Type.Object({ start: Timestamp, succeeded: Type.Integer(), failed: Type.Integer(), amount_collected: Decimal }, { additionalProperties: false }),
    ),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    amount_collected: Decimal,
    success_rate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'succeeded / (succeeded + failed); null when there was neither.' }),
  },
  { additionalProperties: false },
)

export const TimelineKind = Type.Union([
  Type.Literal('minted'),
  Type.Literal('page_opened'),
  Type.Literal('confirmed'),
  Type.Literal('action_required'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('expired'),
  Type.Literal('refund_created'),
  Type.Literal('refund_succeeded'),
  Type.Literal('refund_failed'),
  Type.Literal('event'),
] satisfies { [I in keyof typeof TIMELINE_KINDS]: unknown })

export const Timeline = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          at: Timestamp,
          kind: TimelineKind,
          failure_code: Type.Optional(Type.Union([Type.String(), Type.Null()])),
          refund_id: Type.Optional(Type.String()),
          amount: Type.Optional(Decimal),
          event_id: Type.Optional(Type.String()),
          type: Type.Optional(Type.String({ description: 'The event type (`payment_intent.succeeded`, …).' })),
        },
        { additionalProperties: false },
      ),
      { description: 'Oldest first.' },
    ),
  },
  { additionalProperties: false },
)
