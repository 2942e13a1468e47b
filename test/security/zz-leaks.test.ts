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
 *
 * It pays through a Stripe and an Adyen account too (SPEC "Card processors"), made through
 * /v1/admin and pointed at the fakes (test/fakes): a success, a decline, a saved card reused
 * and deleted, 3-D Secure by redirect and back at /pay/{token}/return, a payment finished by
 * the processor's signed webhook. Then no row, log line or error answer may hold the processors'
 * credentials (Stripe's secret key and webhook secret, Adyen's API key and HMAC key, sealed
 * in `config_encrypted`), the return's `state` values, Stripe's
 * `payment_intent_client_secret` or Adyen's `redirectResult` (the return's query is logged
 * redacted), or the processors' saved-card tokens. No answer at all may hold the credentials,
 * and none of the others either, but the redirect page of a 3-D Secure by POST (its TermUrl
 * is the return URL with its state: the bank must have it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, FRAME, NOT_LUHN, TEST_CARD_NUMBERS, TOP_LEVEL, getToken, newCard, sessionOf, setupPayer, spaced, startServer, tokenOf, usingPostgres, type Payer, type TestServer } from '../helpers/index.js'
import { TENANT_SCOPES } from '../../src/domain/oauth/scopes.js'
import { configContext } from '../../src/processors/registry.js'
import { startStripeFake, type StripeFake } from '../fakes/stripe.js'
import { startAdyenFake, type AdyenFake } from '../fakes/adyen.js'
import { closeAgent, everyRow, raw } from './support.js'

const logs: string[] = []
let server: TestServer
let payer: Payer
let adminToken: string
let stripe: StripeFake
let adyen: AdyenFake
/** The user who pays through the real processors' accounts, and those accounts. */
const processors = { userId: '', stripeAccountId: '', adyenAccountId: '' }

/** Every answer of this file: [what was asked, status, text]. */
const answers: Array<{ what: string; status: number; text: string }> = []
/** Secrets this file holds, by kind. */
const secrets = {
  linkTokens: [] as string[],
  sessions: [] as string[],
  clientSecrets: [] as string[],
  bearerTokens: [] as string[],
  webhookSecrets: [] as string[],
  /** What comes back from a processor's 3-D Secure in the return URL's query. */
  returnStates: [] as string[],
  stripeClientSecrets: [] as string[],
  redirectResults: [] as string[],
  /** Saved cards as the processors know them (Stripe PaymentMethod ids, Adyen storedPaymentMethodIds): kept sealed. */
  processorTokens: [] as string[],
}
const myIntents = new Set<string>()
const myClients = new Set<string>()

const CVC3 = '737'
const CVC4 = '7373'
/** Beyond the table: other Luhn-valid numbers succeed (Visa, Discover, JCB, Mastercard 2-series). */
const OTHER_CARDS = ['4111 1111 1111 1111', '6011 1111 1111 1117', '3530 1113 3330 0000', '2223 0031 2200 3222']
const TYPED = [...TEST_CARD_NUMBERS, ...OTHER_CARDS.map((n) => n.replace(/ /g, ''))]
/** The processors' test cards (test/fakes): success, decline, 3-D Secure. */
const STRIPE = { visa: '4242424242424242', declined: '4000000000000002', threeDSecure: '4000002760003184', mastercard: '5555555555554444' }
const ADYEN = { visa: '4111111145551142', threeDS2: '4917610000000000', threeDS1Post: '4212345678901237', mastercard: '5555341244441115' }
const PROCESSOR_CARDS = [...Object.values(STRIPE), ...Object.values(ADYEN)]

const figures = { processorPayments: 0, payments: 0, rows: 0, tables: 0, cvcRows: 0, logLines: 0, answers: 0, errorAnswers: 0 }

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
/** Mints a link (for the sandbox payer unless `body` says otherwise) and claims its page in a frame. */
async function openLink(body: Record<string, unknown> = {}) {
  // With an Idempotency-Key: the stored answer holds the pay_url, and must hold it sealed.
  const headers = { authorization: `Bearer ${payer.token}`, 'content-type': 'application/json', 'idempotency-key': `leaks-${++links}-${Date.now()}` }
  const minted = await record('mint', await fetch(`${server.baseUrl}/v1/platform/card/payment-link`, { method: 'POST', headers, body: JSON.stringify({ user_id: payer.userId, amount: '12.50', ...body }) }))
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

/** An operator's call to /v1/admin (recorded). */
const admin = (what: string, method: string, path: string, body?: unknown) => call(what, adminToken, method, path, body)
/** A tenant's call to /v1/platform (recorded). */
const tenantCall = (what: string, method: string, path: string, body?: unknown) => call(what, payer.token, method, path, body)
const call = (what: string, token: string, method: string, path: string, body?: unknown) =>
  fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).then((r) => record(what, r))

