/** Operations: liveness and readiness. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { AppError } from '../../domain/shared/errors.js'
import { Envelope, errorResponses, unavailable } from '../schemas/common.js'

const Health = Type.Object({ status: Type.Literal('ok') })
const Ready = Type.Object({ status: Type.Literal('ready'), database: Type.Literal('ok'), migrations: Type.Literal('applied') })

export function opsRoutes(app: App, { pendingMigrations, metrics }: Uses<'pendingMigrations' | 'metrics'>) {
  app.get(
    '/metrics',
    { schema: { operationId: 'getMetrics', summary: 'Prometheus metrics (text format)', tags: ['operations'], produces: ['text/plain'] } },
    async (_request, reply) => reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(await metrics.registry.metrics()),
  )

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(app.swagger()))

  app.get(
    '/healthz',
    { schema: { operationId: 'getHealth', summary: 'Liveness: the process answers', tags: ['operations'], response: { 200: Envelope(Health) } } },
    async (request) => ({ success: true as const, data: { status: 'ok' as const }, error: null, request_id: request.id }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the database answers and every migration is applied',
        tags: ['operations'],
        response: { 200: Envelope(Ready), ...unavailable, ...errorResponses },
      },
    },
    async (request) => {
      const pending = await pendingMigrations()
      if (pending === undefined) throw new AppError('service_unavailable', 'The database does not answer.')
      if (pending.length) throw new AppError('service_unavailable', `Migrations not applied: ${pending.join(', ')}.`)
      return { success: true as const, data: { status: 'ready' as const, database: 'ok' as const, migrations: 'applied' as const }, error: null, request_id: request.id }
    },
  )
}
