/** Tenants and their OAuth clients (client revocation crosses tenants on purpose). */
import type { Queryable } from '../db.js'

export class TenantRepository {
  constructor(readonly q: Queryable) {}
}
