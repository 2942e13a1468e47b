/**
 * The demo shop: a second origin (http://127.0.0.1:3001 by default) that plays the tenant.
 * Its server mints a live link through the real API with the demo tenant's credentials;
 * its page shows the payment page through /embed.js, the events the page sends to its
 * parent, and the webhooks its own endpoint received, each verified with its signature.
 */
import http from 'node:http'
import { verifyWebhook } from '../domain/webhooks/signing.js'
import { trackConnections } from '../http/drain.js'

export interface DemoCredentials {
  tenantId: string
  clientId: string
  clientSecret: string
  userId: string
  webhookSecret: string
}

interface ReceivedWebhook {
  id: string
  type: string
  payment_intent_id: string
  status: string
  verified: boolean
  received_at: string
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function page(apiBase: string) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Shop — paylink</title>
<link rel="stylesheet" href="/shop.css">
<script src="${esc(apiBase)}/embed.js" defer></script>
<script src="/shop.js" defer></script>
</head><body>
<header><h1>Demo Shop</h1><p>A tenant's site on its own origin. The payment below is a live paylink page in an iframe.</p></header>
<main>
  <section class="product">
    <h2>Paylink T-shirt</h2>
    <p class="price">$12.50</p>
    <button id="buy" type="button">Buy now</button>
    <p class="hint">Try 4242 4242 4242 4242, any future expiry, any CVC. 4000 0000 0000 0002 is declined; 4000 0027 6000 3184 asks for 3-D Secure.</p>
  </section>
  <section id="checkout" aria-live="polite"></section>
  <section class="log"><h2>Events from the payment page</h2><ol id="events"></ol></section>
  <section class="log"><h2>Webhooks received by the shop's server</h2><ol id="webhooks"></ol></section>
</main>
</body></html>`
}

const SHOP_JS = `(() => {
  const buy = document.getElementById('buy')
  const events = document.getElementById('events')
  const hooks = document.getElementById('webhooks')
  const add = (list, text, cls) => { const li = document.createElement('li'); li.textContent = text; if (cls) li.className = cls; list.appendChild(li) }
  let mounted
  buy.addEventListener('click', async () => {
    buy.disabled = true
    const res = await fetch('/checkout', { method: 'POST' })
    const body = await res.json()
    if (!res.ok) { add(events, 'Could not start the payment: ' + (body.error || res.status), 'bad'); buy.disabled = false; return }
    if (mounted) mounted.unmount()
    mounted = Paylink.mount(document.getElementById('checkout'), body.pay_url, {
      onEvent: (e) => { if (e.type !== 'resize') add(events, e.type + '  ' + e.payment_intent_id, e.type.endsWith('failed') ? 'bad' : '') ; if (e.type.startsWith('payment_intent.s') || e.type.startsWith('payment_intent.f')) buy.disabled = false }
    })
  })
  let seen = 0
  setInterval(async () => {
    const list = await (await fetch('/webhooks')).json()
    for (const w of list.slice(seen)) add(hooks, w.type + '  ' + w.payment_intent_id + (w.verified ? '  ✓ signature verified' : '  ✗ signature NOT verified'), w.verified ? 'ok' : 'bad')
    seen = list.length
  }, 1000)
})()`

const SHOP_CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f6f7fb;color:#1a1f36}header{background:#1a1f36;color:#fff;padding:16px 24px}header p{margin:4px 0 0;opacity:.8}
main{display:grid;grid-template-columns:minmax(280px,1fr) minmax(320px,480px);gap:24px;padding:24px;max-width:1100px}
section{background:#fff;border-radius:10px;padding:16px 20px;box-shadow:0 1px 3px #0001}#checkout{grid-row:span 3;min-height:120px}
.price{font-size:1.6rem;font-weight:700}button{font:inherit;padding:10px 18px;border:0;border-radius:8px;background:#3549d8;color:#fff;cursor:pointer}button:disabled{opacity:.6}
.hint{color:#5b6478;font-size:.9rem}.log ol{font-family:ui-monospace,monospace;font-size:.85rem;padding-left:20px}.ok{color:#17663a}.bad{color:#b3261e}`

/** Starts the demo shop; returns its URL and a function that stops it. */
export async function startDemoShop(opts: { port: number; apiBase: string; credentials: DemoCredentials; log: (msg: string) => void }) {
  const received: ReceivedWebhook[] = []
  const { apiBase, credentials: c } = opts
  let token: { value: string; expires: number } | undefined

  const accessToken = async () => {
    if (token && token.expires > Date.now() + 30_000) return token.value
    const res = await fetch(`${apiBase}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=payments%3Awrite',
    })
    const body = (await res.json()) as { access_token: string; expires_in: number; error?: string }
    if (!res.ok) throw new Error(body.error ?? `token endpoint answered ${res.status}`)
    token = { value: body.access_token, expires: Date.now() + body.expires_in * 1000 }
    return token.value
  }

  // Once closing, every answer ends its connection: an open shop page polls /webhooks over a
  // kept-alive connection, which would otherwise hold server.close() (and shutdown) forever.
  let closing = false
  const server = http.createServer(async (req, res) => {
    const send = (status: number, type: string, body: string) =>
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...(closing ? { connection: 'close' } : {}) }).end(body)
    try {
      if (req.method === 'GET' && req.url === '/') return send(200, 'text/html; charset=utf-8', page(apiBase))
      if (req.method === 'GET' && req.url === '/shop.js') return send(200, 'text/javascript; charset=utf-8', SHOP_JS)
      if (req.method === 'GET' && req.url === '/shop.css') return send(200, 'text/css; charset=utf-8', SHOP_CSS)
      if (req.method === 'GET' && req.url === '/webhooks') return send(200, 'application/json', JSON.stringify(received))
      if (req.method === 'POST' && req.url === '/checkout') {
        const r = await fetch(`${apiBase}/v1/platform/card/payment-link`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await accessToken()}`, 'content-type': 'application/json' },
          body: JSON.stringify({ user_id: c.userId, amount: '12.50', currency: 'USD' }),
        })
        const body = (await r.json()) as { data?: { pay_url: string; payment_intent_id: string }; error?: { message: string } }
        if (!r.ok || !body.data) return send(502, 'application/json', JSON.stringify({ error: body.error?.message ?? `API answered ${r.status}` }))
        return send(200, 'application/json', JSON.stringify(body.data))
      }
      if (req.method === 'POST' && req.url === '/webhooks/paylink') {
        const chunks: Buffer[] = []
        for await (const chunk of req) chunks.push(chunk as Buffer)
        const body = Buffer.concat(chunks).toString('utf8')
        const h = (n: string) => String(req.headers[n] ?? '')
        const verified = verifyWebhook(c.webhookSecret, body, req.headers)
        const json = JSON.parse(body) as { type: string; data: { payment_intent_id: string; status: string } }
        if (!received.some((w) => w.id === h('webhook-id'))) {
          received.push({ id: h('webhook-id'), type: json.type, payment_intent_id: json.data.payment_intent_id, status: json.data.status, verified, received_at: new Date().toISOString() })
        }
        return send(verified ? 204 : 400, 'text/plain', '')
      }
      send(404, 'text/plain', 'not found')
    } catch (err) {
      opts.log(`demo shop: ${(err as Error).message}`)
      send(500, 'application/json', JSON.stringify({ error: 'the demo shop failed; see the paylink log' }))
    }
  })
  const drain = trackConnections(server)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, '127.0.0.1', resolve)
  })
  const close = () =>
    new Promise<void>((resolve) => {
      closing = true
      server.close(() => resolve())
      drain(3_000)
    })
  return { url: `http://127.0.0.1:${opts.port}`, received, close }
}
