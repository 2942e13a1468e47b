/**
 * Nothing stays `pending`, `processing` or waiting on a processor:
 * - an intent still `pending` at `expires_at` becomes `failed` / `link_expired` (here, by
 *   the sweeper, and on any read through `CheckoutService.expireIfDue`, which also cancels
 *   the attempt its page made ready at the processor, if any);
 * - an intent left `processing` (a crash, a timeout or a lost answer between the claim and
 *   the outcome) or `awaiting_processor` is asked about with `lookup` once it has waited
 *   PROCESSING_RECOVERY_SECONDS, and the processor's answer is applied. When the processor
 *   never saw it, still cannot say, or keeps saying "later", recovery closes the attempt at
 *   the processor (`cancel`, so a charge still in flight cannot land later) and applies what
 *   stands: `failed` / `processing_error` when nothing was charged, or the charge that got
 *   there first;
 * - 3-D Secure never finished by the time the link expires (a challenge never answered, a
 *   shopper who never came back from a redirect) is closed likewise and fails as
 *   `authentication_failed`, unless the processor says it succeeded after all;
 * - when even `cancel` cannot reach the processor, the intent waits for the next sweep.
 * A processor webhook may finish any of these first: the conditional updates make the
 * second writer a no-op.
 */
import type { Store } from '../../storage/store.js'
import type { WaitingIntent } from '../../storage/repositories/payment-intents.js'
import type { Clock } from '../shared/clock.js'
import { refOf, safely, type CheckoutService } from './checkout.js'
import { isFinal } from './state.js'
import type { RefundService } from './refunds.js'
import type { Outcome } from '../../processors/card-processor.js'

/**
 * How long an intent may sit in `processing` before recovery asks the processor
 * (PROCESSING_RECOVERY_SECONDS). Longer than any confirm request can take, so
 * recovery never races a confirmation still in flight.
 */
export const STALE_PROCESSING_MS = 120_000

export class Lifecycle {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly checkout: CheckoutService,
    private readonly refunds: RefundService,
    private readonly staleProcessingMs = STALE_PROCESSING_MS,
  ) {}

  /**
   * Asks again about refunds still pending after PROCESSING_RECOVERY_SECONDS (a crash before
   * the processor call, an answer that never came, an asynchronous processor's webhook not
   * yet arrived), with the same refund key: the processor answers the refund it has, never
   * makes a second one. Returns how many settled.
   */
  recoverRefunds(limit = 100): Promise<number> {
    return this.refunds.recoverPending(new Date(this.clock.now().getTime() - this.staleProcessingMs), limit)
  }

  /** Expires due pending intents; returns how many it expired. */
  async sweepExpired(limit = 200): Promise<number> {
    let n = 0
    for (const intent of await this.store.intents.dueForExpiryAcrossTenants(this.clock.now(), limit)) {
      const after = await this.checkout.expireIfDue(intent)
      if (after.status === 'failed') n++
    }
    return n
  }

  /** Finishes intents stuck waiting on their processor; returns how many it finished. */
  async recoverProcessing(limit = 100): Promise<number> {
    const now = this.clock.now()
    let n = 0
    for (const intent of await this.store.intents.stuckAcrossTenants(new Date(now.getTime() - this.staleProcessingMs), now, limit)) {
      const after = await this.recover(intent)
      if (isFinal(after.status)) n++
    }
    return n
  }

  private async recover(intent: WaitingIntent) {
    const adapter = await this.checkout.adapterFor(intent.accountId, intent)
    const ref = { key: intent.id, ...refOf(intent) }
    const found = await safely(async () => {
      const r = await adapter.lookup(ref)
      return r.kind === 'not_found' ? { kind: 'unknown' as const, reason: 'not_found' } : r
    })
    const abandonedAction = intent.status === 'requires_action'
    // A first "later" from a payment we lost track of: now it waits for the processor's word.
    if (found.kind === 'pending' && intent.status === 'processing') return (await this.checkout.apply(intent, found)).intent
    let outcome: Outcome = found
    if (!isFinalOutcome(found)) outcome = await safely(() => adapter.cancel(ref))
    if (!isFinalOutcome(outcome)) return intent
    return (await this.checkout.apply(intent, outcome, { abandonedAction })).intent
  }
}

const isFinalOutcome = (o: Outcome): o is Extract<Outcome, { kind: 'succeeded' | 'failed' }> => o.kind === 'succeeded' || o.kind === 'failed'
