/** What the payment services take and answer, in the core's own terms (presented by src/http/presenters/payments.ts). */
import type { CardFields } from '../cards/checks.js'
import type { SavedCard } from '../cards/saved-cards.js'
import type { Challenge, Redirect } from '../../processors/card-processor.js'
import type { PaymentIntent } from './intents.js'

export interface MintInput {
  user_id: string
  amount: number | string
  currency?: string
  card_processing_id?: string
}

export interface MintedLink {
  paymentIntentId: string
  payUrl: string
  /** ISO 8601, as written. */
  expiresAt: string
}

/** What a link opens to, before anything is rendered. */
export interface LinkView {
  tenantId: string
  tenantName: string
  allowedOrigins: string[]
  allowTopLevel: boolean
  intent: PaymentIntent
  claimed: boolean
  processor: string
}

export type OpenResult =
  | { state: 'not_found' }
  | { state: 'expired'; link: LinkView }
  | { state: 'used'; link: LinkView }
  | { state: 'top_level'; link: LinkView }
  | { state: 'preview'; link: LinkView }
  | { state: 'ready'; link: LinkView; sessionSecret: string; savedCards: SavedCard[] }

/** Where a return from the processor's 3-D Secure left the payment. */
export type ReturnResult =
  | { state: 'not_found' }
  /** The state value is wrong or was used already. */
  | { state: 'used'; link: LinkView }
  | { state: 'expired'; link: LinkView }
  | { state: 'returned'; link: LinkView; confirmation: Confirmation }

/** How the browser asked for the page, from Fetch Metadata. */
export type LoadKind = 'frame' | 'document' | 'prefetch' | 'other'

export type ConfirmInput = { card: CardFields; save_card?: boolean } | { saved_card_id: string }

/**
 * Where a confirmation (or a challenge's answer) left the payment: the intent as it now
 * is, and, while the cardholder must authenticate, what to show them.
 */
export interface Confirmation {
  intent: PaymentIntent
  challenge?: { prompt: Challenge; card: { brand: string; last4: string }; savedCardId: string | null }
  /** Where the frame goes for the processor's 3-D Secure. */
  redirect?: Redirect
}
