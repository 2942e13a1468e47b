/** The public JSON of a saved card. */
import type { SavedCard } from '../../domain/cards/saved-cards.js'

export const cardJson = (c: SavedCard) => ({
  id: c.id,
  object: 'card' as const,
  user_id: c.userId,
  card_processing_id: c.accountId,
  brand: c.brand,
  last4: c.last4,
  exp_month: c.expMonth,
  exp_year: c.expYear,
  created_at: c.createdAt.toISOString(),
})
