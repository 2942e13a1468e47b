/** /v1/platform/payment-intents: the record of every payment, for tracking and reconciling. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { tenantOf } from '../plugins/auth.js'
import { ok, pageFrom, withLimit } from '../plugins/envelope.js'
import { Timestamp } from '../schemas/common.js'
import { answers, answersPage, idParam, listQuery, operation } from './operation.js'
import { PaymentIntent, PaymentIntentStatus } from '../schemas/objects.js'
import { intentJson } from '../presenters/index.js'

export function paymentIntentRoutes(app: App, { payments }: Uses<'payments'>) {
  const IntentFilters = {
    user_id: Type.Optional(Type.String({ maxLength: 80 })),
    status: Type.Optional(PaymentIntentStatus),
    created_gte: Type.Optional({ ...Timestamp, description: 'Created at or after this time (RFC 3339).' }),
    created_lt: Type.Optional({ ...Timestamp, description: 'Created before this time (RFC 3339).' }),
    currency: Type.Optional(Type.String({ minLength: 3, maxLength: 3, description: 'ISO 4217 code, any case: only intents in this currency. Required with an amount filter.' })),
    amount_gte: Type.Optional(Type.String({ maxLength: 40, description: 'Amount at least this, in major units of `currency` (a decimal string, e.g. 10.00), compared exactly.' })),
    amount_lte: Type.Optional(Type.String({ maxLength: 40, description: 'Amount at most this, in major units of `currency` (a decimal string), compared exactly.' })),
  }

  app.get(
    '/v1/platform/payment-intents',
    operation('payments:read', ['listPaymentIntents', 'List payment intents, newest first', 'payments'], { querystring: listQuery(IntentFilters) }, answersPage(PaymentIntent)),
    async (request) => pageFrom(request, await payments.list(tenantOf(request), withLimit(request.query)), intentJson),
  )

  app.get(
    '/v1/platform/payment-intents/:payment_intent_id',
    operation('payments:read', ['getPaymentIntent', 'Get a payment intent', 'payments'], { params: idParam('payment_intent_id') }, answers(PaymentIntent)),
    async (request) => ok(request, intentJson(await payments.get(tenantOf(request), request.params.payment_intent_id))),
  )
}
