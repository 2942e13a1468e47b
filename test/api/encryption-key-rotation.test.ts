/**
 * Rotating DATA_ENCRYPTION_KEY (issue 13 item 4): data made under key A; the service
 * restarted with key B and A as DATA_ENCRYPTION_KEY_PREVIOUS reads all of it; `reencrypt`
 * moves every sealed value to B (and is resumable: a second run moves nothing); restarted
 * with only B, access tokens verify, saved cards charge, webhooks sign, idempotent answers
 * replay and processor credentials open.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../src/storage/db.js'
import { SEALED_COLUMNS } from '../../src/storage/repositories/sealed-values.js'
import { CARDS, TEST_ENCRYPTION_KEY, apiClient, TestClock, claimPage, confirm, getToken, mint, newCard, openPrivateDb, pay, payerWithEndpoint, startReceiver, startServer, type Receiver, type TestServer } from '../helpers/index.js'

const KEY_A = TEST_ENCRYPTION_KEY
const KEY_B = Buffer.alloc(32, 0x42)
const ENV = { ALLOW_PRIVATE_WEBHOOK_URLS: 'true' }

let db: { db: Db; drop(): Promise<void> }
let hooks: Receiver
const clock = new TestClock()
let servers: TestServer[] = []
const start = async (key: Buffer, env: Record<string, string> = {}) => {
  const s = await startServer({ ...ENV, ...env }, { db: db.db, clock, encryptionKey: key })
  servers.push(s)
  return s
}
const stop = async (s: TestServer) => {
  await s.close()
  servers = servers.filter((x) => x !== s)
}

beforeAll(async () => {
  db = await openPrivateDb()
  hooks = await startReceiver('/hooks', { clock })
})
afterAll(async () => {
  for (const s of servers) await s.close()
  await hooks?.close()
  await db?.drop()
})

describe('DATA_ENCRYPTION_KEY rotation', () => {
  it('reads under the previous key, re-encrypts everything, then works with the new key alone', { timeout: 120_000 }, async () => {
    // Under key A: a tenant (its client, a signing key), a webhook endpoint, a saved card, an idempotent mint, a Stripe account's credentials.
    const a = await start(KEY_A)
    const payer = await payerWithEndpoint(a, hooks)
    const saved = await pay(payer, CARDS.visa)
    const link = await mint(payer)
    const { session } = await claimPage(link.payUrl)
    const first = await confirm(link.payUrl, session, { card: newCard(CARDS.mastercard), save_card: true })
    const cardId = first.body.data.saved_card_id as string
    expect(cardId).toMatch(/^card_/)
    const minted = await apiClient(a, await getToken(a, payer.tenant)).post('/v1/platform/card/payment-link', { user_id: payer.userId, amount: '3.00' }, { headers: { 'idempotency-key': 'rotate-1' } })
    expect(minted.status).toBe(201)
    const stripe = await a.services.tenants.createAccount(payer.tenant.tenantId, { name: 'Stripe', processor: 'stripe', currencies: ['USD'], config: { secret_key: 'sk_test_rotate123', webhook_secret: 'whsec_rotate' } })
    expect(saved.answer.status).toBe('succeeded')
    await stop(a)

    // Key B with A as the previous key: everything made under A still works.
    const b = await start(KEY_B, { DATA_ENCRYPTION_KEY_PREVIOUS: KEY_A.toString('hex') })
    expect(await getToken(b, payer.tenant)).toEqual(expect.any(String))
    const report = await b.services.reencrypt()
    const total = (k: 'resealed' | 'current' | 'unreadable') => report.columns.reduce((n, c) => n + c[k], 0)
    expect(total('unreadable')).toBe(0)
    expect(total('resealed')).toBeGreaterThanOrEqual(6)
    for (const column of ['signing_keys.private_jwk_encrypted', 'kept_keys.value_sealed', 'saved_cards.token_encrypted', 'webhook_endpoints.secret_encrypted', 'card_processing_accounts.config_encrypted', 'idempotency_keys.response_sealed']) {
      expect(report.columns.find((c) => c.column === column)!.resealed, column).toBeGreaterThanOrEqual(1)
    }
    // Resumable: a second run finds nothing left under A.
    const again = await b.services.reencrypt()
    expect(again.columns.reduce((n, c) => n + c.resealed + c.unreadable, 0)).toBe(0)
    await stop(b)

    // Key B alone.
    const c = await start(KEY_B)
    const token = await getToken(c, payer.tenant)
    const me = await fetch(`${c.baseUrl}/v1/platform/users/${payer.userId}`, { headers: { authorization: `Bearer ${token}` } })
    expect(me.status).toBe(200)
    const api = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
      fetch(`${c.baseUrl}${path}`, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) }).then(async (r) => ({ status: r.status, body: await r.json() }))
    // The idempotent answer replays.
    const replay = await api('/v1/platform/card/payment-link', { user_id: payer.userId, amount: '3.00' }, { 'idempotency-key': 'rotate-1' })
    expect(replay.body.data).toEqual(minted.body.data)
    // The saved card charges.
    const next = await api('/v1/platform/card/payment-link', { user_id: payer.userId, amount: '4.00' })
    const page = await claimPage(next.body.data.pay_url)
    const paid = await confirm(next.body.data.pay_url, page.session, { saved_card_id: cardId })
    expect(paid.body.data).toMatchObject({ status: 'succeeded', saved_card_id: cardId })
    // The webhook is signed with the endpoint's secret.
    await c.services.background.tick()
    const delivered = hooks.received.filter((h) => h.json?.data?.payment_intent_id === next.body.data.payment_intent_id)
    expect(delivered).toHaveLength(1)
    expect(delivered[0]!.verified).toBe(true)
    // The processor credentials open.
    const [row] = await db.db.query<{ config_encrypted: string }>('SELECT config_encrypted FROM card_processing_accounts WHERE id = $1', [stripe.id])
    expect(JSON.parse(c.services.sealer.open(row!.config_encrypted, `account:${stripe.id}`).toString())).toEqual({ secret_key: 'sk_test_rotate123', webhook_secret: 'whsec_rotate' })
  })

  it('knows every sealed column of the schema', async () => {
    const rows = await db.db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND (column_name LIKE '%\\_encrypted' OR column_name LIKE '%\\_sealed' OR column_name = 'action_redirect')`,
    )
    expect(rows.map((r) => `${r.table_name}.${r.column_name}`).sort()).toEqual(SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`).sort())
  })
})
