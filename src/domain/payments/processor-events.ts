/**
 * What a processor tells paylink by webhook (SPEC "Card processors", Processor webhooks):
 * `POST /processor-webhooks/{card_processing_id}`. The adapter verifies the raw body with the
 * account's secret and reads it into events; a bad signature changes nothing. Each event is
 * kept once by its id (`processor_events`), in the same transaction that applies it: a
 * payment waiting on the processor (`processing` after an unknown answer, `awaiting_processor`,
 * or a 3-D Secure never come back from) gets its final state and its outbox event. An event
 * for a finished payment, or one that arrives twice, changes nothing. A webhook that comes
 * before paylink's own commit of the same outcome wins the conditional update, and the
 * confirm that comes second changes nothing: one final state, one webhook to the tenant.
 *
 * A saved card's token that arrives only after the payment (Adyen's RECURRING_CONTRACT, or
 * an AUTHORISATION for a payment already recorded) saves the card then, if the shopper asked
 * for it. A refund's event settles a pending refund the same way (Adyen's REFUND and
 * REFUND_FAILED; Stripe's refund.updated / refund.failed).
 */
import type { Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import { AppError, notFound } from '../shared/errors.js'
import type { AccountId, TenantId } from '../shared/ids.js'
import { WebhookSignatureError, type ProcessorEvent } from '../../processors/card-processor.js'
import type { CheckoutService } from './checkout.js'
import type { RefundService } from './refunds.js'

/** How paylink answers the processor: what each processor expects to read back. */
export interface WebhookAck {
  contentType: string
  body: string
}

export class ProcessorEvents {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly checkout: CheckoutService,
    private readonly refunds: RefundService,
  ) {}

  async receive(accountId: string, rawBody: Buffer, headers: Record<string, string | string[] | undefined>): Promise<{ applied: number; ack?: WebhookAck }> {
    const account = await this.store.accounts.withConfigAcrossTenants(accountId as AccountId)
    if (!account) throw notFound('card-processing account')
    const adapter = await this.checkout.adapterFor(account.id, account)
    let events: ProcessorEvent[]
    try {
      events = await adapter.parseWebhook(rawBody, headers)
    } catch (err) {
      if (err instanceof WebhookSignatureError) throw new AppError('invalid_signature', 'The webhook’s signature does not verify with this account’s secret; nothing was applied.')
      throw err
    }
    let applied = 0
    for (const event of events) {
      if (event.type === 'ignored') continue
      if (await this.apply(account.tenantId, account.id, event)) applied++
    }
    return { applied, ...(adapter.webhookAck ? { ack: adapter.webhookAck } : {}) }
  }

  /** Keeps the event once and applies it, in one transaction; answers whether it changed a payment. */
  private async apply(tenantId: TenantId, accountId: AccountId, event: Exclude<ProcessorEvent, { type: 'ignored' }>): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.processorEvents.keep(tenantId, accountId, event.id, this.clock.now()))) return false
      if (event.type === 'refund') {
        const refund = event.refundKey ? await tx.refunds.get(tenantId, event.refundKey) : event.processorRef ? await tx.refunds.findByProcessorRef(tenantId, accountId, event.processorRef) : undefined
        const outcome = event.outcome
        if (!refund || refund.accountId !== accountId || (outcome.kind !== 'succeeded' && outcome.kind !== 'failed')) return false
        return (await this.refunds.settleIn(tx, refund, outcome)) !== undefined
      }
      const ref = event.type === 'payment' ? event.processorRef : null
      const intent = event.key ? await tx.intents.get(tenantId, event.key) : ref ? await tx.intents.findByProcessorRef(tenantId, accountId, ref) : undefined
      // Another account's payment (a misrouted webhook) is never touched.
      if (!intent || intent.accountId !== accountId) return false
      // A saved card's token that comes after the payment: the card shows once it has come.
      if (event.type === 'saved_card') return this.checkout.attachSavedCard(tx, intent, event.savedCard)
      const outcome = event.outcome
      if (outcome.kind === 'succeeded' && intent.status === 'succeeded' && outcome.savedCard) return this.checkout.attachSavedCard(tx, intent, outcome.savedCard)
      if (outcome.kind === 'succeeded' || outcome.kind === 'failed') return (await this.checkout.finishIn(tx, intent, outcome)) !== undefined
      if (outcome.kind === 'pending' && intent.status === 'processing') return tx.intents.awaitProcessor(tenantId, intent.id, outcome.processorRef ?? null, this.clock.now())
      return false
    })
  }
}
