/** Saved cards: the sealed processor token, fingerprint, brand and last four. */
import type { Queryable } from '../db.js'

export class SavedCardRepository {
  constructor(readonly q: Queryable) {}
}
