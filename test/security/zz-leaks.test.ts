/**
 * No card data and no secret anywhere it should not be (issue 6 item 3; SPEC "Saved cards":
 * never the card number, never the CVC — not in the database, the logs or an error).
 *
 * Runs last (the suite's sequencer puts zz- files at the end, one file at a time), on a server
 * whose every log line is captured. It pays with every sandbox test card and more (typed with
 * spaces, dashes or bare; saved or not; 3-D Secure approved and declined; a saved card
 * reused), sends card data in refused confirms and secrets where they do not belong (query
 * strings, wrong places, wrong methods), and then searches:
 * - every row of every table (SELECT *, JSON) — on PostgreSQL the database the whole suite
 *   shared, so the rows the other files wrote too — for card numbers, link tokens, page
 *   sessions, client secrets, bearer tokens and webhook secrets; CVCs in the rows this file
 *   made (a three-digit number is too common to blame on rows of the fuzzer's random data);
 * - every log line, and every error answer, for all of them;
 * - every answer at all for card numbers and CVCs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, FRAME, NOT_LUHN, TEST_CARD_NUMBERS, TOP_LEVEL, getToken, newCard, sessionOf, setupPayer, spaced, startServer, tokenOf, usingPostgres, type Payer, type TestServer } from '../helpers/index.js'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'
import { closeAgent, everyRow, raw } from './support.js'

const logs: string[] = []
let server: TestServer
let payer: Payer

/** Every answer of this file: [what was asked, status, text]. */
const answers: Array<{ what: string; status: number; text: string }> = []
/** Secrets this file holds, by kind. */
const secrets = { linkTokens: [] as string[], sessions: [] as string[], clientSecrets: [] as string[], bearerTokens: [] as string[], webhookSecrets: [] as string[] }
const myIntents = new Set<string>()
const myClients = new Set<string>()

const CVC3 = '737'
const CVC4 = '7373'
/** Beyond the table: other Luhn-valid numbers succeed (Visa, Discover, JCB, Mastercard 2-series). */
const OTHER_CARDS = ['4111 1111 1111 1111', '6011 1111 1111 1117', '3530 1113 3330 0000', '2223 0031 2200 3222']
const TYPED = [...TEST_CARD_NUMBERS, ...OTHER_CARDS.map((n) => n.replace(/ /g, ''))]

const figures = { payments: 0, rows: 0, tables: 0, cvcRows: 0, logLines: 0, answers: 0, errorAnswers: 0 }

/** Records an answer for the search. */
async function record(what: string, res: Response) {
  const text = await res.text()
  answers.push({ what, status: res.status, text })
  let body: any
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: res.status, text, body, headers: res.headers }
}

const typedAs = (digits: string, i: number) => (i % 3 === 0 ? digits.replace(/(\d{4})(?=\d)/g, '$1 ') : i % 3 === 1 ? digits : digits.replace(/(\d{4})(?=\d)/g, '$1-'))
const cvcFor = (digits: string) => (digits.startsWith('34') || digits.startsWith('37') ? CVC4 : CVC3)

let links = 0
async function openLink() {
  // With an Idempotency-Key: the stored answer holds the pay_url, and must hold it sealed.
  const headers = { authorization: `Bearer ${payer.token}`, 'content-type': 'application/json', 'idempotency-key': `leaks-${++links}-${Date.now()}` }
  const minted = await record('mint', await fetch(`${server.baseUrl}/v1/platform/card/payment-link`, { method: 'POST', headers, body: JSON.stringify({ user_id: payer.userId, amount: '12.50' }) }))
  const payUrl = minted.body.data.pay_url as string
  const token = tokenOf(payUrl)
  myIntents.add(minted.body.data.payment_intent_id)
  const page = await record('page', await fetch(payUrl, { headers: FRAME }))
  const session = sessionOf(page.text)!
  secrets.linkTokens.push(token)
  secrets.sessions.push(session)
  return { payUrl, token, session, intentId: minted.body.data.payment_intent_id as string }
}

