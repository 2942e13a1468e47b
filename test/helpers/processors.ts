/**
 * Payers on a real processor's account (Stripe, Adyen) pointed at a local fake through the
 * account's `api_base`: the tenant, the account with its configuration (sealed by paylink),
 * a user enrolled and approved by the operator, as a real account needs.
 */
import type { TestServer } from './server.js'
import { addPayer, newTenant, type TenantOptions } from './world.js'

/** `tenant`: the new tenant's options (its allowed origins, for a page framed in a browser). */
export async function setupProcessorPayer(
  server: TestServer,
  account: { processor: string; config: Record<string, unknown>; currencies?: string[]; tenant?: TenantOptions },
) {
  const world = await newTenant(server, account.tenant)
  const created = await server.services.tenants.createAccount(world.tenant.tenantId, {
    name: account.processor,
    processor: account.processor,
    currencies: account.currencies ?? ['USD', 'EUR'],
    config: account.config,
  })
  const payer = await addPayer({ ...world, accountId: created.id as string })
  await server.services.tenants.approveEnrolment(world.tenant.tenantId, payer.userId, created.id)
  return payer
}
export type ProcessorPayer = Awaited<ReturnType<typeof setupProcessorPayer>>
