/** The HTTP app's type, and what a route may be given: only services, never the database. */
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Services } from '../composition.js'

export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>

/** The services a route file names, and nothing else. */
export type Uses<K extends keyof Services> = Pick<Services, K>
