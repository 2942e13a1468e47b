/**
 * Opaque, random, prefixed identifiers. 24 base32 characters carry 120 random bits:
 * never sequential, never guessable. The brand keeps a user id from being passed where
 * a payment intent id is expected.
 */
import { randomBase32, randomUuidHex } from './random.js'

export const PREFIXES = {
  tenant: 'ten_',
  user: 'usr_',
  account: 'cpa_',
  paymentIntent: 'pi_',
  card: 'card_',
  event: 'evt_',
  webhookEndpoint: 'we_',
  delivery: 'dlv_',
  attempt: 'att_',
  request: 'req_',
  client: 'cli_',
  key: 'key_',
  refund: 're_',
  portalSession: 'psn_',
} as const

export type IdKind = keyof typeof PREFIXES
export type Id<K extends IdKind> = string & { readonly __id: K }

export type TenantId = Id<'tenant'>
export type UserId = Id<'user'>
export type AccountId = Id<'account'>
export type PaymentIntentId = Id<'paymentIntent'>
export type ClientId = Id<'client'>

export type CardId = Id<'card'>
export type EventId = Id<'event'>
export type WebhookEndpointId = Id<'webhookEndpoint'>
export type DeliveryId = Id<'delivery'>
export type RefundId = Id<'refund'>

/**
 * A new id of this kind. Delivery ids keep the form clients have seen since the database
 * made them: `dlv_` and a random UUID's 32 hex digits.
 */
export const newId = <K extends IdKind>(kind: K): Id<K> => (PREFIXES[kind] + (kind === 'delivery' ? randomUuidHex() : randomBase32(24))) as Id<K>

/** A pattern for an id of this kind, for request schemas. */
export const idPattern = (kind: IdKind) => `^${PREFIXES[kind]}[0-9a-z]{1,64}$`
