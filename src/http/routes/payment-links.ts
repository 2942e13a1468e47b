/** POST /v1/platform/card/payment-link — the seed endpoint. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { KEY_PATTERN, requestHash } from '../idempotency.js'
import { invalid } from '../../domain/shared/errors.js'
import { tenantOf } from '../plugins/auth.js'
import { ok } from '../plugins/envelope.js'
import { Envelope, IdOf, errorResponses, rateLimited } from '../schemas/common.js'
import { PaymentLink } from '../schemas/objects.js'
import { paymentLinkJson } from '../presenters/index.js'
import { RULES } from '../plugins/rate-limit.js'

const MintBody = Type.Object(
  {
    user_id: IdOf('user', 'The end user who will pay. Must be one of your users.'),
    amount: Type.Union([Type.Number(), Type.String({ maxLength: 40 })], {
      description:
        'Amount to charge, in major units (e.g. 12.50), as a JSON number or a decimal string. Greater than 0, with no more fraction digits than the currency has (USD 2, JPY 0, KWD 3), at most 999,999,999.99 USD (99,999,999,999 minor units). The authoritative figure charged.',
    }),
    currency: Type.Optional(Type.String({ minLength: 3, maxLength: 3, description: 'ISO 4217 code, any case. Defaults to USD.' })),
    card_processing_id: Type.Optional(IdOf('account', 'Pins the charge to one approved card-processing account. Omit to use the default.')),
  },
  { additionalProperties: false, description: 'Request body for POST /v1/platform/card/payment-link.' },
)

export function paymentLinkRoutes(app: App, { payments, idempotency, limiter, metrics }: Uses<'payments' | 'idempotency' | 'limiter' | 'metrics'>) {
  app.post(
    '/v1/platform/card/payment-link',
    {
      config: { scope: 'payments:write' },
      schema: {
        operationId: 'createPaymentLink',
        summary: 'Get a link for the user to pay by card',
        description:
          'Mints a one-time hosted card-payment page for the end user. The payment intent is created at once as `pending` and appears in the listings; it becomes `succeeded` or `failed` when the user pays (webhooks `payment_intent.succeeded` / `payment_intent.failed`). `pay_url` works once and expires at `expires_at` (10 minutes by default). Send an `Idempotency-Key` to retry safely: the same key and body give the same answer for 24 hours.',
        tags: ['payments'],
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: '1–255 printable ASCII characters.' })) }),
        body: MintBody,
        response: { 201: Envelope(PaymentLink), ...rateLimited, ...errorResponses },
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key']
      if (key !== undefined && !KEY_PATTERN.test(key)) throw invalid('Idempotency-Key', 'must be 1 to 255 printable ASCII characters')
      const tenantId = tenantOf(request)
      await limiter.check(RULES.mintPerTenant, tenantId)
      const stop = metrics.mintDuration.startTimer()
      const order = payments.checkMint(request.body)
      const answer = key
        ? await idempotency.run({ tenantId, key, requestHash: requestHash('payment-link', order) }, async (tx) => ({
            status: 201,
            body: paymentLinkJson(await payments.mint(tenantId, order, tx)),
          }))
        : { status: 201, body: paymentLinkJson(await payments.mint(tenantId, order)), replayed: false }
      stop()
      metrics.linksMinted.inc({ result: answer.replayed ? 'replayed' : 'created' })
      if (answer.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(answer.status).send(ok(request, answer.body))
    },
  )
}
