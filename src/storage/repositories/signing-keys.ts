/** The OAuth signing keys (not tenant data: one set for the service), with the lock that serialises rotation. */
import type { Queryable } from '../db.js'

export class SigningKeyRepository {
  constructor(readonly q: Queryable) {}
}
