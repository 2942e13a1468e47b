/**
 * What the portal's screens read beyond the API's listings: the at-a-glance figures and a
 * payment's timeline. Both are plain API routes (`GET /v1/platform/payment-stats`,
 * `GET /v1/platform/payment-intents/{id}/timeline`, scope `payments:read`), tenant-scoped
 * like every other read.
 *
 * **Figures.** An intent counts once, by its final status (`succeeded` or `failed`; an
 * expired link is a `failed` intent), in the bucket of its `created_at` — when the payer was
 * asked to pay, which is what a chart of "payments per hour" shows, and a time that never
 * moves, so a figure once shown does not change but for an intent of the range becoming
 * final. Pending and processing intents are not counted. `amount_collected` is the sum of
 * the succeeded intents' amounts (gross: refunds are not taken off). Buckets are UTC hours
 * (the last 48, ending with the current one) or UTC days (the last 30, ending today), every
 * one present, zeros included; the range ends at the end of the current bucket. The whole
 * answer is one aggregate statement (src/storage/repositories/portal.ts).
 *
 * **Timeline.** Built from what the database keeps: the intent's own moments (minted, the
 * page opened — the link's claim, confirmed, 3-D Secure asked, the outcome), each refund
 * (made, and succeeded or failed) and each webhook event written for the intent or its
 * refunds. paylink has no cancelation of a payment: an unpaid link expires (`expired`).
 * Intents finished before these moments were recorded show their outcome at their last
 * update, and no `confirmed` / `action_required` item.
 */
import type { Store } from '../../storage/store.js'
import type { IntentHappening, IntentMoments, StatsBucket } from '../../storage/repositories/portal.js'
import type { Clock } from '../shared/clock.js'
import { toCurrency, type CurrencyCode } from '../shared/currencies.js'
import { invalid, notFound } from '../shared/errors.js'
import type { TenantId } from '../shared/ids.js'
import type { PaymentService } from '../payments/service.js'
import type { PaymentIntent } from '../payments/intents.js'

export type Granularity = 'hour' | 'day'

const RANGES: Record<Granularity, { buckets: number; stepHours: number }> = {
  hour: { buckets: 48, stepHours: 1 },
  day: { buckets: 30, stepHours: 24 },
}

const HOUR_MS = 3_600_000

export interface PaymentStats {
  currency: CurrencyCode
  granularity: Granularity
  from: Date
  to: Date
  buckets: StatsBucket[]
  succeeded: number
  failed: number
  collectedMinor: number
  /** succeeded / (succeeded + failed), or null when there was neither. */
  successRate: number | null
}

export const TIMELINE_KINDS = [
  'minted',
  'page_opened',
  'confirmed',
  'action_required',
  'succeeded',
  'failed',
  'expired',
  'refund_created',
  'refund_succeeded',
  'refund_failed',
  'event',
] as const
export type TimelineKind = (typeof TIMELINE_KINDS)[number]

export interface TimelineItem {
  at: Date
  kind: TimelineKind
  failureCode?: string | null
  refundId?: string
  amountMinor?: number
  eventId?: string
  type?: string
}

/** Among items at the same instant, the order a payment lives them in. */
const KIND_ORDER: Record<TimelineKind, number> = {
  minted: 0,
  page_opened: 1,
  confirmed: 2,
  action_required: 3,
  succeeded: 4,
  failed: 4,
  expired: 4,
  refund_created: 5,
  refund_succeeded: 6,
  refund_failed: 6,
  event: 7,
}

export class PaymentInsights {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly payments: PaymentService,
  ) {}

  async stats(tenantId: TenantId, q: { currency: string; granularity: Granularity }): Promise<PaymentStats> {
    const currency = toCurrency(q.currency)
    if (!currency) throw invalid('currency', 'must be a current ISO 4217 currency code, such as USD')
    const { buckets: n, stepHours } = RANGES[q.granularity]
    const now = this.clock.now().getTime()
    const current = Math.floor(now / (stepHours * HOUR_MS)) * stepHours * HOUR_MS
    const to = new Date(current + stepHours * HOUR_MS)
    const from = new Date(current - (n - 1) * stepHours * HOUR_MS)
    const buckets = await this.store.portal.stats(tenantId, currency, { from, to, unit: q.granularity, stepHours })
    const succeeded = buckets.reduce((s, b) => s + b.succeeded, 0)
    const failed = buckets.reduce((s, b) => s + b.failed, 0)
    return {
      currency,
      granularity: q.granularity,
      from,
      to,
      buckets,
      succeeded,
      failed,
      collectedMinor: buckets.reduce((s, b) => s + b.collectedMinor, 0),
      successRate: succeeded + failed === 0 ? null : succeeded / (succeeded + failed),
    }
  }

  /** The intent (as `GET /v1/platform/payment-intents/{id}` shows it) and its timeline, oldest first. */
  async timeline(tenantId: TenantId, intentId: string): Promise<{ intent: PaymentIntent; items: TimelineItem[] }> {
    // Through the payments service: another tenant's id is not_found, and a link past its expiry expires now.
    const intent = await this.payments.get(tenantId, intentId)
    const [moments, happenings] = await Promise.all([this.store.portal.moments(tenantId, intent.id), this.store.portal.happenings(tenantId, intent.id)])
    if (!moments) throw notFound('payment intent')
    const items = [...intentItems(intent, moments), ...happenings.flatMap(happeningItems)]
    items.sort((a, b) => a.at.getTime() - b.at.getTime() || KIND_ORDER[a.kind] - KIND_ORDER[b.kind])
    return { intent, items }
  }
}

function intentItems(intent: PaymentIntent, m: IntentMoments): TimelineItem[] {
  const items: TimelineItem[] = [{ at: m.createdAt, kind: 'minted' }]
  if (m.pageOpenedAt) items.push({ at: m.pageOpenedAt, kind: 'page_opened' })
  if (m.confirmedAt) items.push({ at: m.confirmedAt, kind: 'confirmed' })
  if (m.actionRequiredAt) items.push({ at: m.actionRequiredAt, kind: 'action_required' })
  const finished = m.finishedAt ?? m.updatedAt
  if (intent.status === 'succeeded') items.push({ at: finished, kind: 'succeeded' })
  else if (intent.status === 'failed' && intent.failureCode === 'link_expired') items.push({ at: finished, kind: 'expired', failureCode: intent.failureCode })
  else if (intent.status === 'failed') items.push({ at: finished, kind: 'failed', failureCode: intent.failureCode })
  return items
}

function happeningItems(h: IntentHappening): TimelineItem[] {
  if (h.what === 'event') return [{ at: h.createdAt, kind: 'event', eventId: h.id, type: h.type }]
  const refund = { refundId: h.id, amountMinor: h.amountMinor }
  const items: TimelineItem[] = [{ at: h.createdAt, kind: 'refund_created', ...refund }]
  if (h.status === 'succeeded') items.push({ at: h.updatedAt, kind: 'refund_succeeded', ...refund })
  if (h.status === 'failed') items.push({ at: h.updatedAt, kind: 'refund_failed', ...refund, failureCode: h.failureCode })
  return items
}
