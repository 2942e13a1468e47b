/**
 * The JSON logs of a whole payment, read line by line: a token from the OAuth endpoint
 * (with the client secret), a link minted with an Idempotency-Key (and replayed), the page
 * loaded in its frame, a refused card, the paid card saved, a webhook endpoint and its
 * delivery by the worker — plus a forged bearer token, an unknown link token, and
 * credentials wrongly sent in the query string.
 * Issue 5 item 5: a request id on every request line, equal to the response's
 * X-Request-Id; no card number, CVC, link token, page-session secret, client secret,
 * bearer token or webhook secret anywhere. SPEC "Saved cards": never the card number,
 * never the CVC — not in the logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CARDS, EXP_YEAR, FRAME, sessionOf, spaced, startPrivateServer, startReceiver, tokenOf, type Receiver, type TestServer } from '../helpers/index.js'

const CARD = CARDS.visa
const CARD_SPACED = spaced(CARD)
const CVC = '737'

/** One HTTP exchange of the payment, as the client saw it. */
interface Exchange {
  method: string
  path: string
  status: number
  requestId: string | null
}

const logs: string[] = []
const exchanges: Exchange[] = []
/** Every secret the payment handled, by name: none may appear in the logs. */
const secrets: Record<string, string> = {}
let server: TestServer
let receiver: Receiver
let intentId = ''

/** fetch() that records the exchange; answers the response with its text read. */
async function call(path: string, init: RequestInit = {}) {
  const url = path.startsWith('http') ? path : server.baseUrl + path
  const res = await fetch(url, init)
  const text = await res.text()
  exchanges.push({ method: init.method ?? 'GET', path: new URL(url).pathname, status: res.status, requestId: res.headers.get('x-request-id') })
  return { status: res.status, text, json: () => JSON.parse(text) }
}
const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  call(path, {
    method,
    headers: { authorization: `Bearer ${secrets.bearerToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

/** The whole payment, once for the file; the tests read its logs. */
async function runPayment() {
  const created = await server.services.tenants.createTenant({ name: 'Log Shop', origins: ['https://shop.example'] })
  const account = await server.services.tenants.createAccount(created.tenant.id, { name: 'Sandbox', processor: 'sandbox', currencies: ['USD'] })
  secrets.clientSecret = created.clientSecret

  // Tokens: client_secret_post (the secret in the form body) and client_secret_basic (in Authorization).
  const posted = await call('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: created.clientId, client_secret: created.clientSecret }),
  })
  expect(posted.status).toBe(200)
  secrets.postedToken = posted.json().access_token
  const basic = await call('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${created.clientId}:${created.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  })
  expect(basic.status).toBe(200)
  const bearerToken: string = basic.json().access_token
  secrets.bearerToken = bearerToken

  const user = await api('POST', '/v1/platform/users', { email: 'payer@example.com', name: 'Payer' })
  const userId = user.json().data.id
  expect((await api('POST', `/v1/platform/card-processing/users/${userId}`, { card_processing_id: account.id })).status).toBe(201)
  const endpoint = await api('POST', '/v1/platform/webhook-endpoints', { url: receiver.url })
  expect(endpoint.status).toBe(201)
  const webhookSecret: string = endpoint.json().data.secret
  secrets.webhookSecret = webhookSecret
  // The key material alone, without its whsec_ prefix.
  secrets.webhookKey = webhookSecret.slice('whsec_'.length)
  receiver.secrets.push(webhookSecret)

  const mintBody = { user_id: userId, amount: '12.50', currency: 'USD' }
  const minted = await api('POST', '/v1/platform/card/payment-link', mintBody, { 'idempotency-key': 'order-42' })
  expect(minted.status).toBe(201)
  expect((await api('POST', '/v1/platform/card/payment-link', mintBody, { 'idempotency-key': 'order-42' })).json().data).toEqual(minted.json().data)
  const payUrl: string = minted.json().data.pay_url
  intentId = minted.json().data.payment_intent_id
  secrets.linkToken = tokenOf(payUrl)

  const page = await call(payUrl, { headers: { ...FRAME, 'accept-language': 'en' } })
  expect(page.status).toBe(200)
  secrets.sessionSecret = sessionOf(page.text)!

  const confirm = (card: Record<string, unknown>) =>
    call(`${payUrl}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-paylink-session': secrets.sessionSecret! },
      body: JSON.stringify({ card: { exp_month: 12, exp_year: EXP_YEAR, name: 'Pat Payer', ...card }, save_card: true }),
    })
  // A card refused by the field checks (expired) first: 422, nothing consumed.
  expect((await confirm({ number: CARD_SPACED, cvc: CVC, exp_year: 2001 })).status).toBe(422)
  const paid = await confirm({ number: CARD_SPACED, cvc: CVC })
  expect(paid.status).toBe(200)
  expect(paid.json().data).toMatchObject({ status: 'succeeded', card: { last4: '4242' }, saved_card_id: expect.stringMatching(/^card_/) })

  await server.services.background.tick()
  expect(receiver.received.filter((d) => d.json?.data?.payment_intent_id === intentId && d.verified)).toHaveLength(1)
  expect((await api('GET', `/v1/platform/payment-intents/${intentId}`)).status).toBe(200)
  expect((await api('GET', `/v1/platform/users/${userId}/cards`)).json().data).toHaveLength(1)

  // Probes: a bearer token with a changed signature, and a link token nobody minted.
  secrets.forgedToken = `${bearerToken.slice(0, -4)}AAAA`
  expect((await call('/v1/platform/payment-intents', { headers: { authorization: `Bearer ${secrets.forgedToken}` } })).status).toBe(401)
  secrets.unknownLinkToken = 'x'.repeat(43)
  expect((await call(`/pay/${secrets.unknownLinkToken}`, { headers: FRAME })).status).toBe(404)
  expect((await call('/pay/assets/none.js')).status).toBe(404)
  // Credentials wrongly sent in the URL: refused, and still not logged.
  const inQuery = new URLSearchParams({ grant_type: 'client_credentials', client_id: created.clientId, client_secret: created.clientSecret })
  expect((await call(`/oauth/token?${inQuery}`, { method: 'POST' })).status).toBe(400)
  expect((await call(`/v1/platform/payment-intents?limit=5&access_token=${bearerToken}`)).status).toBe(401)
}

