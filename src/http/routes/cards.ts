/** /v1/platform/users/{user_id}/cards: a user's saved cards. Deleting one makes it unchargeable. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import type { CardId, UserId } from '../../domain/shared/ids.js'
import { tenantOf } from '../plugins/auth.js'
import { ok } from '../plugins/envelope.js'
import { cardJson } from '../presenters/index.js'
import { answers, answersList, idParam, operation } from './operation.js'
import { Card } from '../schemas/objects.js'

export function cardRoutes(app: App, { savedCards }: Uses<'savedCards'>) {
  app.get(
    '/v1/platform/users/:user_id/cards',
    operation('users:read', ['listSavedCards', "List a user's saved cards", 'cards'], { params: idParam('user_id') }, answersList(Card)),
    async (request) => ok(request, (await savedCards.listForUser(tenantOf(request), request.params.user_id as UserId)).map(cardJson)),
  )

  app.delete(
    '/v1/platform/users/:user_id/cards/:card_id',
    operation(
      'users:write',
      ['deleteSavedCard', 'Delete a saved card', 'cards', 'The card is no longer shown on the payment page and can no longer be charged.'],
      { params: Type.Object({ user_id: Type.String({ maxLength: 80 }), card_id: Type.String({ maxLength: 80 }) }) },
      answers(Card),
    ),
    async (request) => ok(request, cardJson(await savedCards.delete(tenantOf(request), request.params.user_id as UserId, request.params.card_id as CardId))),
  )
}
