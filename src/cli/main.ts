/**
 * The operator CLI: `paylink <command>`. Every command takes `--json` for output a
 * script can read. Commands that change data work straight on the database (the same
 * services /v1/admin uses); on the embedded database they refuse, touching nothing,
 * while a server holds it.
 */
import { ConfigError, loadConfig, resolveEncryptionKey } from '../config.js'
import { buildServices, type Services } from '../composition.js'
import { openDatabase, serve } from '../main.js'
import { migrate } from '../storage/migrate.js'
import { DatabaseLockedError } from '../storage/embedded.js'
import { systemClock } from '../domain/shared/clock.js'
import { AppError } from '../domain/shared/errors.js'
import { Flags, parseArgs, UsageError } from './args.js'
import { REFUND_REASONS, type RefundReason } from '../domain/payments/refunds.js'
import type { TenantId } from '../domain/shared/ids.js'
import { portalLinkJson, refundJson } from '../http/presenters/index.js'
import { PORTAL_TTL } from '../domain/portal/service.js'

const USAGE = `paylink — hosted card-payment links

Usage:
  paylink serve [--demo]                           run the service (API, payment page, worker by ROLE); --demo also on PostgreSQL/production
  paylink migrate                                  apply database migrations
  paylink tenant create --name N --origin URL [--origin URL …] [--allow-top-level]
  paylink tenant list
  paylink client create --tenant T [--scopes "payments:write users:write …"]
  paylink client create --admin                    an operator client for /v1/admin
  paylink client revoke --client C
  paylink account create --tenant T --processor sandbox|stripe|adyen --currencies USD,EUR --name N [--priority P] [--config JSON]
  paylink account update --account A --config JSON   replace the account's processor credentials (checked, stored encrypted)
  paylink account approve --tenant T --user U --account A
  paylink refund create --tenant T --payment-intent pi_… [--amount 5.00] [--reason requested_by_customer|duplicate|fraudulent]
                                                   refund a payment (all that is left unless --amount)
  paylink portal link --tenant T [--expires-in S]  a one-time link to the tenant portal with every tenant scope (S: 60–86400 seconds, default 3600)
  paylink reencrypt                                move every sealed value from DATA_ENCRYPTION_KEY_PREVIOUS to DATA_ENCRYPTION_KEY (resumable, safe while serving)
  paylink keys rotate                              a new access-token signing key (the previous one keeps verifying)
  paylink openapi                                  print the OpenAPI document
Every command takes --json.`

const BOOLEAN_FLAGS = new Set(['json', 'admin', 'allow-top-level', 'help', 'demo'])

type Output = Record<string, unknown>

/** `--config JSON`: a JSON object. The value is never repeated in an error: it holds credentials. */
function configFlag(text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UsageError('--config must be a JSON object, e.g. \'{"secret_key": "sk_test_…", "webhook_secret": "whsec_…"}\'')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError('--config must be a JSON object')
  return value as Record<string, unknown>
}

async function withServices<T>(purpose: string, fn: (s: Services) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const encryptionKey = resolveEncryptionKey(config, (m) => process.stderr.write(`warning: ${m}\n`))
  const db = await openDatabase(config, purpose)
  try {
    await migrate(db)
    return await fn(await buildServices({ config, db, clock: systemClock, encryptionKey }))
  } finally {
    await db.close()
  }
}

