/** /v1/admin: what the operator CLI does, for an `admin`-scoped client. */
import { Type } from 'typebox'
import type { App, Services } from '../../app.js'
import type { Account, Tenant } from '../../domain/tenants/service.js'
import { ok } from '../plugins/envelope.js'
import { Envelope, IdOf, Timestamp, errorResponses } from '../schemas/common.js'

const TenantJson = Type.Object({
  id: IdOf('tenant'),
  object: Type.Literal('tenant'),
  name: Type.String(),
  allowed_origins: Type.Array(Type.String()),
  allow_top_level: Type.Boolean(),
  created_at: Timestamp,
})
const CreatedTenant = Type.Object({ tenant: TenantJson, tenant_id: IdOf('tenant'), client_id: Type.String(), client_secret: Type.String({ description: 'Shown once.' }) })
const ClientJson = Type.Object({ client_id: Type.String(), client_secret: Type.String({ description: 'Shown once.' }), tenant_id: Type.Union([Type.String(), Type.Null()]), scopes: Type.Array(Type.String()) })
const AccountJson = Type.Object({
  card_processing_id: IdOf('account'),
  object: Type.Literal('card_processing_account'),
  tenant_id: IdOf('tenant'),
  name: Type.String(),
  processor: Type.String(),
  currencies: Type.Array(Type.String()),
  priority: Type.Integer(),
  created_at: Timestamp,
})
const Approval = Type.Object({ tenant_id: Type.String(), user_id: Type.String(), card_processing_id: Type.String(), status: Type.String(), approved_at: Timestamp })

const tenantJson = (t: Tenant) => ({
  id: t.id,
  object: 'tenant' as const,
  name: t.name,
  allowed_origins: t.allowedOrigins,
  allow_top_level: t.allowTopLevel,
  created_at: t.createdAt.toISOString(),
})
const accountJson = (a: Account) => ({
  card_processing_id: a.id,
  object: 'card_processing_account' as const,
  tenant_id: a.tenantId,
  name: a.name,
  processor: a.processor,
  currencies: a.currencies,
  priority: a.priority,
  created_at: a.createdAt.toISOString(),
})

const TenantParams = Type.Object({ tenant_id: Type.String({ maxLength: 80 }) })

