/** The public JSON of portal links and sessions, the at-a-glance figures and a payment's timeline. */
import type { PortalLink, PortalSession } from '../../domain/portal/service.js'
import type { PaymentStats, TimelineItem } from '../../domain/portal/insights.js'
import type { CurrencyCode } from '../../domain/shared/currencies.js'
import { formatMajor } from '../../domain/shared/money.js'

export const portalLinkJson = (l: PortalLink) => ({ url: l.url, expires_at: l.expiresAt.toISOString() })

export const portalSessionJson = (s: PortalSession) => ({
  secret: s.secret,
  expires_at: s.expiresAt.toISOString(),
  tenant: { id: s.tenant.id, name: s.tenant.name },
  scopes: s.scopes,
})

export const paymentStatsJson = (s: PaymentStats) => ({
  currency: s.currency,
  granularity: s.granularity,
  from: s.from.toISOString(),
  to: s.to.toISOString(),
  buckets: s.buckets.map((b) => ({ start: b.start.toISOString(), succeeded: b.succeeded, failed: b.failed, amount_collected: formatMajor(b.collectedMinor, s.currency) })),
  succeeded: s.succeeded,
  failed: s.failed,
  amount_collected: formatMajor(s.collectedMinor, s.currency),
  success_rate: s.successRate,
})

export const timelineJson = (items: TimelineItem[], currency: CurrencyCode) => ({
  items: items.map((i) => ({
    at: i.at.toISOString(),
    kind: i.kind,
    ...(i.failureCode !== undefined ? { failure_code: i.failureCode } : {}),
    ...(i.refundId !== undefined ? { refund_id: i.refundId } : {}),
    ...(i.amountMinor !== undefined ? { amount: formatMajor(i.amountMinor, currency) } : {}),
    ...(i.eventId !== undefined ? { event_id: i.eventId, type: i.type } : {}),
  })),
})
