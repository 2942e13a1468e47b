/** Payment intents, their links and every status change (see src/domain/payments/state.ts). */
import type { Queryable } from '../db.js'

export class PaymentIntentRepository {
  constructor(readonly q: Queryable) {}
}
