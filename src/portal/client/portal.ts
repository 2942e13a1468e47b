/**
 * The tenant portal's script. On /portal/{token} it exchanges the link's token once for a
 * session (POST /portal/api/sessions), keeps it in sessionStorage and replaces the address
 * with /portal/app?tenant=… so the token leaves the address bar and the history; on
 * /portal/app it takes the session kept in this tab, or asks for a new link. Then it draws
 * the screen the address's hash names (#/glance, #/payments, #/payments/pi_…, #/webhooks),
 * each from the API with the session's secret as its bearer token, in the language the
 * server chose (<html lang>) and the viewer's locale.
 */
import { ApiError, sessionApi } from './api.js'
import { byId, h, replace } from './dom.js'
import { Formats } from './format.js'
import { exchange, forget, storedSession, type PortalSession } from './session.js'
import { screenTitle } from './ui.js'
import { glanceScreen } from './glance.js'
import { paymentsScreen } from './payments.js'
import { detailScreen } from './detail.js'
import { webhooksScreen } from './webhooks.js'
import { langOf, portalStrings } from '../i18n.js'
import type { Ctx, Route } from './types.js'

const root = byId('portal')!
const main = byId('main')!
const nav = byId('nav')!
const lang = langOf(document.documentElement.lang) ?? langOf(navigator.language) ?? 'en'
const t = portalStrings(lang)
const fmt = new Formats(root.dataset.locale || navigator.language || 'en-US')

/** A screen that grants nothing: what happened and what to do. */
function notice(title: string, body: string, retry?: () => void) {
  nav.hidden = true
  replace(main, screenTitle(title), h('p', {}, body), retry ? h('button', { type: 'button', onClick: retry }, t.retry) : null)
  document.title = `${title} — ${t.title}`
  byId('screen-title')?.focus()
}

async function boot() {
  if (root.dataset.mode === 'exchange') {
    const token = decodeURIComponent(location.pathname.slice(location.pathname.lastIndexOf('/') + 1))
    let session: PortalSession
    try {
      session = await exchange(token)
    } catch (err) {
      if (err instanceof ApiError && err.code === 'portal_link_used') return notice(t.usedTitle, t.usedBody)
      if (err instanceof ApiError && err.code === 'portal_link_expired') return notice(t.expiredTitle, t.expiredBody)
      if (err instanceof ApiError && err.status === 404) return notice(t.notFoundTitle, t.notFoundBody)
      // Not reached, or refused for another reason (rate limited): the link is unspent, so it may be tried again.
      return notice(t.genericError, err instanceof ApiError && err.status === 0 ? t.networkError : err instanceof ApiError ? err.message : '', () => void boot())
    }
    history.replaceState(null, '', `/portal/app?tenant=${encodeURIComponent(session.tenant.id)}${location.hash}`)
    return start(session)
  }
  const tenant = new URLSearchParams(location.search).get('tenant')
  const session = tenant ? storedSession(tenant) : undefined
  if (!session) return notice(t.noSessionTitle, t.noSessionBody)
  start(session)
}

function start(session: PortalSession) {
  const ended = () => {
    forget(session.tenant.id)
    notice(t.sessionEndedTitle, t.sessionEndedBody)
  }
  const api = sessionApi(session.secret, ended)
  const can = (scope: string) => session.scopes.includes(scope)
  byId('tenant-name')!.textContent = session.tenant.name
  byId('session-ends')!.textContent = t.sessionEnds(fmt.time(session.expires_at))
  // The session ends at expires_at whatever the viewer does; the API refuses it after that anyway.
  const left = Date.parse(session.expires_at) - Date.now()
  if (left < 2 ** 31) setTimeout(ended, Math.max(0, left))

  const screens = [
    { key: 'glance', label: t.glance },
    { key: 'payments', label: t.payments },
    ...(can('webhooks:read') ? [{ key: 'webhooks', label: t.webhooks }] : []),
  ]
  const links = screens.map((sc) => h('a', { href: `#/${sc.key}`, 'data-screen': sc.key }, sc.label))
  replace(nav, h('ul', {}, ...links.map((a) => h('li', {}, a))))
  nav.hidden = false

  let shown = ''
  let generation = 0
  const render = async () => {
    const route = parse(location.hash)
    let screen = route.path[0] ?? 'glance'
    if (!screens.some((sc) => sc.key === screen)) screen = 'glance'
    for (const a of links) {
      if (a.dataset.screen === screen) a.setAttribute('aria-current', 'page')
      else a.removeAttribute('aria-current')
    }
    const focusedId = document.activeElement?.id
    // Each render draws into its own container: a slower, older one lands nowhere visible.
    const mine = ++generation
    const container = h('div', { class: 'screen' })
    replace(main, container)
    const sameScreen = `${screen}/${route.path[1] ?? ''}` === shown
    shown = `${screen}/${route.path[1] ?? ''}`
    const ctx: Ctx = { api, t, fmt, session, can, main: container, go }
    if (screen === 'payments' && route.path[1]) await detailScreen(ctx, route.path[1])
    else if (screen === 'payments') await paymentsScreen(ctx, route)
    else if (screen === 'webhooks') await webhooksScreen(ctx, route)
    else await glanceScreen(ctx, route)
    if (mine !== generation || !container.isConnected) return
    document.title = `${screens.find((sc) => sc.key === screen)!.label} — ${session.tenant.name} — ${t.title}`
    // The same screen again (a filter, a range): focus stays on the control; a new screen starts at its heading.
    const again = sameScreen && focusedId ? document.getElementById(focusedId) : null
    ;(again ?? byId('screen-title'))?.focus()
  }
  const go = (hash: string) => {
    if (location.hash === hash) void render()
    else location.hash = hash
  }
  window.addEventListener('hashchange', () => void render())
  void render()
}

/** `#/payments/pi_…?status=failed` → path ['payments', 'pi_…'] and its query. */
export function parse(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '')
  const q = raw.indexOf('?')
  const path = (q < 0 ? raw : raw.slice(0, q)).split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p)
    } catch {
      return p
    }
  })
  return { path, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) }
}

void boot()