async function run(words: string[], f: Flags): Promise<{ json: Output; text: string } | undefined> {
  const [noun, verb] = words
  const cmd = `${noun ?? ''} ${verb ?? ''}`.trim()
  switch (cmd) {
    case 'migrate': {
      f.done()
      const config = loadConfig()
      const db = await openDatabase(config, 'paylink migrate')
      try {
        const applied = await migrate(db)
        return { json: { applied }, text: applied.length ? `Applied migrations ${applied.join(', ')}.` : 'The database is up to date.' }
      } finally {
        await db.close()
      }
    }
    case 'tenant create': {
      const name = f.required('name')
      const origins = f.many('origin')
      const allowTopLevel = f.bool('allow-top-level')
      f.done()
      if (origins.length === 0) throw new UsageError('--origin is required (the site that will frame the payment page)')
      const r = await withServices('paylink tenant create', (s) => s.tenants.createTenant({ name, origins, allowTopLevel }))
      return {
        json: { tenant_id: r.tenant.id, client_id: r.clientId, client_secret: r.clientSecret },
        text: `Tenant ${r.tenant.id} (${r.tenant.name})\n  client_id:     ${r.clientId}\n  client_secret: ${r.clientSecret}\nThe secret is shown only now.`,
      }
    }
    case 'tenant list': {
      f.done()
      const tenants = await withServices('paylink tenant list', (s) => s.tenants.listTenants())
      const rows = tenants.map((t) => ({ tenant_id: t.id, name: t.name, allowed_origins: t.allowedOrigins, allow_top_level: t.allowTopLevel }))
      return { json: { tenants: rows }, text: rows.map((t) => `${t.tenant_id}  ${t.name}  ${t.allowed_origins.join(' ')}`).join('\n') || 'No tenants.' }
    }
    case 'client create': {
      const admin = f.bool('admin')
      const tenant = f.one('tenant')
      const scopes = (f.one('scopes') ?? '').split(/[\s,]+/).filter(Boolean)
      f.done()
      if (admin === (tenant !== undefined)) throw new UsageError('give either --tenant T or --admin')
      const c = await withServices('paylink client create', (s) => s.tenants.createClient(admin ? null : tenant!, scopes))
      return {
        json: { client_id: c.clientId, client_secret: c.clientSecret, tenant_id: c.tenantId, scopes: c.scopes },
        text: `Client ${c.clientId} (${c.scopes.join(' ')})\n  client_secret: ${c.clientSecret}\nThe secret is shown only now.`,
      }
    }
    case 'client revoke': {
      const client = f.required('client')
      f.done()
      await withServices('paylink client revoke', (s) => s.tenants.revokeClient(client))
      return { json: { client_id: client, revoked: true }, text: `Client ${client} is revoked.` }
    }
    case 'account create': {
      const tenant = f.required('tenant')
      const processor = f.required('processor')
      const currencies = f.required('currencies').split(/[\s,]+/).filter(Boolean)
      const name = f.required('name')
      const priorityText = f.one('priority')
      const configText = f.one('config')
      f.done()
      const priority = priorityText === undefined ? undefined : Number(priorityText)
      if (priority !== undefined && !Number.isInteger(priority)) throw new UsageError('--priority must be a whole number')
      const config = configText === undefined ? undefined : configFlag(configText)
      const a = await withServices('paylink account create', (s) => s.tenants.createAccount(tenant, { name, processor, currencies, priority, config }))
      return { json: { card_processing_id: a.id }, text: `Card-processing account ${a.id} (${a.processor}, ${a.currencies.join(', ')})` }
    }
    case 'account update': {
      const account = f.required('account')
      const config = configFlag(f.required('config'))
      f.done()
      const a = await withServices('paylink account update', (s) => s.tenants.updateAccountConfig(account, config))
      return { json: { card_processing_id: a.id, updated: ['config'] }, text: `Card-processing account ${a.id}: new ${a.processor} configuration saved (encrypted).` }
    }
    case 'account approve': {
      const tenant = f.required('tenant')
      const user = f.required('user')
      const account = f.required('account')
      f.done()
      const a = await withServices('paylink account approve', (s) => s.tenants.approveEnrolment(tenant, user, account))
      return {
        json: { tenant_id: a.tenantId, user_id: a.userId, card_processing_id: a.accountId, status: a.status },
        text: `User ${a.userId} is approved for ${a.accountId}.`,
      }
    }
    case 'refund create': {
      const tenant = f.required('tenant')
      const intent = f.required('payment-intent')
      const amount = f.one('amount')
      const reason = f.one('reason')
      f.done()
      if (reason !== undefined && !(REFUND_REASONS as readonly string[]).includes(reason)) throw new UsageError(`--reason must be one of ${REFUND_REASONS.join(', ')}`)
      const r = await withServices('paylink refund create', async (s) => {
        const reserved = await s.refunds.reserve(tenant as TenantId, intent, { ...(amount !== undefined ? { amount } : {}), ...(reason ? { reason: reason as RefundReason } : {}) })
        return s.refunds.send(tenant as TenantId, reserved.id)
      })
      const shown = refundJson(r)
      return { json: shown, text: `Refund ${r.id}: ${shown.amount} ${r.currency} of ${r.paymentIntentId}, ${r.status}${r.failureCode ? ` (${r.failureCode})` : ''}.` }
    }
    case 'portal link': {
      const tenant = f.required('tenant')
      const expiresText = f.one('expires-in')
      f.done()
      const expiresIn = expiresText === undefined ? undefined : Number(expiresText)
      if (expiresIn !== undefined && !(/^\d+$/.test(expiresText!) && expiresIn >= PORTAL_TTL.min && expiresIn <= PORTAL_TTL.max)) {
        throw new UsageError(`--expires-in must be a whole number of seconds from ${PORTAL_TTL.min} to ${PORTAL_TTL.max}`)
      }
      const link = await withServices('paylink portal link', (s) => s.portal.createLinkForOperator(tenant, expiresIn))
      const shown = portalLinkJson(link)
      return { json: shown, text: `${shown.url}\nOpens the portal of ${tenant} once, until ${shown.expires_at}. Hand it to one person: it is a credential until used.` }
    }
    case 'reencrypt': {
      f.done()
      const report = await withServices('paylink reencrypt', (s) => s.reencrypt())
      const unreadable = report.columns.reduce((n, c) => n + c.unreadable, 0)
      const resealed = report.columns.reduce((n, c) => n + c.resealed, 0)
      if (unreadable) process.exitCode = 1
      return {
        json: { ...report },
        text: [
          ...report.columns.map((c) => `${c.column}: ${c.resealed} re-encrypted, ${c.current} already current${c.unreadable ? `, ${c.unreadable} UNREADABLE with either key` : ''}`),
          unreadable
            ? `${unreadable} values open with neither key: keep DATA_ENCRYPTION_KEY_PREVIOUS and look into them.`
            : `Done: ${resealed} values moved; every sealed value is under DATA_ENCRYPTION_KEY. DATA_ENCRYPTION_KEY_PREVIOUS can be dropped.`,
        ].join('\n'),
      }
    }
    case 'keys rotate': {
      f.done()
      const kid = await withServices('paylink keys rotate', (s) => s.keys.rotate())
      return { json: { kid }, text: `New signing key ${kid}. The previous key keeps verifying tokens already issued; restart API processes to sign with the new one at once (they pick it up on their own for verification).` }
    }
    case 'openapi': {
      f.done()
      const { openApiDocument } = await import('./openapi.js')
      const doc = (await openApiDocument()) as Output
      return { json: doc, text: JSON.stringify(doc, null, 2) }
    }
    default:
      return undefined
  }
}

