/**
 * Nothing stays `pending` or `processing`:
 * - an intent still `pending` at `expires_at` becomes `failed` / `link_expired` (here, by
 *   the sweeper, and on any read through `CheckoutService.expireIfDue`);
 * - a 3-D Secure challenge never answered fails as `authentication_failed` once the link
 *   has expired;
 * - an intent left `processing` (a crash or a timeout between the claim and the outcome)
 *   is finished with the processor's own answer for its idempotency key. When the
 *   processor never saw the key, recovery first closes the key at the processor (`void`,
 *   so a charge still in flight cannot land later), then fails the intent as
 *   `processing_error`: nothing was charged;
 * - a challenge the processor asked for but paylink never recorded (a crash between the
 *   two) can never be answered by the cardholder, so it is declined at once.
 */
import type { Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import type { ProcessorSet } from '../../processors/registry.js'
import type { CheckoutService } from './checkout.js'
import { isFinal } from './state.js'

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
    private readonly processors: ProcessorSet,
    private readonly staleProcessingMs = STALE_PROCESSING_MS,
  ) {}

  /** Expires due pending intents; returns how many it expired. */
  async sweepExpired(limit = 200): Promise<number> {
    let n = 0
    for (const intent of await this.store.intents.dueForExpiryAcrossTenants(this.clock.now(), limit)) {
      const after = await this.checkout.expireIfDue(intent)
      if (after.status === 'failed') n++
    }
    return n
  }

  /** Finishes intents stuck in `processing` or in a challenge past its link's expiry; returns how many it finished. */
  async recoverProcessing(limit = 100): Promise<number> {
    const now = this.clock.now()
    let n = 0
    for (const { processor: name, ...intent } of await this.store.intents.stuckAcrossTenants(new Date(now.getTime() - this.staleProcessingMs), now, limit)) {
      const processor = this.processors.get(name)
      let result = await processor.retrieve(intent.id)
      if (!result && processor.void) result = await processor.void(intent.id)
      // Here a challenge is either past its link's expiry or was never shown: decline it.
      if (result?.outcome === 'requires_authentication') result = await processor.completeAuthentication(intent.id, 'decline')
      const after = result ? await this.checkout.settle(intent, result, intent.savedCardId) : await this.checkout.failUnreached(intent)
      if (isFinal(after.intent.status)) n++
    }
    return n
  }
}
