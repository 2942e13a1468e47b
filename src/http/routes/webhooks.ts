/** /v1/platform/webhook-endpoints and /v1/platform/events: where webhooks go, and what was sent. */
import { Type } from 'typebox'
import type { App, Services } from '../../app.js'
import type { Endpoint, EventRecord } from '../../domain/webhooks/service.js'
import { tenantOf } from '../plugins/auth.js'
import { ok, page } from '../plugins/envelope.js'
import { Envelope, IdOf, ListEnvelope, ListQuery, Timestamp, errorResponses } from '../schemas/common.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const EndpointJson = Type.Object({
  id: IdOf('webhookEndpoint'),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String(),
  description: Nullable(Type.String()),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  disabled_reason: Nullable(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
})
const EndpointWithSecret = Type.Object({ ...EndpointJson.properties, secret: Type.String({ description: 'whsec_…; shown only now.' }) })
const EventJson = Type.Object({
  id: IdOf('event'),
  object: Type.Literal('event'),
  type: Type.String(),
  payment_intent_id: Nullable(Type.String()),
  data: Type.Any({ description: 'The webhook body as delivered: {type, timestamp, data}.' }),
  created_at: Timestamp,
})
const Attempt = Type.Object({ attempt: Type.Integer(), attempted_at: Timestamp, status_code: Nullable(Type.Integer()), duration_ms: Type.Integer(), error: Nullable(Type.String()) })
const DeliveryJson = Type.Object({
  id: Type.String(),
  object: Type.Literal('delivery'),
  event_id: IdOf('event'),
  endpoint_id: IdOf('webhookEndpoint'),
  status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  next_attempt_at: Nullable(Timestamp),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  attempt_log: Type.Array(Attempt),
  created_at: Timestamp,
  updated_at: Timestamp,
})

const endpointJson = (e: Endpoint) => ({
  id: e.id,
  object: 'webhook_endpoint' as const,
  url: e.url,
  description: e.description,
  status: e.status,
  disabled_reason: e.disabledReason,
  created_at: e.createdAt.toISOString(),
  updated_at: e.updatedAt.toISOString(),
})
const eventJson = (e: EventRecord) => ({
  id: e.id,
  object: 'event' as const,
  type: e.type,
  payment_intent_id: e.paymentIntentId,
  data: e.body,
  created_at: e.createdAt.toISOString(),
})
const iso = (d: unknown) => (d ? new Date(d as Date).toISOString() : null)

const EndpointParams = Type.Object({ endpoint_id: Type.String({ maxLength: 80 }) })
const EventParams = Type.Object({ event_id: Type.String({ maxLength: 80 }) })
const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'https URL that receives POSTs. Private, loopback and metadata addresses are refused.' })

