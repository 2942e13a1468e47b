/** /v1/admin: what the operator CLI does, for an `admin`-scoped client. */
import { Type } from 'typebox'
import type { App, Uses } from '../types.js'
import { ok } from '../plugins/envelope.js'
import { answers, answersList, idParam, operation } from './operation.js'
import { AdminCardProcessingAccount, CreatedClient, CreatedTenant, EnrolmentApproval, RevokedClient, Tenant } from '../schemas/objects.js'
import { adminAccountJson, createdClientJson, createdTenantJson, enrolmentApprovalJson, revokedClientJson, tenantJson } from '../presenters/index.js'

const TenantParams = idParam('tenant_id')

export function adminRoutes(app: App, { tenants }: Uses<'tenants'>) {
  app.post(
    '/v1/admin/tenants',
    operation(
      'admin',
      ['adminCreateTenant', 'Create a tenant and its first OAuth client', 'admin'],
      {
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            allowed_origins: Type.Array(Type.String({ maxLength: 300 }), { minItems: 1, maxItems: 50, description: 'Origins allowed to frame the payment page.' }),
            allow_top_level: Type.Optional(Type.Boolean({ description: 'Let the payment page open outside a frame.' })),
          },
          { additionalProperties: false },
        ),
      },
      answers(CreatedTenant, 201),
    ),
    async (request, reply) => {
      const created = await tenants.createTenant({ name: request.body.name, origins: request.body.allowed_origins, allowTopLevel: request.body.allow_top_level })
      return reply.code(201).send(ok(request, createdTenantJson(created)))
    },
  )

  app.get('/v1/admin/tenants', operation('admin', ['adminListTenants', 'List tenants', 'admin'], {}, answersList(Tenant)), async (request) =>
    ok(request, (await tenants.listTenants()).map(tenantJson)),
  )

  app.get('/v1/admin/tenants/:tenant_id', operation('admin', ['adminGetTenant', 'Get a tenant', 'admin'], { params: TenantParams }, answers(Tenant)), async (request) =>
    ok(request, tenantJson(await tenants.getTenant(request.params.tenant_id))),
  )

  app.post(
    '/v1/admin/clients',
    operation(
      'admin',
      [
        'adminCreateClient',
        'Create an OAuth client',
        'admin',
        'With `tenant_id`: a client of that tenant (tenant scopes, all by default). Without: an operator client with scope `admin`.',
      ],
      {
        body: Type.Object(
          { tenant_id: Type.Optional(Type.String({ maxLength: 80 })), scopes: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 10 })) },
          { additionalProperties: false },
        ),
      },
      answers(CreatedClient, 201),
    ),
    async (request, reply) => {
      const client = await tenants.createClient(request.body.tenant_id ?? null, request.body.scopes ?? [])
      return reply.code(201).send(ok(request, createdClientJson(client)))
    },
  )

  app.delete(
    '/v1/admin/clients/:client_id',
    operation('admin', ['adminRevokeClient', 'Revoke an OAuth client: its tokens stop working at once', 'admin'], { params: idParam('client_id') }, answers(RevokedClient)),
    async (request) => {
      await tenants.revokeClient(request.params.client_id)
      return ok(request, revokedClientJson(request.params.client_id))
    },
  )

  app.post(
    '/v1/admin/tenants/:tenant_id/card-processing-accounts',
    operation(
      'admin',
      ['adminCreateCardProcessingAccount', 'Create a card-processing account for a tenant', 'admin'],
      {
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
      },
      answers(AdminCardProcessingAccount, 201),
    ),
    async (request, reply) => {
      const account = await tenants.createAccount(request.params.tenant_id, { ...request.body, config: request.body.config as Record<string, unknown> | undefined })
      return reply.code(201).send(ok(request, adminAccountJson(account)))
    },
  )

  app.get(
    '/v1/admin/tenants/:tenant_id/card-processing-accounts',
    operation('admin', ['adminListCardProcessingAccounts', "List a tenant's card-processing accounts", 'admin'], { params: TenantParams }, answersList(AdminCardProcessingAccount)),
    async (request) => ok(request, (await tenants.listAccounts(request.params.tenant_id)).map(adminAccountJson)),
  )

  app.patch(
    '/v1/admin/tenants/:tenant_id/card-processing-accounts/:card_processing_id',
    operation(
      'admin',
      [
        'adminUpdateCardProcessingAccount',
        "Replace a card-processing account's processor configuration",
        'admin',
        'Rotates the credentials: checked against the processor’s schema (nothing saved when a key is missing, unknown or of the wrong kind), stored encrypted, never shown.',
      ],
      {
        params: Type.Object({ tenant_id: Type.String({ maxLength: 80 }), card_processing_id: Type.String({ maxLength: 80 }) }),
        body: Type.Object(
          { config: Type.Object({}, { additionalProperties: true, description: 'Processor credentials; stored encrypted, never shown.' }) },
          { additionalProperties: false },
        ),
      },
      answers(AdminCardProcessingAccount),
    ),
    async (request) => {
      const account = await tenants.updateAccountConfig(request.params.card_processing_id, request.body.config as Record<string, unknown>, request.params.tenant_id)
      return ok(request, adminAccountJson(account))
    },
  )

  app.post(
    '/v1/admin/tenants/:tenant_id/card-processing-accounts/:card_processing_id/approvals',
    operation(
      'admin',
      ['adminApproveEnrolment', "Approve a user's enrolment in a card-processing account", 'admin'],
      {
        params: Type.Object({ tenant_id: Type.String({ maxLength: 80 }), card_processing_id: Type.String({ maxLength: 80 }) }),
        body: Type.Object({ user_id: Type.String({ maxLength: 80 }) }, { additionalProperties: false }),
      },
      answers(EnrolmentApproval),
    ),
    async (request) => {
      const approval = await tenants.approveEnrolment(request.params.tenant_id, request.body.user_id, request.params.card_processing_id)
      return ok(request, enrolmentApprovalJson(approval))
    },
  )
}
