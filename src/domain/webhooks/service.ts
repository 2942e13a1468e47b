/**
 * Webhook endpoints (the secret shown once, on create and rotate; after a rotation the old
 * secret keeps signing for 24 hours), the event log, every delivery attempt, and replay.
 * Delivering is the outbox's work (src/outbox/), not this service's.
 */
import type { Store } from '../../storage/store.js'
import type { Clock } from '../shared/clock.js'
import type { Sealer } from '../shared/crypto.js'
import { AppError, invalid, notFound } from '../shared/errors.js'
import { newId, type EventId, type TenantId, type WebhookEndpointId } from '../shared/ids.js'
import { decodeCursor, pageOf } from '../shared/pagination.js'
import { resolvesToBlocked, urlProblem } from './addresses.js'
import type { Delivery, Endpoint, EndpointStatus, EventRecord } from './model.js'
import { newWebhookSecret, secretContext } from './signing.js'

export const ROTATION_OVERLAP_MS = 24 * 3_600_000

export class WebhookService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
    private readonly allowPrivate: boolean,
    /** Called after deliveries are queued, to wake a local worker. */
    private readonly onQueued: () => void = () => {},
  ) {}

  private async checkUrl(url: string) {
    const problem = urlProblem(url, this.allowPrivate)
    if (problem) throw invalid('url', problem)
    if (!this.allowPrivate && (await resolvesToBlocked(url))) throw invalid('url', 'must not point at a local, private or metadata address (its name resolves to one)')
  }

  private seal = (tenantId: TenantId, id: WebhookEndpointId, secret: string) => this.sealer.seal(secret, secretContext(tenantId, id))

  async create(tenantId: TenantId, input: { url: string; description?: string }): Promise<{ endpoint: Endpoint; secret: string }> {
    await this.checkUrl(input.url)
    const id = newId('webhookEndpoint')
    const secret = newWebhookSecret()
    const endpoint = await this.store.webhooks.createEndpoint(tenantId, {
      id,
      url: input.url,
      description: input.description ?? null,
      sealedSecret: this.seal(tenantId, id, secret),
      at: this.clock.now(),
    })
    return { endpoint, secret }
  }

  list(tenantId: TenantId): Promise<Endpoint[]> {
    return this.store.webhooks.listEndpoints(tenantId)
  }

  async get(tenantId: TenantId, id: WebhookEndpointId): Promise<Endpoint> {
    return found(await this.store.webhooks.findEndpoint(tenantId, id))
  }

  /** Changes the URL, description or status; enabling again clears the failure record. */
  async update(tenantId: TenantId, id: WebhookEndpointId, input: { url?: string; description?: string | null; status?: EndpointStatus }): Promise<Endpoint> {
    if (input.url !== undefined) await this.checkUrl(input.url)
    return found(await this.store.webhooks.updateEndpoint(tenantId, id, input, this.clock.now()))
  }

  async remove(tenantId: TenantId, id: WebhookEndpointId): Promise<Endpoint> {
    return found(await this.store.webhooks.deleteEndpoint(tenantId, id, this.clock.now()))
  }

  /** A new secret; the current one keeps signing beside it for 24 hours. */
  async rotateSecret(tenantId: TenantId, id: WebhookEndpointId): Promise<{ endpoint: Endpoint; secret: string }> {
    const secret = newWebhookSecret()
    const now = this.clock.now()
    const endpoint = found(await this.store.webhooks.rotateEndpointSecret(tenantId, id, this.seal(tenantId, id, secret), new Date(now.getTime() + ROTATION_OVERLAP_MS), now))
    return { endpoint, secret }
  }

  async listEvents(tenantId: TenantId, q: { limit: number; cursor?: string; type?: string; payment_intent_id?: string }) {
    const after = decodeCursor(q.cursor)
    const events = await this.store.webhooks.listEvents(tenantId, { type: q.type, paymentIntentId: q.payment_intent_id, after, limit: q.limit + 1 })
    return pageOf(events, q.limit, (e) => e)
  }

  async getEvent(tenantId: TenantId, id: EventId): Promise<EventRecord> {
    const event = await this.store.webhooks.findEvent(tenantId, id)
    if (!event) throw notFound('event')
    return event
  }

  /** Every delivery of an event with every attempt, oldest first. */
  async deliveries(tenantId: TenantId, eventId: EventId): Promise<Delivery[]> {
    await this.getEvent(tenantId, eventId)
    return this.store.webhooks.deliveriesOfEvent(tenantId, eventId)
  }

  /** Queues the event again for every enabled endpoint; the webhook-id stays the event id. */
  async redeliver(tenantId: TenantId, eventId: EventId): Promise<number> {
    await this.getEvent(tenantId, eventId)
    const queued = await this.store.webhooks.queueDeliveries(tenantId, eventId, this.clock.now())
    if (queued === 0) throw new AppError('conflict', 'There is no enabled webhook endpoint to deliver to.')
    this.onQueued()
    return queued
  }
}

function found(endpoint: Endpoint | undefined): Endpoint {
  if (!endpoint) throw notFound('webhook endpoint')
  return endpoint
}
