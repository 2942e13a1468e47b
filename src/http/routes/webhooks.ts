/** /v1/platform/webhook-endpoints and /v1/platform/events: where webhooks go, and what was sent. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import type { EventId, WebhookEndpointId } from '../../domain/shared/ids.js'
import { tenantOf } from '../plugins/auth.js'
import { ok, page } from '../plugins/envelope.js'
import { deliveryJson, endpointJson, endpointWithSecretJson, eventJson, redeliveryJson } from '../presenters/index.js'
import { Envelope, ListEnvelope, ListQuery, errorResponses } from '../schemas/common.js'
import { Delivery, Redelivery, WebhookEndpoint, WebhookEndpointWithSecret, WebhookEvent } from '../schemas/objects.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const EndpointParams = Type.Object({ endpoint_id: Type.String({ maxLength: 80 }) })
const EventParams = Type.Object({ event_id: Type.String({ maxLength: 80 }) })
const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'https URL that receives POSTs. Private, loopback and metadata addresses are refused.' })

export function webhookRoutes(app: App, { webhooks }: Uses<'webhooks'>) {
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
        response: { 201: Envelope(WebhookEndpointWithSecret), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await webhooks.create(tenantOf(request), request.body)
      return reply.code(201).send(ok(request, endpointWithSecretJson(endpoint, secret)))
    },
  )

  app.get(
    '/v1/platform/webhook-endpoints',
    { config: read, schema: { operationId: 'listWebhookEndpoints', summary: 'List webhook endpoints', tags: ['webhooks'], response: { 200: Envelope(Type.Array(WebhookEndpoint)), ...errorResponses } } },
    async (request) => ok(request, (await webhooks.list(tenantOf(request))).map(endpointJson)),
  )

  app.get(
    '/v1/platform/webhook-endpoints/:endpoint_id',
    { config: read, schema: { operationId: 'getWebhookEndpoint', summary: 'Get a webhook endpoint', tags: ['webhooks'], params: EndpointParams, response: { 200: Envelope(WebhookEndpoint), ...errorResponses } } },
    async (request) => ok(request, endpointJson(await webhooks.get(tenantOf(request), request.params.endpoint_id as WebhookEndpointId))),
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
        response: { 200: Envelope(WebhookEndpoint), ...errorResponses },
      },
    },
    async (request) => ok(request, endpointJson(await webhooks.update(tenantOf(request), request.params.endpoint_id as WebhookEndpointId, request.body))),
  )

  app.delete(
    '/v1/platform/webhook-endpoints/:endpoint_id',
    { config: write, schema: { operationId: 'deleteWebhookEndpoint', summary: 'Delete a webhook endpoint', tags: ['webhooks'], params: EndpointParams, response: { 200: Envelope(WebhookEndpoint), ...errorResponses } } },
    async (request) => ok(request, endpointJson(await webhooks.remove(tenantOf(request), request.params.endpoint_id as WebhookEndpointId))),
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
        response: { 200: Envelope(WebhookEndpointWithSecret), ...errorResponses },
      },
    },
    async (request) => {
      const { endpoint, secret } = await webhooks.rotateSecret(tenantOf(request), request.params.endpoint_id as WebhookEndpointId)
      return ok(request, endpointWithSecretJson(endpoint, secret))
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
        response: { 200: ListEnvelope(WebhookEvent), ...errorResponses },
      },
    },
    async (request) => {
      const { items, pagination } = await webhooks.listEvents(tenantOf(request), { ...request.query, limit: request.query.limit ?? 20 })
      return page(request, items.map(eventJson), pagination)
    },
  )

  app.get(
    '/v1/platform/events/:event_id',
    { config: read, schema: { operationId: 'getEvent', summary: 'Get an event', tags: ['webhooks'], params: EventParams, response: { 200: Envelope(WebhookEvent), ...errorResponses } } },
    async (request) => ok(request, eventJson(await webhooks.getEvent(tenantOf(request), request.params.event_id as EventId))),
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
        response: { 200: Envelope(Type.Array(Delivery)), ...errorResponses },
      },
    },
    async (request) => ok(request, (await webhooks.deliveries(tenantOf(request), request.params.event_id as EventId)).map(deliveryJson)),
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
        response: { 202: Envelope(Redelivery), ...errorResponses },
      },
    },
    async (request, reply) => {
      const n = await webhooks.redeliver(tenantOf(request), request.params.event_id as EventId)
      return reply.code(202).send(ok(request, redeliveryJson(request.params.event_id, n)))
    },
  )
}
