/** /v1/platform/payment-intents: the record of every payment, for tracking and reconciling. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { tenantOf } from '../plugins/auth.js'
import { ok, page } from '../plugins/envelope.js'
import { Envelope, ListEnvelope, ListQuery, Timestamp, errorResponses } from '../schemas/common.js'
import { PaymentIntent, PaymentIntentStatus } from '../schemas/objects.js'
import { intentJson } from '../presenters/index.js'

export function paymentIntentRoutes(app: App, { payments }: Uses<'payments'>) {
  app.get(
    '/v1/platform/payment-intents',
    {
      config: { scope: 'payments:read' },
      schema: {
        operationId: 'listPaymentIntents',
        summary: 'List payment intents, newest first',
        tags: ['payments'],
        querystring: Type.Object(
          {
            ...ListQuery,
            user_id: Type.Optional(Type.String({ maxLength: 80 })),
            status: Type.Optional(PaymentIntentStatus),
            created_gte: Type.Optional({ ...Timestamp, description: 'Created at or after this time (RFC 3339).' }),
            created_lt: Type.Optional({ ...Timestamp, description: 'Created before this time (RFC 3339).' }),
          },
          { additionalProperties: false },
        ),
        response: { 200: ListEnvelope(PaymentIntent), ...errorResponses },
      },
    },
    async (request) => {
      const { items, pagination } = await payments.list(tenantOf(request), { ...request.query, limit: request.query.limit ?? 20 })
      return page(request, items.map(intentJson), pagination)
    },
  )

  app.get(
    '/v1/platform/payment-intents/:payment_intent_id',
    {
      config: { scope: 'payments:read' },
      schema: {
        operationId: 'getPaymentIntent',
        summary: 'Get a payment intent',
        tags: ['payments'],
        params: Type.Object({ payment_intent_id: Type.String({ maxLength: 80 }) }),
        response: { 200: Envelope(PaymentIntent), ...errorResponses },
      },
    },
    async (request) => ok(request, intentJson(await payments.get(tenantOf(request), request.params.payment_intent_id))),
  )
}