/** The frame comes back from a processor's 3-D Secure at `url`: its query's secrets are noted for the search, the page recorded. */
async function comeBack(url: string) {
  const query = new URL(url).searchParams
  for (const [name, list] of [['state', secrets.returnStates], ['payment_intent_client_secret', secrets.stripeClientSecrets], ['redirectResult', secrets.redirectResults]] as const) {
    const value = query.get(name)
    if (value) list.push(value)
  }
  return record('3-D Secure return', await fetch(url, { headers: FRAME }))
}

/** The shopper at the Stripe fake's 3-D Secure page approves; answers where Stripe sends them back. */
async function authenticateAtStripe(redirectUrl: string): Promise<string> {
  const html = await (await fetch(redirectUrl)).text()
  const form = /<form[^>]*action="([^"]+)"[^>]*><button id="approve"/.exec(html)
  expect(form, html).not.toBeNull()
  const answer = await fetch(new URL(form![1]!, redirectUrl), { method: 'POST', redirect: 'manual' })
  expect(answer.status).toBe(302)
  return answer.headers.get('location')!
}

/** The shopper at the Adyen fake's 3-D Secure page (reached by GET, or by POSTing `fields`) approves; answers where Adyen sends them back. */
async function authenticateAtAdyen(url: string, fields?: Record<string, string>): Promise<string> {
  const opened = fields ? await fetch(url, { method: 'POST', body: new URLSearchParams(fields) }) : await fetch(url)
  const html = await opened.text()
  const form = /<form id="approve" method="post" action="([^"]+)">(.*?)<\/form>/.exec(html)
  expect(form, html).not.toBeNull()
  const sent = new URLSearchParams([...form![2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]))
  const back = await fetch(new URL(form![1]!, url), { method: 'POST', body: sent, redirect: 'manual' })
  expect(back.status).toBe(302)
  return back.headers.get('location')!
}

