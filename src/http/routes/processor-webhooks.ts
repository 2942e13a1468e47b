/**
 * POST /processor-webhooks/{card_processing_id}: where a card processor tells paylink what
 * happened (SPEC "Card processors"). Register this URL at the processor for the account
 * (README "Connecting Stripe and Adyen"). The body is read raw — the signature covers its
 * exact bytes — and handed to the account's adapter; a bad signature is a 400 and changes
 * nothing. The answer is what the processor expects: the envelope, or Adyen's `[accepted]`.
 */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { ok } from '../plugins/envelope.js'
import { Envelope, errorResponses } from '../schemas/common.js'

export function processorWebhookRoutes(app: App, { processorEvents }: Uses<'processorEvents'>) {
  void app.register(async (scope) => {
    // Only here: every body is kept as bytes for the signature (this scope's parsers replace the app's).
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) => done(null, body))
    scope.post(
      '/processor-webhooks/:card_processing_id',
      {
        schema: {
          operationId: 'receiveProcessorWebhook',
          summary: 'A card processor’s webhook for one account',
          description: 'For Stripe and Adyen to call, not for tenants. Verified with the account’s webhook secret (Stripe-Signature, or Adyen’s HMAC per item); each event is applied once.',
          tags: ['processors'],
          params: Type.Object({ card_processing_id: Type.String({ maxLength: 80 }) }),
          response: { 200: Envelope(Type.Object({ received: Type.Boolean(), applied: Type.Integer() })), ...errorResponses },
        },
      },
      async (request, reply) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
        const { card_processing_id: accountId } = request.params as { card_processing_id: string }
        const result = await processorEvents.receive(accountId, raw, request.headers)
        if (result.ack) return reply.type(result.ack.contentType).send(result.ack.body)
        return ok(request, { received: true, applied: result.applied })
      },
    )
  })
}
