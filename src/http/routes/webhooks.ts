/** /v1/platform/webhook-endpoints and /v1/platform/events: where webhooks go, and what was sent. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import type { EventId, WebhookEndpointId } from '../../domain/shared/ids.js'
import { tenantOf } from '../plugins/auth.js'
import { ok, pageFrom, withLimit } from '../plugins/envelope.js'
import { deliveryJson, endpointJson, endpointWithSecretJson, eventJson, redeliveryJson } from '../presenters/index.js'
import { answers, answersList, answersPage, idParam, listQuery, noInput, operation, type OperationMeta } from './operation.js'
import { Delivery, Redelivery, WebhookEndpoint, WebhookEndpointWithSecret, WebhookEvent } from '../schemas/objects.js'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const EndpointParams = idParam('endpoint_id')
const EventParams = idParam('event_id')
const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'https URL that receives POSTs. Private, loopback and metadata addresses are refused.' })

const UPDATE: OperationMeta = [
  'updateWebhookEndpoint',
  'Change a webhook endpoint',
  'webhooks',
  'Setting `status` to `enabled` re-enables an endpoint that was disabled and clears its failure record.',
]
const ROTATE: OperationMeta = [
  'rotateWebhookSecret',
  'Rotate the signing secret',
  'webhooks',
  'Answers with the new secret, shown only now. For 24 hours both the old and the new secret sign every delivery.',
]

export function webhookRoutes(app: App, { webhooks }: Uses<'webhooks'>) {
  const endpointId = (request: { params: { endpoint_id: string } }) => request.params.endpoint_id as WebhookEndpointId
  const eventId = (request: { params: { event_id: string } }) => request.params.event_id as EventId

  app.post(
    '/v1/platform/webhook-endpoints',
    operation(
      'webhooks:write',
      ['createWebhookEndpoint', 'Add a webhook endpoint', 'webhooks', 'Answers with the signing secret (`whsec_…`), shown only now.'],
      { body: Type.Object({ url: Url, description: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }) },
      answers(WebhookEndpointWithSecret, 201),
    ),
    async (request, reply) => {
      const { endpoint, secret } = await webhooks.create(tenantOf(request), request.body)
      return reply.code(201).send(ok(request, endpointWithSecretJson(endpoint, secret)))
    },
  )

  app.get('/v1/platform/webhook-endpoints', operation('webhooks:read', ['listWebhookEndpoints', 'List webhook endpoints', 'webhooks'], {}, answersList(WebhookEndpoint)), async (request) =>
    ok(request, (await webhooks.list(tenantOf(request))).map(endpointJson)),
  )

  // Reading and deleting an endpoint differ only in the method, the scope and the service call.
  for (const [method, scope, meta, act] of [
    ['GET', 'webhooks:read', ['getWebhookEndpoint', 'Get a webhook endpoint', 'webhooks'], webhooks.get.bind(webhooks)],
    ['DELETE', 'webhooks:write', ['deleteWebhookEndpoint', 'Delete a webhook endpoint', 'webhooks'], webhooks.remove.bind(webhooks)],
  ] as const) {
    app.route({
      method,
      url: '/v1/platform/webhook-endpoints/:endpoint_id',
      ...operation(scope, meta, { params: EndpointParams }, answers(WebhookEndpoint)),
      handler: async (request) => ok(request, endpointJson(await act(tenantOf(request), endpointId(request)))),
    })
  }

  app.patch(
    '/v1/platform/webhook-endpoints/:endpoint_id',
    operation(
      'webhooks:write',
      UPDATE,
      {
        params: EndpointParams,
        body: Type.Object(
          { url: Type.Optional(Url), description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))), status: Type.Optional(Type.Union([Type.Literal('enabled'), Type.Literal('disabled')])) },
          { additionalProperties: false, minProperties: 1 },
        ),
      },
      answers(WebhookEndpoint),
    ),
    async (request) => ok(request, endpointJson(await webhooks.update(tenantOf(request), endpointId(request), request.body))),
  )

  app.post(
    '/v1/platform/webhook-endpoints/:endpoint_id/rotate-secret',
    operation('webhooks:write', ROTATE, { params: EndpointParams, ...noInput }, answers(WebhookEndpointWithSecret)),
    async (request) => {
      const { endpoint, secret } = await webhooks.rotateSecret(tenantOf(request), endpointId(request))
      return ok(request, endpointWithSecretJson(endpoint, secret))
    },
  )

  app.get(
    '/v1/platform/events',
    operation(
      'webhooks:read',
      ['listEvents', 'List events, newest first', 'webhooks'],
      { querystring: listQuery({ type: Type.Optional(Type.String({ maxLength: 100 })), payment_intent_id: Type.Optional(Type.String({ maxLength: 80 })) }) },
      answersPage(WebhookEvent),
    ),
    async (request) => pageFrom(request, await webhooks.listEvents(tenantOf(request), withLimit(request.query)), eventJson),
  )

  app.get('/v1/platform/events/:event_id', operation('webhooks:read', ['getEvent', 'Get an event', 'webhooks'], { params: EventParams }, answers(WebhookEvent)), async (request) =>
    ok(request, eventJson(await webhooks.getEvent(tenantOf(request), eventId(request)))),
  )

  app.get(
    '/v1/platform/events/:event_id/deliveries',
    operation('webhooks:read', ['listEventDeliveries', 'Every delivery of an event, with every attempt', 'webhooks'], { params: EventParams }, answersList(Delivery)),
    async (request) => ok(request, (await webhooks.deliveries(tenantOf(request), eventId(request))).map(deliveryJson)),
  )

  app.post(
    '/v1/platform/events/:event_id/redeliver',
    operation('webhooks:write', ['redeliverEvent', 'Send an event again to every enabled endpoint', 'webhooks'], { params: EventParams, ...noInput }, answers(Redelivery, 202)),
    async (request, reply) => reply.code(202).send(ok(request, redeliveryJson(request.params.event_id, await webhooks.redeliver(tenantOf(request), eventId(request))))),
  )
}
