/** Webhook endpoints, the event log and deliveries (the outbox): written in the outcome's transaction, claimed by the worker across tenants. */
import type { Queryable } from '../db.js'

export class WebhookRepository {
  constructor(readonly q: Queryable) {}
}
