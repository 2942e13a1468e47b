/**
 * The demo tenant `npm start` creates on a new embedded database: a tenant whose allowed
 * origin is the demo shop, a sandbox account, a demo user enrolled in it, and a webhook
 * endpoint on the shop's server. Its credentials are kept in DATA_DIR/demo.json (mode
 * 0600) so later starts print them again; nothing of the demo runs in production or on
 * PostgreSQL unless `--demo` is given.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { Services } from '../composition.js'
import type { DemoCredentials } from './shop.js'

export async function ensureDemoTenant(services: Services, dataDir: string, shopOrigin: string): Promise<DemoCredentials & { created: boolean }> {
  const file = path.join(dataDir, 'demo.json')
  if (fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as DemoCredentials & { shopOrigin?: string }
    const exists = await services.tenants.getTenant(saved.tenantId).then(
      () => true,
      () => false,
    )
    if (exists && saved.shopOrigin === shopOrigin) return { ...saved, created: false }
  }
  const { tenant, clientId, clientSecret } = await services.tenants.createTenant({ name: 'Demo Shop', origins: [shopOrigin] })
  const tenantId = tenant.id
  const account = await services.tenants.createAccount(tenantId, { name: 'Sandbox', processor: 'sandbox', currencies: ['USD', 'EUR', 'GBP'] })
  const user = await services.users.create(tenantId, { external_id: 'demo-customer', email: 'ada@example.com', name: 'Ada Lovelace' })
  await services.cardProcessing.enrol(tenantId, user.id, account.id)
  const { secret } = await services.webhooks.create(tenantId, { url: `${shopOrigin}/webhooks/paylink`, description: 'The demo shop' })
  const creds: DemoCredentials = { tenantId, clientId, clientSecret, userId: user.id, webhookSecret: secret }
  fs.mkdirSync(dataDir, { recursive: true })
  fs.writeFileSync(file, JSON.stringify({ ...creds, shopOrigin }, null, 2), { mode: 0o600 })
  return { ...creds, created: true }
}

export function demoBanner(apiBase: string, shopUrl: string, c: DemoCredentials): string {
  return [
    '',
    '  paylink is running with a demo tenant',
    '',
    `  Demo shop   ${shopUrl}   ← open it and pay with 4242 4242 4242 4242`,
    `  API         ${apiBase}   (reference: ${apiBase}/docs)`,
    '',
    `  tenant_id      ${c.tenantId}`,
    `  client_id      ${c.clientId}`,
    `  client_secret  ${c.clientSecret}`,
    `  demo user      ${c.userId}`,
    '',
    '  Mint a link yourself:',
    `    TOKEN=$(curl -s -u ${c.clientId}:${c.clientSecret} -d grant_type=client_credentials ${apiBase}/oauth/token | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `    curl -s ${apiBase}/v1/platform/card/payment-link -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"user_id":"${c.userId}","amount":"12.50"}'`,
    '',
  ].join('\n')
}
