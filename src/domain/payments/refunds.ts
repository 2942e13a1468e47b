/**
 * Refunds (SPEC "Refunds"): full or partial, never more than was paid, through the intent's
 * own processor, with `refund.succeeded` / `refund.failed` webhooks.
 *
 * Money is never given back twice or more than was taken:
 * - `reserve` locks the intent's row, checks it is `succeeded` and that the amount fits
 *   what is left (the sum of `pending` and `succeeded` refunds never passes the intent's
 *   amount, whatever arrives at once), and writes the refund `pending` — in one transaction
 *   (the Idempotency-Key's, when there is one);
 * - `send` calls the processor outside any transaction, with the refund id as the
 *   processor's idempotency key, so asking again is never a second refund;
 * - the outcome, the intent's totals and the outbox event commit together (`settleIn`),
 *   only while the refund is still `pending`: whoever comes second (a webhook, recovery)
 *   changes nothing. A failed refund gives its amount back to what can be refunded.
 * A refund whose outcome is unknown (a timeout, a crash before the call) stays `pending`
 * and is asked again by `recoverPending` with the same key; an asynchronous processor
 * (Adyen) settles it by webhook.
 */
import type { Repositories, Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import { AppError, invalid, notFound } from '../shared/errors.js'
import { newId, type AccountId, type PaymentIntentId, type RefundId, type TenantId } from '../shared/ids.js'
import type { CurrencyCode } from '../shared/currencies.js'
import { AMOUNT_PROBLEMS, formatMajor, parseAmount } from '../shared/money.js'
import { decodeCursor, pageOf, type Page } from '../shared/pagination.js'
import type { RefundOutcome } from '../../processors/card-processor.js'
import type { ProcessorSet } from '../../processors/registry.js'
import type { FailureCode } from './intents.js'
import type { RefundState } from './state.js'

export const REFUND_REASONS = ['requested_by_customer', 'duplicate', 'fraudulent'] as const
export type RefundReason = (typeof REFUND_REASONS)[number]

export interface Refund {
  id: RefundId
  tenantId: TenantId
  paymentIntentId: PaymentIntentId
  accountId: AccountId
  amountMinor: number
  currency: CurrencyCode
  status: RefundState
  reason: RefundReason | null
  failureCode: FailureCode | null
  processorRef: string | null
  processorCode: string | null
  processorMessage: string | null
  createdAt: Date
  updatedAt: Date
}

export interface RefundInput {
  amount?: number | string
  reason?: RefundReason
}

/** Called in the transaction that settles a refund (the outbox writes its event here). */
export type OnRefundFinal = (tx: Repositories, refund: Refund) => Promise<void>

export class RefundService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly processors: ProcessorSet,
    private readonly onFinal: OnRefundFinal,
  ) {}

  /** Writes the refund `pending`, its amount reserved, in `tx` when given (the Idempotency-Key's transaction). */
  async reserve(tenantId: TenantId, intentId: string, input: RefundInput, tx?: Repositories): Promise<Refund> {
    const work = async (t: Repositories) => {
      const intent = await t.refunds.lockIntent(tenantId, intentId as PaymentIntentId)
      if (!intent) throw notFound('payment intent')
      if (intent.status !== 'succeeded') {
        const shown = intent.status === 'requires_action' || intent.status === 'awaiting_processor' ? 'processing' : intent.status
        throw new AppError('validation_error', `The payment intent is ${shown}; only a succeeded payment intent can be refunded.`, [
          { field: 'payment_intent', issue: `is ${shown}, not succeeded` },
        ])
      }
      const left = intent.amountMinor - intent.reservedMinor
      let amountMinor = left
      if (input.amount !== undefined) {
        const parsed = parseAmount(input.amount, intent.currency)
        if (!parsed.ok) throw invalid('amount', AMOUNT_PROBLEMS[parsed.problem])
        amountMinor = parsed.amountMinor
      }
      if (amountMinor > left || left === 0) {
        const leftText = `${formatMajor(left, intent.currency)} ${intent.currency}`
        throw new AppError('refund_exceeds_amount', left === 0 ? 'Nothing is left to refund on this payment intent.' : `Only ${leftText} is left to refund.`, [
          { field: 'amount', issue: `is more than the ${leftText} left to refund` },
        ])
      }
      return t.refunds.reserve(tenantId, {
        id: newId('refund'),
        intentId: intentId as PaymentIntentId,
        accountId: intent.accountId,
        amountMinor,
        currency: intent.currency,
        reason: input.reason ?? null,
        at: this.clock.now(),
      })
    }
    return tx ? work(tx) : this.store.transaction(work)
  }

  /** Asks the intent's processor for a pending refund (outside any transaction) and settles what it says. */
  async send(tenantId: TenantId, refundId: RefundId): Promise<Refund> {
    const refund = await this.store.refunds.get(tenantId, refundId)
    if (!refund) throw notFound('refund')
    if (refund.status !== 'pending') return refund
    const intent = await this.store.intents.get(tenantId, refund.paymentIntentId)
    const account = await this.store.accounts.processorOf(tenantId, refund.accountId)
    if (!intent || !account) throw notFound('payment intent')
    return this.ask(refund, { ...account, intentProcessorRef: intent.processorRef })
  }

  private async ask(refund: Refund, at: { processor: string; configSealed: string | null; intentProcessorRef: string | null }): Promise<Refund> {
    const adapter = await this.processors.forAccount({ accountId: refund.accountId, processor: at.processor, configSealed: at.configSealed })
    let outcome: RefundOutcome
    try {
      outcome = await adapter.refund({
        ref: { key: refund.paymentIntentId, ...(at.intentProcessorRef ? { processorRef: at.intentProcessorRef } : {}) },
        refundKey: refund.id,
        amountMinor: refund.amountMinor,
        currency: refund.currency,
      })
    } catch {
      outcome = { kind: 'unknown', reason: 'the processor call failed' }
    }
    return this.apply(refund, outcome)
  }

  /** Applies a processor's answer to a refund: final ones settle it with its event; the rest keep it pending. */
  async apply(refund: Refund, outcome: RefundOutcome): Promise<Refund> {
    if (outcome.kind === 'pending' || outcome.kind === 'unknown') {
      await this.store.refunds.stillPending(refund.tenantId, refund.id, outcome.kind === 'pending' ? (outcome.processorRef ?? null) : null, this.clock.now())
      return (await this.store.refunds.get(refund.tenantId, refund.id)) ?? refund
    }
    const settled = await this.store.transaction((tx) => this.settleIn(tx, refund, outcome))
    return settled ?? (await this.store.refunds.get(refund.tenantId, refund.id)) ?? refund
  }

  /** Settles a pending refund in the caller's transaction, with the intent's totals and the event; undefined when it was settled already. */
  async settleIn(tx: Repositories, refund: Refund, outcome: Extract<RefundOutcome, { kind: 'succeeded' | 'failed' }>): Promise<Refund | undefined> {
    const settled = await tx.refunds.settle(
      refund.tenantId,
      refund.id,
      {
        status: outcome.kind,
        failureCode: outcome.kind === 'failed' ? outcome.failureCode : null,
        processorRef: outcome.processorRef ?? null,
        processorCode: outcome.kind === 'failed' ? outcome.processorCode : null,
        processorMessage: outcome.kind === 'failed' ? outcome.processorMessage : null,
      },
      this.clock.now(),
    )
    if (settled) await this.onFinal(tx, settled)
    return settled
  }

  async get(tenantId: TenantId, id: string): Promise<Refund> {
    const refund = await this.store.refunds.get(tenantId, id)
    if (!refund) throw notFound('refund')
    return refund
  }

  /** An intent's refunds, newest first; 404 when the intent is not the tenant's. */
  async listForIntent(tenantId: TenantId, intentId: string, q: { limit: number; cursor?: string }): Promise<Page<Refund>> {
    const after = decodeCursor(q.cursor)
    const intent = await this.store.intents.get(tenantId, intentId)
    if (!intent) throw notFound('payment intent')
    const rows = await this.store.refunds.listForIntent(tenantId, intentId, { ...(after ? { after } : {}), limit: q.limit + 1 })
    return pageOf(rows, q.limit, (r) => r)
  }

  /** Asks again about refunds pending since before `staleBefore` (same refund key: never a second refund); answers how many settled. */
  async recoverPending(staleBefore: Date, limit = 100): Promise<number> {
    let n = 0
    for (const r of await this.store.refunds.pendingAcrossTenants(staleBefore, limit)) {
      const after = await this.ask(r, r)
      if (after.status !== 'pending') n++
    }
    return n
  }
}
