/** /v1/platform/users/{user_id}/cards: a user's saved cards. Deleting one makes it unchargeable. */
import { Type } from 'typebox'
import type { App, Services } from '../../app.js'
import type { SavedCard } from '../../domain/cards/saved-cards.js'
import { tenantOf } from '../plugins/auth.js'
import { ok } from '../plugins/envelope.js'
import { Envelope, IdOf, Timestamp, errorResponses } from '../schemas/common.js'

const Card = Type.Object(
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

const cardJson = (c: SavedCard) => ({
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

export function cardRoutes(app: App, { savedCards }: Services) {
  app.get(
    '/v1/platform/users/:user_id/cards',
    {
      config: { scope: 'users:read' },
      schema: {
        operationId: 'listSavedCards',
        summary: "List a user's saved cards",
        tags: ['cards'],
        params: Type.Object({ user_id: Type.String({ maxLength: 80 }) }),
        response: { 200: Envelope(Type.Array(Card)), ...errorResponses },
      },
    },
    async (request) => ok(request, (await savedCards.listForUser(tenantOf(request), request.params.user_id)).map(cardJson)),
  )

  app.delete(
    '/v1/platform/users/:user_id/cards/:card_id',
    {
      config: { scope: 'users:write' },
      schema: {
        operationId: 'deleteSavedCard',
        summary: 'Delete a saved card',
        description: 'The card is no longer shown on the payment page and can no longer be charged.',
        tags: ['cards'],
        params: Type.Object({ user_id: Type.String({ maxLength: 80 }), card_id: Type.String({ maxLength: 80 }) }),
        response: { 200: Envelope(Card), ...errorResponses },
      },
    },
    async (request) => ok(request, cardJson(await savedCards.delete(tenantOf(request), request.params.user_id, request.params.card_id))),
  )
}