export function webhookRoutes(app: App, { webhooks }: Services) {
  const write = { scope: 'webhooks:write' as const }
  const read = { scope: 'webhooks:read' as const }

  app.post(
    '/v1/platform/webhook-endpoints',
    {
      config: write,
      schema: {
        operationId: 'createWebhookEndpoint',
        summary: 'Add a webhook endpoint',
        description: 'Answers with the signing secret (`whsec_…`), shown only now.',
        tags: ['webhooks'],
        body: Type.Object({ url: Url, description: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: { 201: Envelope(EndpointWithSecret), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await webhooks.create(tenantOf(request), request.body)
      return reply.code(201).send(ok(request, { ...endpointJson(endpoint), secret }))
    },
  )

  app.get(
    '/v1/platform/webhook-endpoints',
    { config: read, schema: { operationId: 'listWebhookEndpoints', summary: 'List webhook endpoints', tags: ['webhooks'], response: { 200: Envelope(Type.Array(EndpointJson)), ...errorResponses } } },
    async (request) => ok(request, (await webhooks.list(tenantOf(request))).map(endpointJson)),
  )

  app.get(
    '/v1/platform/webhook-endpoints/:endpoint_id',
    { config: read, schema: { operationId: 'getWebhookEndpoint', summary: 'Get a webhook endpoint', tags: ['webhooks'], params: EndpointParams, response: { 200: Envelope(EndpointJson), ...errorResponses } } },
    async (request) => ok(request, endpointJson(await webhooks.get(tenantOf(request), request.params.endpoint_id))),
  )

  app.patch(
    '/v1/platform/webhook-endpoints/:endpoint_id',
    {
      config: write,
      schema: {
        operationId: 'updateWebhookEndpoint',
        summary: 'Change a webhook endpoint',
        description: 'Setting `status` to `enabled` re-enables an endpoint that was disabled and clears its failure record.',
        tags: ['webhooks'],
        params: EndpointParams,
        body: Type.Object(
          { url: Type.Optional(Url), description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))), status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Envelope(EndpointJson), ...errorResponses },
      },
    },
    async (request) => ok(request, endpointJson(await webhooks.update(tenantOf(request), request.params.endpoint_id, request.body))),
  )

  app.delete(
    '/v1/platform/webhook-endpoints/:endpoint_id',
    { config: write, schema: { operationId: 'deleteWebhookEndpoint', summary: 'Delete a webhook endpoint', tags: ['webhooks'], params: EndpointParams, response: { 200: Envelope(EndpointJson), ...errorResponses } } },
    async (request) => ok(request, endpointJson(await webhooks.remove(tenantOf(request), request.params.endpoint_id))),
  )

  app.post(
    '/v1/platform/webhook-endpoints/:endpoint_id/rotate-secret',
    {
      config: write,
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the signing secret',
        description: 'Answers with the new secret, shown only now. For 24 hours both the old and the new secret sign every delivery.',
        tags: ['webhooks'],
        params: EndpointParams,
        response: { 200: Envelope(EndpointWithSecret), ...errorResponses },
      },
    },
    async (request) => {
      const { endpoint, secret } = await webhooks.rotateSecret(tenantOf(request), request.params.endpoint_id)
      return ok(request, { ...endpointJson(endpoint), secret })
    },
  )

  app.get(
    '/v1/platform/events',
    {
      config: read,
      schema: {
        operationId: 'listEvents',
        summary: 'List events, newest first',
        tags: ['webhooks'],
        querystring: Type.Object({ ...ListQuery, type: Type.Optional(Type.String({ maxLength: 100 })), payment_intent_id: Type.Optional(Type.String({ maxLength: 80 })) }, { additionalProperties: false }),
        response: { 200: ListEnvelope(EventJson), ...errorResponses },
      },
    },
    async (request) => {
      const { items, pagination } = await webhooks.listEvents(tenantOf(request), { ...request.query, limit: request.query.limit ?? 20 })
      return page(request, items.map(eventJson), pagination)
    },
  )

  app.get(
    '/v1/platform/events/:event_id',
    { config: read, schema: { operationId: 'getEvent', summary: 'Get an event', tags: ['webhooks'], params: EventParams, response: { 200: Envelope(EventJson), ...errorResponses } } },
    async (request) => ok(request, eventJson(await webhooks.getEvent(tenantOf(request), request.params.event_id))),
  )

  app.get(
    '/v1/platform/events/:event_id/deliveries',
    {
      config: read,
      schema: {
        operationId: 'listEventDeliveries',
        summary: 'Every delivery of an event, with every attempt',
        tags: ['webhooks'],
        params: EventParams,
        response: { 200: Envelope(Type.Array(DeliveryJson)), ...errorResponses },
      },
    },
    async (request) => {
      const rows = await webhooks.deliveries(tenantOf(request), request.params.event_id)
      return ok(
        request,
        rows.map((d: Record<string, unknown>) => ({
          id: d.id as string,
          object: 'delivery' as const,
          event_id: request.params.event_id,
          endpoint_id: d.endpoint_id as string,
          status: d.status as 'pending' | 'succeeded' | 'failed',
          attempts: d.attempts as number,
          next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
          last_status_code: (d.last_status_code as number | null) ?? null,
          last_error: (d.last_error as string | null) ?? null,
          attempt_log: (d.attempt_log as Record<string, unknown>[]).map((a) => ({
            attempt: a.attempt as number,
            attempted_at: iso(a.attempted_at)!,
            status_code: (a.status_code as number | null) ?? null,
            duration_ms: a.duration_ms as number,
            error: (a.error as string | null) ?? null,
          })),
          created_at: iso(d.created_at)!,
          updated_at: iso(d.updated_at)!,
        })),
      )
    },
  )

  app.post(
    '/v1/platform/events/:event_id/redeliver',
    {
      config: write,
      schema: {
        operationId: 'redeliverEvent',
        summary: 'Send an event again to every enabled endpoint',
        tags: ['webhooks'],
        params: EventParams,
        response: { 202: Envelope(Type.Object({ event_id: Type.String(), deliveries_queued: Type.Integer() })), ...errorResponses },
      },
    },
    async (request, reply) => {
      const n = await webhooks.redeliver(tenantOf(request), request.params.event_id)
      return reply.code(202).send(ok(request, { event_id: request.params.event_id, deliveries_queued: n }))
    },
  )
}
