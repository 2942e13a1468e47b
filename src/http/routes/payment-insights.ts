/**
 * What the tenant portal's screens read beyond the listings (src/domain/portal/insights.ts),
 * as API routes any tenant client may call with `payments:read`:
 * GET /v1/platform/payment-stats and GET /v1/platform/payment-intents/{id}/timeline.
 */
import type { App, Uses } from '../types.js'
import { tenantOf } from '../plugins/auth.js'
import { ok } from '../plugins/envelope.js'
import { PaymentStats, StatsQuery, Timeline } from '../schemas/portal.js'
import { paymentStatsJson, timelineJson } from '../presenters/index.js'
import { answers, idParam, operation } from './operation.js'

export function paymentInsightRoutes(app: App, { insights }: Uses<'insights'>) {
  app.get(
    '/v1/platform/payment-stats',
    operation(
      'payments:read',
      [
        'getPaymentStats',
        'Payments per hour or per day, at a glance',
        'payments',
        'Final payment intents in one currency, counted by status (`succeeded`, `failed`; an expired link is failed) in the UTC hour (last 48) or day (last 30) of their `created_at`, every bucket present. `amount_collected` sums the succeeded amounts (refunds not deducted); `success_rate` is succeeded / (succeeded + failed), null when both are 0.',
      ],
      { querystring: StatsQuery },
      answers(PaymentStats),
    ),
    async (request) => ok(request, paymentStatsJson(await insights.stats(tenantOf(request), { currency: request.query.currency, granularity: request.query.granularity ?? 'hour' }))),
  )

  app.get(
    '/v1/platform/payment-intents/:payment_intent_id/timeline',
    operation(
      'payments:read',
      [
        'getPaymentIntentTimeline',
        'What happened to a payment, in order',
        'payments',
        'Minted, page opened, confirmed, 3-D Secure asked, the outcome (`succeeded`, `failed` with its failure_code, or `expired`), each refund (created, succeeded or failed) and each webhook event written for it, oldest first.',
      ],
      { params: idParam('payment_intent_id') },
      answers(Timeline),
    ),
    async (request) => {
      const { intent, items } = await insights.timeline(tenantOf(request), request.params.payment_intent_id)
      return ok(request, timelineJson(items, intent.currency))
    },
  )
}
