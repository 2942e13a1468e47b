/**
 * Refunds (SPEC "Refunds"): POST /v1/platform/payment-intents/{id}/refunds, its listing, and
 * GET /v1/platform/refunds/{id}. An Idempotency-Key works as for minting: the refund is
 * reserved in the key's transaction, so a retry finds the same refund (shown as it is now).
 */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { KEY_PATTERN, requestHash } from '../idempotency.js'
import { invalid } from '../../domain/shared/errors.js'
import type { RefundId } from '../../domain/shared/ids.js'
import { canonicalDecimal } from '../../domain/shared/money.js'
import { tenantOf } from '../plugins/auth.js'
import { ok, pageFrom, withLimit } from '../plugins/envelope.js'
import { answers, answersPage, idParam, listQuery, operation } from './operation.js'
import { Refund } from '../schemas/objects.js'
import { refundJson } from '../presenters/index.js'
import { REFUND_REASONS } from '../../domain/payments/refunds.js'

const RefundBody = Type.Object(
  {
    amount: Type.Optional(
      Type.Union([Type.Number(), Type.String({ maxLength: 40 })], {
        description: 'A part to refund, in major units of the intent’s currency (same rules as minting). Omit to refund all that is left.',
      }),
    ),
    reason: Type.Optional(Type.Union(REFUND_REASONS.map((r) => Type.Literal(r)))),
  },
  { additionalProperties: false },
)

const CREATE = [
  'createRefund',
  'Refund a payment, in full or in part',
  'payments',
  'Only a `succeeded` payment intent; the refunds of one intent never add up to more than its amount (`refund_exceeds_amount` names what is left). Answers the refund as it is after asking the processor: `succeeded` or `failed` at once for the sandbox and Stripe, `pending` until its webhook for Adyen. Webhooks `refund.succeeded` / `refund.failed` follow. Send an `Idempotency-Key` to retry safely.',
] as const

export function refundRoutes(app: App, { refunds, idempotency }: Uses<'refunds' | 'idempotency'>) {
  app.post(
    '/v1/platform/payment-intents/:payment_intent_id/refunds',
    operation(
      'payments:write',
      CREATE,
      {
        params: idParam('payment_intent_id'),
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: '1–255 printable ASCII characters.' })) }),
        body: RefundBody,
      },
      answers(Refund, 201),
    ),
    async (request, reply) => {
      const key = request.headers['idempotency-key']
      if (key !== undefined && !KEY_PATTERN.test(key)) throw invalid('Idempotency-Key', 'must be 1 to 255 printable ASCII characters')
      const tenantId = tenantOf(request)
      const intentId = request.params.payment_intent_id
      const reserved = key
        ? await idempotency.run({ tenantId, key, requestHash: requestHash(`refund:${intentId}`, { ...request.body, amount: canonicalDecimal(request.body.amount) }) }, async (tx) => ({
            status: 201,
            body: refundJson(await refunds.reserve(tenantId, intentId, request.body, tx)),
          }))
        : { status: 201, body: refundJson(await refunds.reserve(tenantId, intentId, request.body)), replayed: false }
      // A retry answers the refund as it is now; the first asks the processor.
      const id = reserved.body.id as RefundId
      const refund = reserved.replayed ? await refunds.get(tenantId, id) : await refunds.send(tenantId, id)
      if (reserved.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(reserved.status).send(ok(request, refundJson(refund)))
    },
  )

  app.get(
    '/v1/platform/payment-intents/:payment_intent_id/refunds',
    operation('payments:read', ['listRefunds', "List a payment intent's refunds, newest first", 'payments'], { params: idParam('payment_intent_id'), querystring: listQuery() }, answersPage(Refund)),
    async (request) => pageFrom(request, await refunds.listForIntent(tenantOf(request), request.params.payment_intent_id, withLimit(request.query)), refundJson),
  )

  app.get(
    '/v1/platform/refunds/:refund_id',
    operation('payments:read', ['getRefund', 'Get a refund', 'payments'], { params: idParam('refund_id') }, answers(Refund)),
    async (request) => ok(request, refundJson(await refunds.get(tenantOf(request), request.params.refund_id))),
  )
}
