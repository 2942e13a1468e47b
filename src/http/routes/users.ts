/** /v1/platform/users: the tenant's end users. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import type { UserId } from '../../domain/shared/ids.js'
import { tenantOf } from '../plugins/auth.js'
import { ok, pageFrom, withLimit } from '../plugins/envelope.js'
import { answers, answersPage, idParam, listQuery, operation } from './operation.js'
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
  app.post('/v1/platform/users', operation('users:write', ['createUser', 'Create an end user', 'users'], { body: CreateUser }, answers(User, 201)), async (request, reply) =>
    reply.code(201).send(ok(request, userJson(await users.create(tenantOf(request), request.body)))),
  )

  app.get(
    '/v1/platform/users',
    operation('users:read', ['listUsers', 'List end users, newest first', 'users'], { querystring: listQuery({ external_id: Type.Optional(Type.String({ maxLength: 200 })) }) }, answersPage(User)),
    async (request) => pageFrom(request, await users.list(tenantOf(request), withLimit(request.query)), userJson),
  )

  app.get('/v1/platform/users/:user_id', operation('users:read', ['getUser', 'Get an end user', 'users'], { params: idParam('user_id') }, answers(User)), async (request) =>
    ok(request, userJson(await users.get(tenantOf(request), request.params.user_id as UserId))),
  )
}