beforeAll(async () => {
  server = await startPrivateServer({ LOG_LEVEL: 'info', ALLOW_PRIVATE_WEBHOOK_URLS: 'true' }, { logs })
  receiver = await startReceiver()
  await runPayment()
})
afterAll(async () => {
  await receiver?.close()
  await server?.close()
})

const lines = () => logs.map((l) => JSON.parse(l) as Record<string, any>)
const requestLines = () => lines().filter((l) => l.req || l.res || l.reqId)

describe('every log line of a request carries its request id, the X-Request-Id of the response', () => {
  it('logs each exchange as "incoming request" and "request completed" under the id the client received', () => {
    expect(exchanges.map((e) => `${e.method} ${e.status}`)).toEqual(expect.arrayContaining(['POST 200', 'POST 201', 'GET 200', 'POST 422', 'GET 401', 'GET 404']))
    for (const ex of exchanges) {
      expect(ex.requestId, `${ex.method} ${ex.path} has an X-Request-Id`).toMatch(/^req_/)
      const mine = requestLines().filter((l) => l.reqId === ex.requestId)
      expect(mine.map((l) => l.msg), `${ex.method} ${ex.path}`).toEqual(expect.arrayContaining(['incoming request', 'request completed']))
      expect(mine.find((l) => l.msg === 'request completed')?.res?.statusCode, `${ex.method} ${ex.path}`).toBe(ex.status)
    }
  })

  it('has no request line without a request id, nor with an id no response carried', () => {
    const ids = new Set(exchanges.map((e) => e.requestId))
    for (const line of requestLines()) expect(ids, JSON.stringify(line)).toContain(line.reqId)
  })

  it('logs /pay URLs without their link token, and query strings without credentials', () => {
    const urls = requestLines().flatMap((l) => (l.req?.url ? [l.req.url as string] : []))
    expect(urls).toContain('/pay/[token]')
    expect(urls).toContain('/pay/[token]/confirm')
    // The page's assets are no link: they are logged as themselves.
    expect(urls).toContain('/pay/assets/none.js')
    expect(urls.filter((u) => u.startsWith('/pay/') && !u.startsWith('/pay/[token]') && !u.startsWith('/pay/assets/'))).toEqual([])
    expect(urls).toContain('/v1/platform/payment-intents?limit=5&access_token=[redacted]')
    expect(urls).toContainEqual(expect.stringMatching(/^\/oauth\/token\?.*client_secret=\[redacted\]/))
  })
})

describe('no log line holds card data, tokens or secrets', () => {
  it('never shows the card number, with or without spaces, nor the CVC as a value', () => {
    const text = logs.join('\n')
    expect(text).not.toContain(CARD)
    expect(text).not.toContain(CARD_SPACED)
    // As a JSON value: the string "737" or the number 737 (not a timing such as 737.2).
    expect(text).not.toMatch(new RegExp(`"${CVC}"|:\\s*${CVC}(?![\\d.])`))
  })

  it.each([
    ['the client secret', 'clientSecret'],
    ['the bearer token', 'bearerToken'],
    ['the token issued through client_secret_post', 'postedToken'],
    ['a forged bearer token', 'forgedToken'],
    ['the link token', 'linkToken'],
    ['an unknown link token', 'unknownLinkToken'],
    ['the page-session secret', 'sessionSecret'],
    ['the webhook secret', 'webhookSecret'],
    ['the webhook signing key without its prefix', 'webhookKey'],
  ])('never shows %s', (_what, key) => {
    const secret = secrets[key]
    expect(secret, `${key} was captured`).toBeTruthy()
    expect(logs.join('\n')).not.toContain(secret)
  })

  it('still logs the payment: requests at info level, as JSON lines', () => {
    expect(requestLines().length).toBeGreaterThanOrEqual(2 * exchanges.length)
    expect(lines().every((l) => typeof l.level === 'number' && typeof l.msg === 'string')).toBe(true)
    expect(requestLines().some((l) => l.req?.method === 'POST' && l.req?.url === '/v1/platform/card/payment-link')).toBe(true)
  })
})
