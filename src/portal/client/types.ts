/**
 * The API's objects as the portal reads them: the server's own schemas (src/http/schemas),
 * imported as types only, so nothing of the server reaches the bundle and a change of
 * the public contract shows here at typecheck.
 */
import type { Static } from 'typebox'
import type { Delivery as DeliverySchema, PaymentIntent as IntentSchema, Refund as RefundSchema, WebhookEndpoint as EndpointSchema, WebhookEvent as EventSchema, CardProcessingAccount as AccountSchema } from '../../http/schemas/objects.js'
import type { Api } from './api.js'
import type { Formats } from './format.js'
import type { PortalStrings } from '../i18n.js'
import type { PortalSession } from './session.js'

export type Intent = Static<typeof IntentSchema>
export type Refund = Static<typeof RefundSchema>
export type Endpoint = Static<typeof EndpointSchema>
export type WebhookEvent = Static<typeof EventSchema>
export type Delivery = Static<typeof DeliverySchema>
export type Account = Static<typeof AccountSchema>

/** One bucket of GET /v1/platform/payment-stats. */
export interface StatsBucket {
  start: string
  succeeded: number
  failed: number
  amount_collected: string
}

export interface Stats {
  currency: string
  granularity: 'hour' | 'day'
  from: string
  to: string
  buckets: StatsBucket[]
  succeeded: number
  failed: number
  amount_collected: string
  success_rate: number | null
}

/** One line of GET /v1/platform/payment-intents/{id}/timeline; each kind may carry more. */
export interface TimelineItem {
  at: string
  kind: string
  [more: string]: unknown
}

/** A screen's address: `#/payments/pi_…?status=failed` is path ['payments', 'pi_…'] and that query. */
export interface Route {
  path: string[]
  query: URLSearchParams
}

/** What every screen is given. */
export interface Ctx {
  api: Api
  t: PortalStrings
  fmt: Formats
  session: PortalSession
  /** Whether the session's scopes include `scope` (what it cannot do, it does not show). */
  can(scope: string): boolean
  /** Where the screen draws. */
  main: HTMLElement
  /** Goes to a screen (`#/…`). */
  go(hash: string): void
}
