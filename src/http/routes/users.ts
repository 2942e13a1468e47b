/** /v1/platform/users: the tenant's end users. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import type { UserId } from '../../domain/shared/ids.js'
import { tenantOf } from '../plugins/auth.js'
import { ok, page } from '../plugins/envelope.js'
import { Envelope, ListEnvelope, ListQuery, errorResponses } from '../schemas/common.js'
import { User } from '../schemas/objects.js'
import { userJson } from '../presenters/index.js'

const CreateUser = Type.Object(
  {
    external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Your own id for this user; unique among your users.' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
)

export function userRoutes(app: App, { users }: Uses<'users'>) {
  app.post(
    '/v1/platform/users',
    {
      config: { scope: 'users:write' },
      schema: {
        operationId: 'createUser',
        summary: 'Create an end user',
        tags: ['users'],
        body: CreateUser,
        response: { 201: Envelope(User), ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(ok(request, userJson(await users.create(tenantOf(request), request.body)))),
  )

  app.get(
    '/v1/platform/users',
    {
      config: { scope: 'users:read' },
      schema: {
        operationId: 'listUsers',
        summary: 'List end users, newest first',
        tags: ['users'],
        querystring: Type.Object({ ...ListQuery, external_id: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
        response: { 200: ListEnvelope(User), ...errorResponses },
      },
    },
    async (request) => {
      const { items, pagination } = await users.list(tenantOf(request), { ...request.query, limit: request.query.limit ?? 20 })
      return page(request, items.map(userJson), pagination)
    },
  )

  app.get(
    '/v1/platform/users/:user_id',
    {
      config: { scope: 'users:read' },
      schema: {
        operationId: 'getUser',
        summary: 'Get an end user',
        tags: ['users'],
        params: Type.Object({ user_id: Type.String({ maxLength: 80 }) }),
        response: { 200: Envelope(User), ...errorResponses },
      },
    },
    async (request) => ok(request, userJson(await users.get(tenantOf(request), request.params.user_id as UserId))),
  )
}
