/** /v1/platform/card-processing/users/{user_id}: a user's card-processing accounts and enrolment. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { toCurrency } from '../../domain/shared/currencies.js'
import { invalid } from '../../domain/shared/errors.js'
import type { AccountId, UserId } from '../../domain/shared/ids.js'
import { tenantOf } from '../plugins/auth.js'
import { ok } from '../plugins/envelope.js'
import { Envelope, IdOf, errorResponses } from '../schemas/common.js'
import { CardProcessingAccount } from '../schemas/objects.js'
import { userAccountJson } from '../presenters/index.js'

// A user id in the path is any string (an unknown one is not found); the lookups check it.
const Params = Type.Object({ user_id: Type.String({ maxLength: 80 }) })

export function cardProcessingRoutes(app: App, { cardProcessing }: Uses<'cardProcessing'>) {
  app.get(
    '/v1/platform/card-processing/users/:user_id',
    {
      config: { scope: 'payments:read' },
      schema: {
        operationId: 'listUserCardProcessingAccounts',
        summary: "List a user's card-processing accounts",
        description:
          'Approved accounts first, in the order that picks the default. `is_default` marks the account a payment link uses when it names none, for `currency` (default USD). Credentials are never shown.',
        tags: ['card-processing'],
        params: Params,
        querystring: Type.Object({ currency: Type.Optional(Type.String({ minLength: 3, maxLength: 3 })) }, { additionalProperties: false }),
        response: { 200: Envelope(Type.Array(CardProcessingAccount)), ...errorResponses },
      },
    },
    async (request) => {
      const currency = toCurrency(request.query.currency ?? 'USD')
      if (!currency) throw invalid('currency', 'must be a current ISO 4217 currency code')
      const accounts = await cardProcessing.listForUser(tenantOf(request), request.params.user_id as UserId, currency)
      return ok(request, accounts.map(userAccountJson))
    },
  )

  app.post(
    '/v1/platform/card-processing/users/:user_id',
    {
      config: { scope: 'payments:write' },
      schema: {
        operationId: 'enrolUserInCardProcessingAccount',
        summary: 'Enrol a user in a card-processing account',
        description: 'Sandbox accounts approve at once; others stay `pending` until the operator approves. Enrolling again changes nothing (200).',
        tags: ['card-processing'],
        params: Params,
        body: Type.Object({ card_processing_id: IdOf('account') }, { additionalProperties: false }),
        response: { 200: Envelope(CardProcessingAccount), 201: Envelope(CardProcessingAccount), ...errorResponses },
      },
    },
    async (request, reply) => {
      const tenantId = tenantOf(request)
      const userId = request.params.user_id as UserId
      const accountId = request.body.card_processing_id as AccountId
      const { created } = await cardProcessing.enrol(tenantId, userId, accountId)
      const accounts = await cardProcessing.listForUser(tenantId, userId, toCurrency('USD')!)
      const account = accounts.find((a) => a.id === accountId)!
      return reply.code(created ? 201 : 200).send(ok(request, userAccountJson(account)))
    },
  )
}
