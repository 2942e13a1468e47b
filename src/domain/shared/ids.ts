/**
 * Opaque, prefixed identifiers of 24 base32 characters, never guessable. The brand keeps a
 * user id from being passed where a payment intent id is expected.
 *
 * Most kinds are 120 random bits. The kinds written on every payment (payment intents,
 * their events, refunds) are time-ordered: 10 characters of the creation time in
 * milliseconds, then 14 random ones (70 bits). Their rows then land at the right end of the
 * primary key's index (one hot page, instead of a random page per insert that must be read
 * and, after each checkpoint, written whole to the WAL); the time they show is no secret
 * (`created_at` says it), and 70 random bits per millisecond still make them unguessable.
 * Nothing may read meaning into an id: listings order by `created_at`, and older ids are random.
 */
import { randomBase32, randomUuidHex, timeBase32 } from './random.js'

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
export const newId = <K extends IdKind>(kind: K): Id<K> =>
  (PREFIXES[kind] + (kind === 'delivery' ? randomUuidHex() : TIME_ORDERED.has(kind) ? timeBase32(Date.now()) + randomBase32(14) : randomBase32(24))) as Id<K>

const TIME_ORDERED: ReadonlySet<IdKind> = new Set(['paymentIntent', 'event', 'refund'])

/** A pattern for an id of this kind, for request schemas. */
export const idPattern = (kind: IdKind) => `^${PREFIXES[kind]}[0-9a-z]{1,64}$`