export async function main(argv: string[]) {
  let json = false
  try {
    const parsed = parseArgs(argv, BOOLEAN_FLAGS)
    json = parsed.flags.has('json')
    if (parsed.words[0] === 'serve') {
      await serve({ demo: parsed.flags.has('demo') })
      return
    }
    if (parsed.words.length === 0 || parsed.flags.has('help')) {
      process.stdout.write(USAGE + '\n')
      process.exitCode = parsed.words.length === 0 && !parsed.flags.has('help') ? 2 : 0
      return
    }
    const out = await run(parsed.words, new Flags(parsed))
    if (!out) throw new UsageError(`unknown command "${parsed.words.join(' ')}"`)
    process.stdout.write((json ? JSON.stringify(out.json) : out.text) + '\n')
  } catch (err) {
    process.exitCode = err instanceof UsageError ? 2 : 1
    const message =
      err instanceof ConfigError
        ? err.problems.map((p) => `configuration: ${p}`).join('\n')
        : err instanceof UsageError
          ? `${err.message}\n\n${USAGE}`
          : err instanceof DatabaseLockedError || err instanceof AppError
            ? err.message + (err instanceof AppError && err.details?.some((d) => !err.message.includes(d.issue)) ? ` (${err.details.map((d) => `${d.field} ${d.issue}`).join('; ')})` : '')
            : `unexpected error: ${(err as Error).message}`
    if (json) process.stderr.write(JSON.stringify({ error: { code: err instanceof AppError ? err.code : err instanceof UsageError ? 'usage' : 'error', message } }) + '\n')
    else process.stderr.write(`paylink: ${message}\n`)
  }
}

