/**
 * Prometheus metrics (GET /metrics). One registry per app instance, so several apps in one
 * process (tests) do not share counters.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export class Metrics {
  readonly registry = new Registry()
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>
  readonly linksMinted: Counter<'result'>
  readonly mintDuration: Histogram
  readonly mintStatementRows: Histogram<'result'>
  readonly confirmations: Counter<'outcome'>
  readonly confirmDuration: Histogram<'outcome'>
  readonly webhookAttempts: Counter<'result'>
  readonly deliveryLag: Histogram
  readonly rateLimited: Counter<'rule'>

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'paylink_' })
    this.httpDuration = new Histogram({
      name: 'paylink_http_request_duration_seconds',
      help: 'HTTP request latency by route and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    })
    this.linksMinted = new Counter({ name: 'paylink_payment_links_minted_total', help: 'Payment links minted (result: created, replayed).', labelNames: ['result'], registers })
    this.mintDuration = new Histogram({
      name: 'paylink_payment_link_mint_duration_seconds',
      help: 'Time to mint a payment link.',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    })
    this.mintStatementRows = new Histogram({
      name: 'paylink_mint_statement_rows',
      help: 'Links written by one mint statement: mints arriving together are grouped (result: written; retried_alone when the group failed and each was tried by itself).',
      labelNames: ['result'],
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    })
    this.confirmations = new Counter({
      name: 'paylink_confirmations_total',
      help: 'Payment confirmations by outcome (succeeded, failed, requires_authentication, rejected).',
      labelNames: ['outcome'],
      registers,
    })
    this.confirmDuration = new Histogram({
      name: 'paylink_confirmation_duration_seconds',
      help: 'Time to confirm a payment, processor call included.',
      labelNames: ['outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.webhookAttempts = new Counter({ name: 'paylink_webhook_attempts_total', help: 'Webhook delivery attempts by result (succeeded, retry, failed).', labelNames: ['result'], registers })
    this.deliveryLag = new Histogram({
      name: 'paylink_webhook_delivery_lag_seconds',
      help: 'From the commit of an event to its successful delivery.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200],
      registers,
    })
    this.rateLimited = new Counter({ name: 'paylink_rate_limited_total', help: 'Requests refused by a rate limit, by rule.', labelNames: ['rule'], registers })
  }
}
