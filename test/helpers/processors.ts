/**
 * Payers on a real processor's account (Stripe, Adyen) pointed at a local fake through the
 * account's `api_base`: the tenant, the account with its configuration (sealed by paylink),
 * a user enrolled and approved by the operator, as a real account needs.
 */
import { expect } from 'vitest'
import type { TestServer } from './server.js'
import { addPayer, newTenant, type TenantOptions } from './world.js'
import { claimPage, confirm, mint } from './page.js'

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

/** Opens a new link of the payer in a frame and confirms `body` on it (the test fails unless the answer is 200). */
export async function confirmOn(p: ProcessorPayer, body: Record<string, unknown>) {
  const link = await mint(p)
  const { session } = await claimPage(link.payUrl)
  const answer = await confirm(link.payUrl, session, body)
  expect(answer.status, answer.text).toBe(200)
  return { link, session, answer: answer.body.data }
}

/** The outcome a page back from 3-D Secure shows (its `data-result`). */
export const returnedResult = (html: string) => JSON.parse(/data-result="([^"]+)"/.exec(html)![1]!.replace(/&quot;/g, '"').replace(/&amp;/g, '&'))

/** The types of the events paylink wrote for an intent (its payment's and its refunds'). */
export const tenantEventsOf = (server: TestServer, intentId: string) => server.db.query<{ type: string }>('SELECT type FROM events WHERE payment_intent_id = $1', [intentId])