export function adminRoutes(app: App, { tenants }: Services) {
  const admin = { scope: 'admin' as const }

  app.post(
    '/v1/admin/tenants',
    {
      config: admin,
      schema: {
        operationId: 'adminCreateTenant',
        summary: 'Create a tenant and its first OAuth client',
        tags: ['admin'],
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            allowed_origins: Type.Array(Type.String({ maxLength: 300 }), { minItems: 1, maxItems: 50, description: 'Origins allowed to frame the payment page.' }),
            allow_top_level: Type.Optional(Type.Boolean({ description: 'Let the payment page open outside a frame.' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Envelope(CreatedTenant), ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenant, clientId, clientSecret } = await tenants.createTenant({
        name: request.body.name,
        origins: request.body.allowed_origins,
        allowTopLevel: request.body.allow_top_level,
      })
      return reply.code(201).send(ok(request, { tenant: tenantJson(tenant), tenant_id: tenant.id, client_id: clientId, client_secret: clientSecret }))
    },
  )

  app.get(
    '/v1/admin/tenants',
    { config: admin, schema: { operationId: 'adminListTenants', summary: 'List tenants', tags: ['admin'], response: { 200: Envelope(Type.Array(TenantJson)), ...errorResponses } } },
    async (request) => ok(request, (await tenants.listTenants()).map(tenantJson)),
  )

  app.get(
    '/v1/admin/tenants/:tenant_id',
    {
      config: admin,
      schema: { operationId: 'adminGetTenant', summary: 'Get a tenant', tags: ['admin'], params: TenantParams, response: { 200: Envelope(TenantJson), ...errorResponses } },
    },
    async (request) => ok(request, tenantJson(await tenants.getTenant(request.params.tenant_id))),
  )

  app.post(
    '/v1/admin/clients',
    {
      config: admin,
      schema: {
        operationId: 'adminCreateClient',
        summary: 'Create an OAuth client',
        description: 'With `tenant_id`: a client of that tenant (tenant scopes, all by default). Without: an operator client with scope `admin`.',
        tags: ['admin'],
        body: Type.Object(
          { tenant_id: Type.Optional(Type.String({ maxLength: 80 })), scopes: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 10 })) },
          { additionalProperties: false },
        ),
        response: { 201: Envelope(ClientJson), ...errorResponses },
      },
    },
    async (request, reply) => {
      const c = await tenants.createClient(request.body.tenant_id ?? null, request.body.scopes ?? [])
      return reply.code(201).send(ok(request, { client_id: c.clientId, client_secret: c.clientSecret, tenant_id: c.tenantId, scopes: c.scopes }))
    },
  )

  app.delete(
    '/v1/admin/clients/:client_id',
    {
      config: admin,
      schema: {
        operationId: 'adminRevokeClient',
        summary: 'Revoke an OAuth client: its tokens stop working at once',
        tags: ['admin'],
        params: Type.Object({ client_id: Type.String({ maxLength: 80 }) }),
        response: { 200: Envelope(Type.Object({ client_id: Type.String(), revoked: Type.Literal(true) })), ...errorResponses },
      },
    },
    async (request) => {
      await tenants.revokeClient(request.params.client_id)
      return ok(request, { client_id: request.params.client_id, revoked: true as const })
    },
  )

  app.post(
    '/v1/admin/tenants/:tenant_id/card-processing-accounts',
    {
      config: admin,
      schema: {
        operationId: 'adminCreateCardProcessingAccount',
        summary: 'Create a card-processing account for a tenant',
        tags: ['admin'],
        params: TenantParams,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            processor: Type.String({ minLength: 1, maxLength: 40 }),
            currencies: Type.Array(Type.String({ minLength: 3, maxLength: 3 }), { minItems: 1, maxItems: 200 }),
            priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Lower wins when choosing the default (100 if omitted).' })),
            config: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Processor credentials; stored encrypted, never shown.' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Envelope(AccountJson), ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(ok(request, accountJson(await tenants.createAccount(request.params.tenant_id, { ...request.body, config: request.body.config as Record<string, unknown> | undefined })))),
  )

  app.get(
    '/v1/admin/tenants/:tenant_id/card-processing-accounts',
    {
      config: admin,
      schema: {
        operationId: 'adminListCardProcessingAccounts',
        summary: "List a tenant's card-processing accounts",
        tags: ['admin'],
        params: TenantParams,
        response: { 200: Envelope(Type.Array(AccountJson)), ...errorResponses },
      },
    },
    async (request) => ok(request, (await tenants.listAccounts(request.params.tenant_id)).map(accountJson)),
  )

  app.post(
    '/v1/admin/tenants/:tenant_id/card-processing-accounts/:card_processing_id/approvals',
    {
      config: admin,
      schema: {
        operationId: 'adminApproveEnrolment',
        summary: "Approve a user's enrolment in a card-processing account",
        tags: ['admin'],
        params: Type.Object({ tenant_id: Type.String({ maxLength: 80 }), card_processing_id: Type.String({ maxLength: 80 }) }),
        body: Type.Object({ user_id: Type.String({ maxLength: 80 }) }, { additionalProperties: false }),
        response: { 200: Envelope(Approval), ...errorResponses },
      },
    },
    async (request) => {
      const a = await tenants.approveEnrolment(request.params.tenant_id, request.body.user_id, request.params.card_processing_id)
      return ok(request, { tenant_id: a.tenantId, user_id: a.userId, card_processing_id: a.accountId, status: a.status, approved_at: a.approvedAt.toISOString() })
    },
  )
}
