/** /v1/platform/users/{user_id}/cards: a user's saved cards. Deleting one makes it unchargeable. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import type { CardId, UserId } from '../../domain/shared/ids.js'
import { tenantOf } from '../plugins/auth.js'
import { ok } from '../plugins/envelope.js'
import { cardJson } from '../presenters/index.js'
import { Envelope, errorResponses } from '../schemas/common.js'
import { Card } from '../schemas/objects.js'

export function cardRoutes(app: App, { savedCards }: Uses<'savedCards'>) {
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
    async (request) => ok(request, (await savedCards.listForUser(tenantOf(request), request.params.user_id as UserId)).map(cardJson)),
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
    async (request) => ok(request, cardJson(await savedCards.delete(tenantOf(request), request.params.user_id as UserId, request.params.card_id as CardId))),
  )
}
