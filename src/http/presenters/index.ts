/**
 * Domain objects → the public JSON of the API and the page. Nothing reaches a client except
 * through here: one presenter per public object, one file per resource, each matching its
 * schema in `../schemas/objects.ts`.
 */
export * from './accounts.js'
export * from './oauth.js'
export * from './cards.js'
export * from './payments.js'
export * from './tenants.js'
export * from './users.js'
export * from './webhooks.js'
export * from './portal.js'