const pay = (link: { payUrl: string; session?: string }, what: 'confirm' | 'challenge', body: unknown, opts: { raw?: string; session?: string | null } = {}) =>
  fetch(`${link.payUrl}/${what}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.session === null ? {} : { 'x-paylink-session': opts.session ?? link.session! }) },
    body: opts.raw ?? JSON.stringify(body),
  }).then((r) => record(what, r))

beforeAll(async () => {
  server = await startServer({}, { logs })
  payer = await setupPayer(server)
  secrets.clientSecrets.push(payer.tenant.clientSecret)
  secrets.bearerTokens.push(payer.token)
  myClients.add(payer.tenant.clientId)
  // An operator, a second tenant client made through /v1/admin, a webhook endpoint and its rotation.
  const operator = await server.services.tenants.createClient(null, [])
  myClients.add(operator.clientId)
  secrets.clientSecrets.push(operator.clientSecret)
  const adminToken = await getToken(server, operator)
  secrets.bearerTokens.push(adminToken)
  const second = await record('admin create client', await fetch(`${server.baseUrl}/v1/admin/clients`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ tenant_id: payer.tenant.tenantId }) }))
  secrets.clientSecrets.push(second.body.data.client_secret)
  myClients.add(second.body.data.client_id)
  // client_secret_post: the secret in a form body.
  const posted = await record('token (post)', await fetch(`${server.baseUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'client_credentials', client_id: second.body.data.client_id, client_secret: second.body.data.client_secret, scope: TENANT_SCOPES.join(' ') }) }))
  secrets.bearerTokens.push(posted.body.access_token)
  const endpoint = await record('webhook endpoint', await fetch(`${server.baseUrl}/v1/platform/webhook-endpoints`, { method: 'POST', headers: { authorization: `Bearer ${payer.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: 'https://hooks.shop.example/paylink' }) }))
  secrets.webhookSecrets.push(endpoint.body.data.secret)
  const rotated = await record('rotate', await fetch(`${server.baseUrl}/v1/platform/webhook-endpoints/${endpoint.body.data.id}/rotate-secret`, { method: 'POST', headers: { authorization: `Bearer ${payer.token}` } }))
  secrets.webhookSecrets.push(rotated.body.data.secret)
})
afterAll(async () => {
  console.log(
    `[security/leaks] ${figures.payments} payments with ${TYPED.length} card numbers; searched ${figures.rows} rows in ${figures.tables} tables (${figures.cvcRows} of them for CVCs${usingPostgres() ? ', the rows of this file' : ''}), ` +
      `${figures.logLines} log lines, ${figures.answers} answers (${figures.errorAnswers} errors) for card numbers, CVCs, ${secrets.linkTokens.length} link tokens, ${secrets.sessions.length} page sessions, ` +
      `${secrets.clientSecrets.length} client secrets, ${secrets.bearerTokens.length} bearer tokens and ${secrets.webhookSecrets.length} webhook secrets: ${leaksFound} found`,
  )
  closeAgent(server)
  await server.close()
})
let leaksFound = 0

describe('card data and secrets stay where they belong', () => {
  it('pays with every sandbox test card and more, each typed its own way, some saved, 3-D Secure both ways', async () => {
    let saved: string | undefined
    for (const [i, digits] of TYPED.entries()) {
      const link = await openLink()
      const r = await pay(link, 'confirm', { card: newCard(typedAs(digits, i), { cvc: cvcFor(digits), name: 'Ada Lovelace' }), save_card: i % 2 === 0 })
      expect(r.status, r.text).toBe(200)
      figures.payments++
      if (r.body.data.status === 'requires_authentication') expect((await pay(link, 'challenge', { answer: 'approve' })).body.data.status).toBe('succeeded')
      if (digits === CARDS.visa) saved = r.body.data.saved_card_id
    }
    // 3-D Secure declined.
    const declined = await openLink()
    expect((await pay(declined, 'confirm', { card: newCard(spaced(CARDS.challenge), { cvc: CVC3 }), save_card: true })).body.data.status).toBe('requires_authentication')
    expect((await pay(declined, 'challenge', { answer: 'decline' })).body.data.status).toBe('failed')
    figures.payments++
    // The saved card, in one click.
    expect(saved).toMatch(/^card_/)
    const again = await openLink()
    expect((await pay(again, 'confirm', { saved_card_id: saved })).body.data.status).toBe('succeeded')
    figures.payments++
  })

  it('refuses card data sent wrongly without repeating it', async () => {
    const link = await openLink()
    const good = newCard(spaced(CARDS.visa), { cvc: CVC3 })
    const refusals: Array<[string, unknown, { raw?: string; session?: string | null }?]> = [
      ['a number failing Luhn', { card: newCard(NOT_LUHN, { cvc: CVC3 }) }],
      ['an Amex with a three-digit CVC', { card: newCard(spaced(CARDS.amex), { cvc: CVC3 }) }],
      ['a Visa with a four-digit CVC', { card: newCard(spaced(CARDS.visa), { cvc: CVC4 }) }],
      ['an expired card', { card: { ...good, exp_year: 2001 } }],
      ['an unknown field beside a card', { card: good, amount: 1 }],
      ['an unknown field in the card', { card: { ...good, cvv: CVC3 } }],
      ['exp_month as a string', { card: { ...good, exp_month: '12' } }],
      ['the number as a number', { card: { ...good, number: Number(CARDS.visa) } }],
      ['a CVC as a number', { card: { ...good, cvc: 737 } }],
      ['a card and a saved card', { card: good, saved_card_id: 'card_x' }],
      ['broken JSON', undefined, { raw: `{"card":{"number":"${CARDS.visa}","cvc":"${CVC3}"` }],
      ['no session', { card: good }, { session: null }],
      ['a wrong session', { card: good }, { session: 'x'.repeat(43) }],
      ['a body over the limit', { card: { ...good, name: 'n'.repeat(70_000) } }],
    ]
    for (const [what, body, opts] of refusals) {
      const r = await pay(link, 'confirm', body, opts)
      expect(r.status, `${what}: ${r.text}`).toBeGreaterThanOrEqual(400)
      expect(r.status, what).toBeLessThan(500)
    }
    // On a link that does not exist, with a session that is not one.
    const unknown = await record('confirm on an unknown link', await fetch(`${server.baseUrl}/pay/${'A'.repeat(43)}/confirm`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-paylink-session': 'y'.repeat(43) }, body: JSON.stringify({ card: good }) }))
    expect(unknown.status).toBe(404)
    // The link still pays after all that.
    expect((await pay(link, 'confirm', { card: good })).body.data.status).toBe('succeeded')
  })

  it('keeps secrets sent where they do not belong out of the logs and answers', async () => {
    const [clientSecret] = secrets.clientSecrets
    const token = payer.token
    const link = secrets.linkTokens[0]!
    const session = secrets.sessions[0]!
    const requests: Array<[string, Parameters<typeof raw>[1]]> = [
      ['credentials in the query', { method: 'GET', path: `/v1/platform/users?client_secret=${clientSecret}&access_token=${token}` }],
      ['a token in the query of an unknown route', { method: 'GET', path: `/v1/nothing?access_token=${token}&token=${link}` }],
      ['a bearer token on an unknown route', { method: 'GET', path: '/v1/nothing', headers: { authorization: `Bearer ${token}` } }],
      ['a bearer token with a bad signature', { method: 'GET', path: '/v1/platform/users', headers: { authorization: `Bearer ${token.slice(0, -3)}AAA` } }],
      ['a bearer token without its scope', { method: 'GET', path: '/v1/admin/tenants', headers: { authorization: `Bearer ${token}` } }],
      ['a wrong client secret', { method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=client_credentials&client_id=${payer.tenant.clientId}&client_secret=${clientSecret}x` }],
      ['client credentials as JSON', { method: 'POST', path: '/oauth/token', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: payer.tenant.clientId, client_secret: clientSecret }) }],
      ['a session as a cookie', { method: 'POST', path: `/pay/${link}/confirm`, headers: { 'content-type': 'application/json', cookie: `s=${session}` }, body: '{}' }],
      ['a used link, framed', { method: 'GET', path: `/pay/${link}`, headers: FRAME }],
      ['a used link, top level', { method: 'GET', path: `/pay/${link}`, headers: TOP_LEVEL }],
      ['a used link with a secret in the query', { method: 'GET', path: `/pay/${link}?session=${session}&token=${link}`, headers: FRAME }],
      ['a used link, HEAD', { method: 'HEAD', path: `/pay/${link}` }],
      ['the page session on an API route', { method: 'GET', path: '/v1/platform/users', headers: { 'x-paylink-session': session, authorization: `Bearer ${session}` } }],
    ]
    for (const [what, req] of requests) {
      const res = await raw(server, req)
      answers.push({ what, status: res.status, text: res.text })
      expect(res.status, what).toBeLessThan(500)
    }
  })

  it('finds none of it in any table, log line or error answer, nor card data in any answer', async () => {
    const rows = await everyRow(server)
    const tables = new Set(rows.map((r) => r.table))
    expect([...tables]).toEqual(expect.arrayContaining(['payment_intents', 'saved_cards', 'sandbox_charges', 'sandbox_vault', 'oauth_clients', 'webhook_endpoints', 'events', 'idempotency_keys']))
    figures.tables = tables.size
    figures.rows = rows.length
    // The search looks where the data is: our cards in the rows, the calls to /pay in the logs.
    expect(rows.some((r) => r.table === 'saved_cards' && r.text.includes('"4242"'))).toBe(true)
    expect(rows.some((r) => r.table === 'sandbox_charges' && myIntents.has(r.row.idempotency_key as string))).toBe(true)
    expect(logs.filter((l) => l.includes('/pay/[token]/confirm')).length).toBeGreaterThanOrEqual(TYPED.length)

    const tenantId = payer.tenant.tenantId
    /** The rows this file made (on PGlite, every row; on PostgreSQL, not those of the files before). */
    const mine = (r: { table: string; row: Record<string, unknown> }) => {
      if (r.table === 'tenants') return r.row.id === tenantId
      if (r.table === 'oauth_clients') return r.row.tenant_id === tenantId || myClients.has(r.row.id as string)
      if (r.table === 'sandbox_charges') return myIntents.has(r.row.idempotency_key as string)
      if ('tenant_id' in r.row) return r.row.tenant_id === tenantId
      return true
    }

    // A number as typed, bare, or with any spaces or dashes; a CVC as a whole number, not part of a word, a
    // decimal or a base64 text; a secret as it is, in base64 or in hex.
    const asNumber = (n: string) => new RegExp(n.replace(/\D/g, '').split('').join('[\\s-]*'))
    const asWhole = (cvc: string) => new RegExp(`(?<![\\w.+/=-])${cvc}(?![\\w.+/=-])`)
    const forms = (s: string) => [s, Buffer.from(s).toString('base64'), Buffer.from(s).toString('hex')]
    const cards: Array<[string, (line: string) => boolean]> = [...TYPED, NOT_LUHN].map((n) => [`card ${n}`, (line) => asNumber(n).test(line)])
    const cvcs: Array<[string, (line: string) => boolean]> = [CVC3, CVC4].map((c) => [`CVC ${c}`, (line) => asWhole(c).test(line)])
    const secret = (kind: string, values: string[], cut = (s: string) => s): Array<[string, (line: string) => boolean]> =>
      values.flatMap((v) => forms(cut(v)).map((f): [string, (line: string) => boolean] => [`${kind} ${v.slice(0, 8)}…`, (line) => line.includes(f)]))
    const allSecrets = [
      ...secret('link token', secrets.linkTokens),
      ...secret('page session', secrets.sessions),
      ...secret('client secret', secrets.clientSecrets),
      ...secret('client secret without its prefix', secrets.clientSecrets, (s) => s.replace(/^pls_/, '')),
      ...secret('bearer token', secrets.bearerTokens),
      ...secret('bearer token signature', secrets.bearerTokens, (t) => t.split('.')[2]!),
      ...secret('webhook secret', secrets.webhookSecrets),
      ...secret('webhook secret key', secrets.webhookSecrets, (s) => s.replace(/^whsec_/, '')),
    ]
    const search = (checks: Array<[string, (line: string) => boolean]>, where: string, lines: string[]) =>
      checks.flatMap(([what, has]) => lines.filter(has).map((line) => `${what} in ${where}: ${line.slice(0, 300)}`))

    const rowTexts = rows.map((r) => `${r.table} ${r.text}`)
    const myRowTexts = rows.filter(mine).map((r) => `${r.table} ${r.text}`)
    figures.cvcRows = myRowTexts.length
    figures.logLines = logs.length
    figures.answers = answers.length
    const errorAnswers = answers.filter((a) => a.status >= 400).map((a) => `${a.what} ${a.status} ${a.text}`)
    figures.errorAnswers = errorAnswers.length

    const found = [
      ...search([...cards, ...allSecrets], 'a row', rowTexts),
      ...search(cvcs, 'a row', myRowTexts),
      ...search([...cards, ...cvcs, ...allSecrets], 'a log line', logs),
      ...search([...cards, ...cvcs, ...allSecrets], 'an error answer', errorAnswers),
      ...search([...cards, ...cvcs], 'an answer', answers.map((a) => `${a.what} ${a.status} ${a.text}`)),
    ]
    leaksFound = found.length
    expect(found).toEqual([])
  })
})