/** A processor's webhook POSTed to the account's /processor-webhooks URL, as the processor sends it (recorded). */
const processorWebhook = (what: string, accountId: string, body: string, headers: Record<string, string>) =>
  fetch(`${server.baseUrl}/processor-webhooks/${accountId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((r) => record(what, r))

beforeAll(async () => {
  stripe = await startStripeFake()
  adyen = await startAdyenFake()
  server = await startServer({}, { logs })
  payer = await setupPayer(server)
  secrets.clientSecrets.push(payer.tenant.clientSecret)
  secrets.bearerTokens.push(payer.token)
  myClients.add(payer.tenant.clientId)
  // An operator, a second tenant client made through /v1/admin, a webhook endpoint and its rotation.
  const operator = await server.services.tenants.createClient(null, [])
  myClients.add(operator.clientId)
  secrets.clientSecrets.push(operator.clientSecret)
  adminToken = await getToken(server, operator)
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
    `[security/leaks] ${figures.payments} sandbox payments with ${TYPED.length} card numbers, ${figures.processorPayments} through Stripe and Adyen with ${PROCESSOR_CARDS.length}; searched ${figures.rows} rows in ${figures.tables} tables (${figures.cvcRows} of them for CVCs${usingPostgres() ? ', the rows of this file' : ''}), ` +
      `${figures.logLines} log lines, ${figures.answers} answers (${figures.errorAnswers} errors) for card numbers, CVCs, ${secrets.linkTokens.length} link tokens, ${secrets.sessions.length} page sessions, ` +
      `${secrets.clientSecrets.length} client secrets, ${secrets.bearerTokens.length} bearer tokens, ${secrets.webhookSecrets.length} webhook secrets, ` +
      `the 4 processor credentials, ${secrets.returnStates.length} return states, ${secrets.stripeClientSecrets.length} Stripe client secrets, ${secrets.redirectResults.length} Adyen redirect results and ${secrets.processorTokens.length} processor card tokens: ${leaksFound} found`,
  )
  closeAgent(server)
  await server?.close()
  await stripe?.close()
  await adyen?.close()
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

  it('opens the tenant portal by its one-time link, and sends its link token and session secret where they do not belong', async () => {
    // SPEC "Tenant portal": the link token (plk_) and the session secret (pps_) are credentials like the page's.
    const made = await tenantCall('make a portal link', 'POST', '/v1/platform/portal-sessions', { expires_in: 600 })
    expect(made.status, made.text).toBe(201)
    const token = tokenOf(made.body.data.url)
    secrets.linkTokens.push(token)
    const exchange = (what: string, body: unknown) =>
      fetch(`${server.baseUrl}/portal/api/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => record(what, r))
    const opened = await exchange('exchange a portal link', { token })
    expect(opened.status, opened.text).toBe(201)
    const session = opened.body.data.secret as string
    secrets.sessions.push(session)
    expect((await call('list payments with a portal session', session, 'GET', '/v1/platform/payment-intents')).status).toBe(200)
    expect((await exchange('exchange a used portal link', { token })).status).toBe(410)
    expect((await exchange('exchange a portal link with its secret beside it', { token, secret: session })).status).toBe(422)
    expect((await call('a portal session making a portal link', session, 'POST', '/v1/platform/portal-sessions', {})).status).toBe(403)
    const requests: Array<[string, Parameters<typeof raw>[1]]> = [
      ['the portal link as a page', { method: 'GET', path: `/portal/${token}`, headers: TOP_LEVEL }],
      ['the portal link with the session in the query', { method: 'GET', path: `/portal/${token}?session=${session}&token=${token}` }],
      ['a portal session with its last character changed', { method: 'GET', path: '/v1/platform/payment-intents', headers: { authorization: `Bearer ${session.slice(0, -1)}${session.endsWith('A') ? 'B' : 'A'}` } }],
      ['a portal session as a page session', { method: 'GET', path: '/v1/platform/users', headers: { 'x-paylink-session': session } }],
    ]
    for (const [what, req] of requests) {
      const res = await raw(server, req)
      answers.push({ what, status: res.status, text: res.text })
      expect(res.status, what).toBeLessThan(500)
    }
    expect(logs.some((l) => l.includes('/portal/api/sessions'))).toBe(true)
  })

  it('connects a Stripe and an Adyen account through /v1/admin, refusing wrong credentials without repeating them', async () => {
    const tenant = payer.tenant.tenantId
    const accounts = `/v1/admin/tenants/${tenant}/card-processing-accounts`
    const stripeConfig = { secret_key: stripe.secretKey, webhook_secret: stripe.webhookSecret, api_base: stripe.url }
    const adyenConfig = { api_key: adyen.apiKey, merchant_account: adyen.merchantAccount, hmac_key: adyen.hmacKey, environment: 'test', api_base: adyen.url }
    // Credentials in the wrong keys, or of the wrong kind: refused, naming the key, never the value.
    const refused = [
      await admin('stripe config, the secret key as webhook secret', 'POST', accounts, { name: 'Stripe', processor: 'stripe', currencies: ['USD'], config: { ...stripeConfig, webhook_secret: stripe.secretKey } }),
      await admin('stripe config, the webhook secret as secret key', 'POST', accounts, { name: 'Stripe', processor: 'stripe', currencies: ['USD'], config: { ...stripeConfig, secret_key: stripe.webhookSecret } }),
      await admin('adyen config, an unknown key holding the API key', 'POST', accounts, { name: 'Adyen', processor: 'adyen', currencies: ['USD'], config: { ...adyenConfig, apikey: adyen.apiKey } }),
      await admin('adyen config, the API key as HMAC key', 'POST', accounts, { name: 'Adyen', processor: 'adyen', currencies: ['USD'], config: { ...adyenConfig, hmac_key: adyen.apiKey } }),
    ]
    for (const r of refused) expect(r.status, r.text).toBe(422)

    // Priority 1000: the sandbox stays the tenant's default.
    const s = await admin('create a stripe account', 'POST', accounts, { name: 'Stripe', processor: 'stripe', currencies: ['USD'], priority: 1000, config: stripeConfig })
    const a = await admin('create an adyen account', 'POST', accounts, { name: 'Adyen', processor: 'adyen', currencies: ['USD'], priority: 1000, config: adyenConfig })
    expect(s.status, s.text).toBe(201)
    expect(a.status, a.text).toBe(201)
    processors.stripeAccountId = s.body.data.card_processing_id
    processors.adyenAccountId = a.body.data.card_processing_id
    // Rotated (to the same credentials), and a rotation refused.
    expect((await admin('rotate the stripe config', 'PATCH', `${accounts}/${processors.stripeAccountId}`, { config: stripeConfig })).status).toBe(200)
    expect((await admin('rotate the adyen config, wrongly', 'PATCH', `${accounts}/${processors.adyenAccountId}`, { config: { ...adyenConfig, environment: adyen.apiKey } })).status).toBe(422)
    expect((await admin('list the accounts', 'GET', accounts)).status).toBe(200)

    // A user of its own, enrolled in both, approved by the operator.
    const user = await tenantCall('create the processors’ user', 'POST', '/v1/platform/users', { email: 'processors@example.com', name: 'Grace Hopper' })
    processors.userId = user.body.data.id
    for (const accountId of [processors.stripeAccountId, processors.adyenAccountId]) {
      expect((await tenantCall('enrol', 'POST', `/v1/platform/card-processing/users/${processors.userId}`, { card_processing_id: accountId })).status).toBe(201)
      expect((await admin('approve', 'POST', `${accounts}/${accountId}/approvals`, { user_id: processors.userId })).status).toBe(200)
    }
  })

  /** Confirms a new link of the processors' user on `accountId` with `body`; the answer's data. */
  const payThrough = async (accountId: string, body: Record<string, unknown>) => {
    const link = await openLink({ user_id: processors.userId, card_processing_id: accountId })
    const r = await pay(link, 'confirm', body)
    expect(r.status, r.text).toBe(200)
    figures.processorPayments++
    return { link, data: r.body.data }
  }
  const typedCard = (digits: string, i: number, extra: Record<string, unknown> = {}) => newCard(typedAs(digits, i), { cvc: CVC3, name: 'Ada Lovelace', ...extra })

  it('pays through Stripe: a success, a decline, a saved card reused, 3-D Secure and back, a lost answer finished by Stripe’s webhook', async () => {
    const account = processors.stripeAccountId
    const saved = await payThrough(account, { card: typedCard(STRIPE.visa, 0), save_card: true })
    expect(saved.data).toMatchObject({ status: 'succeeded', saved_card_id: expect.stringMatching(/^card_/) })
    expect((await payThrough(account, { saved_card_id: saved.data.saved_card_id })).data.status).toBe('succeeded')
    expect((await payThrough(account, { card: typedCard(STRIPE.declined, 1) })).data).toMatchObject({ status: 'failed', failure_code: 'card_declined' })

    const challenged = await payThrough(account, { card: typedCard(STRIPE.threeDSecure, 2), save_card: true })
    expect(challenged.data).toMatchObject({ status: 'requires_authentication', redirect: { method: 'GET' } })
    const back = await authenticateAtStripe(challenged.data.redirect.url)
    expect(back).toContain('payment_intent_client_secret=')
    const returned = await comeBack(back)
    expect(returned.status).toBe(200)
    expect(returned.text).toContain('data-screen="returned"')
    expect((await comeBack(back)).status, 'a return works once').toBe(410)

    // The confirm's answer lost twice (the SDK tries once more): processing, until Stripe's webhook says succeeded.
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'commit_then_drop')
    stripe.fail({ method: 'POST', path: '/v1/payment_intents/pi_' }, 'commit_then_drop')
    const lost = await payThrough(account, { card: typedCard(STRIPE.mastercard, 3) })
    expect(lost.data.status).toBe('processing')
    const pi = stripe.paymentIntents().find((p) => p.metadata.payment_intent_id === lost.link.intentId)!
    const event = stripe.events().find((e) => e.type === 'payment_intent.succeeded' && e.object.id === pi.id)!
    const signed = stripe.signedEvent(event.type, event.object, { id: event.id })
    expect(signed.payload).toContain(pi.client_secret!)
    const tampered = await processorWebhook('stripe webhook, tampered', account, signed.payload.replace('"succeeded"', '"succeeded" '), signed.headers)
    expect(tampered.status).toBe(400)
    expect((await processorWebhook('stripe webhook', account, signed.payload, signed.headers)).body.data).toEqual({ received: true, applied: 1 })
    const intent = await tenantCall('the intent', 'GET', `/v1/platform/payment-intents/${lost.link.intentId}`)
    expect(intent.body.data.status).toBe('succeeded')
    const deleted = await tenantCall('delete the saved card', 'DELETE', `/v1/platform/users/${processors.userId}/cards/${saved.data.saved_card_id}`)
    expect(deleted.status, deleted.text).toBe(200)

    // What only Stripe and the shopper's browser should hold.
    const pis = stripe.paymentIntents()
    secrets.stripeClientSecrets.push(...pis.map((p) => p.client_secret!))
    secrets.processorTokens.push(...pis.filter((p) => p.setup_future_usage && p.status === 'succeeded').map((p) => p.payment_method as string))
    secrets.returnStates.push(...stripe.requests.flatMap((r) => (typeof r.body.return_url === 'string' ? [new URL(r.body.return_url).searchParams.get('state')!] : [])))
  })

  it('pays through Adyen: a success, a decline, a saved card reused, 3-D Secure by GET and by POST and back, a payment finished by Adyen’s notification', async () => {
    const account = processors.adyenAccountId
    const saved = await payThrough(account, { card: typedCard(ADYEN.visa, 0), save_card: true })
    expect(saved.data).toMatchObject({ status: 'succeeded', saved_card_id: expect.stringMatching(/^card_/) })
    expect((await payThrough(account, { saved_card_id: saved.data.saved_card_id })).data.status).toBe('succeeded')
    expect((await payThrough(account, { card: typedCard(ADYEN.mastercard, 1, { name: 'DECLINED' }) })).data).toMatchObject({ status: 'failed', failure_code: 'card_declined' })

    const byGet = await payThrough(account, { card: typedCard(ADYEN.threeDS2, 2), save_card: true })
    expect(byGet.data).toMatchObject({ status: 'requires_authentication', redirect: { method: 'GET' } })
    const back = await authenticateAtAdyen(byGet.data.redirect.url)
    expect(back).toContain('redirectResult=')
    expect((await comeBack(back)).text).toContain('data-screen="returned"')
    expect((await comeBack(back)).status, 'a return works once').toBe(410)

    // 3-D Secure 1: the frame posts the bank's form through paylink's redirect page.
    const byPost = await payThrough(account, { card: typedCard(ADYEN.threeDS1Post, 0) })
    expect(byPost.data).toMatchObject({ status: 'requires_authentication', redirect: { method: 'POST' } })
    const page = await record('3-D Secure redirect page', await fetch(`${byPost.link.payUrl}/redirect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...FRAME }, body: new URLSearchParams({ session: byPost.link.session }) }))
    expect(page.status).toBe(200)
    const form = /<form id="redirect-form" method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(page.text)!
    const fields = Object.fromEntries([...form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]))
    expect((await comeBack(await authenticateAtAdyen(form[1]!.replace(/&amp;/g, '&'), fields))).text).toContain('data-screen="returned"')

    // Received: Adyen decides later, and says so by a signed notification.
    const later = await payThrough(account, { card: typedCard(ADYEN.visa, 1, { name: 'PENDING' }) })
    expect(later.data.status).toBe('processing')
    const payment = adyen.payments().find((p) => p.reference === later.link.intentId)!
    const notification = adyen.notifications().find((n) => n.notificationItems.some((i) => i.NotificationRequestItem.pspReference === payment.pspReference && i.NotificationRequestItem.eventCode === 'AUTHORISATION'))!
    const body = JSON.stringify(notification)
    const tampered = await processorWebhook('adyen notification, tampered', account, body.replace('"success":"true"', '"success":"false"'), {})
    expect(tampered.status).toBe(400)
    expect(await processorWebhook('adyen notification', account, body, {})).toMatchObject({ status: 200, text: '[accepted]' })
    expect((await tenantCall('the intent', 'GET', `/v1/platform/payment-intents/${later.link.intentId}`)).body.data.status).toBe('succeeded')
    const deleted = await tenantCall('delete the saved card', 'DELETE', `/v1/platform/users/${processors.userId}/cards/${saved.data.saved_card_id}`)
    expect(deleted.status, deleted.text).toBe(200)

    secrets.processorTokens.push(...adyen.payments().flatMap((p) => (p.storedPaymentMethodId ? [p.storedPaymentMethodId] : [])))
    secrets.returnStates.push(...adyen.requests.flatMap((r) => {
      const url = (r.body as { returnUrl?: unknown } | undefined)?.returnUrl
      return typeof url === 'string' ? [new URL(url).searchParams.get('state')!] : []
    }))
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
    // The processors' side: both accounts' sealed configs, the events they sent, the returns logged with their query redacted.
    const sealedConfigs: string[] = []
    for (const [id, config] of [
      [processors.stripeAccountId, { secret_key: stripe.secretKey, webhook_secret: stripe.webhookSecret, api_base: stripe.url }],
      [processors.adyenAccountId, { api_key: adyen.apiKey, merchant_account: adyen.merchantAccount, hmac_key: adyen.hmacKey, environment: 'test', api_base: adyen.url }],
    ] as const) {
      const sealed = rows.find((r) => r.table === 'card_processing_accounts' && r.row.id === id)?.row.config_encrypted as string
      // It is the account's config (it opens with paylink's key to exactly that), sealed: each part of it decoded holds no credential.
      expect(JSON.parse(server.services.sealer.open(sealed, configContext(id)).toString('utf8'))).toEqual(config)
      sealedConfigs.push(...sealed.split('.').map((part) => `${id} config_encrypted decoded ${Buffer.from(part, 'base64').toString('latin1')}`))
    }
    expect(rows.filter((r) => r.table === 'processor_events' && r.row.tenant_id === payer.tenant.tenantId)).toHaveLength(2)
    expect(rows.some((r) => r.table === 'saved_cards' && r.row.account_id === processors.stripeAccountId)).toBe(true)
    expect(rows.some((r) => r.table === 'saved_cards' && r.row.account_id === processors.adyenAccountId)).toBe(true)
    const returns = logs.filter((l) => l.includes('/pay/[token]/return?'))
    expect(returns.some((l) => l.includes('state=[redacted]') && l.includes('payment_intent_client_secret=[redacted]')), 'Stripe’s returns are logged, redacted').toBe(true)
    expect(returns.some((l) => l.includes('state=[redacted]') && l.includes('redirectResult=[redacted]')), 'Adyen’s returns are logged, redacted').toBe(true)
    expect(logs.some((l) => l.includes('/processor-webhooks/'))).toBe(true)
    expect(secrets.returnStates.length).toBeGreaterThanOrEqual(figures.processorPayments)
    expect(secrets.processorTokens.length).toBeGreaterThanOrEqual(2)

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
    const cards: Array<[string, (line: string) => boolean]> = [...TYPED, NOT_LUHN, ...PROCESSOR_CARDS].map((n) => [`card ${n}`, (line) => asNumber(n).test(line)])
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
      ...secret('3-D Secure return state', secrets.returnStates),
      ...secret('Stripe payment_intent_client_secret', secrets.stripeClientSecrets),
      ...secret('Stripe client secret’s own part', secrets.stripeClientSecrets, (s) => s.replace(/^.*_secret_/, '')),
      ...secret('Adyen redirectResult', secrets.redirectResults),
      ...secret('processor card token', secrets.processorTokens),
    ]
    // The processors' credentials: nowhere but sealed in config_encrypted, never in any answer.
    const credentials = [
      ...secret('Stripe secret key', [stripe.secretKey]),
      ...secret('Stripe secret key’s own part', [stripe.secretKey], (s) => s.replace(/^sk_test_/, '')),
      ...secret('Stripe webhook secret', [stripe.webhookSecret]),
      ...secret('Stripe webhook secret’s own part', [stripe.webhookSecret], (s) => s.replace(/^whsec_/, '')),
      ...secret('Adyen API key', [adyen.apiKey]),
      ...secret('Adyen HMAC key', [adyen.hmacKey]),
      ...secret('Adyen HMAC key as bytes', [Buffer.from(adyen.hmacKey, 'hex').toString('base64')]),
    ]
    allSecrets.push(...credentials)
    // What a 3-D Secure return carries, and the processors' card tokens: paylink never echoes them (but in the
    // redirect page for a POST 3-D Secure, whose TermUrl is the return URL with its state: the bank must have it).
    const returnSide = [
      ...secret('3-D Secure return state', secrets.returnStates),
      ...secret('Stripe payment_intent_client_secret', secrets.stripeClientSecrets),
      ...secret('Adyen redirectResult', secrets.redirectResults),
      ...secret('processor card token', secrets.processorTokens),
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
      ...search(credentials, 'a sealed config', sealedConfigs),
      ...search(cvcs, 'a row', myRowTexts),
      ...search([...cards, ...cvcs, ...allSecrets], 'a log line', logs),
      ...search([...cards, ...cvcs, ...allSecrets], 'an error answer', errorAnswers),
      ...search([...cards, ...cvcs, ...credentials], 'an answer', answers.map((a) => `${a.what} ${a.status} ${a.text}`)),
      ...search(returnSide, 'an answer', answers.filter((a) => a.what !== '3-D Secure redirect page').map((a) => `${a.what} ${a.status} ${a.text}`)),
    ]
    leaksFound = found.length
    expect(found).toEqual([])
  })
})
