/**
 * Webhooks: the tenant's endpoints with their state, and the event log with each event's
 * deliveries (status code, time, duration, error of the last attempt, and the attempts).
 * A session with `webhooks:write` may add an endpoint, disable or enable one, rotate its
 * secret, and resend an event; the secret of a new or rotated endpoint is shown once,
 * here, with a copy button, and kept nowhere.
 *
 * `#/webhooks?payment=pi_…` lists that payment's events only; `&event=evt_…` opens that
 * event's deliveries.
 */
import { ApiError } from './api.js'
import { announce, fieldValue, h, replace } from './dom.js'
import { badge, errorBox, errorText, formMessage, screenTitle } from './ui.js'
import type { Ctx, Delivery, Endpoint, Route, WebhookEvent } from './types.js'

type WithSecret = Endpoint & { secret: string }

export async function webhooksScreen(ctx: Ctx, route: Route) {
  const { t } = ctx
  const payment = route.query.get('payment') ?? undefined
  const openEvent = route.query.get('event') ?? undefined
  const endpoints = h('section', { 'aria-labelledby': 'endpoints-title', id: 'endpoints' })
  const events = h('section', { 'aria-labelledby': 'events-title', id: 'events' })
  replace(ctx.main, screenTitle(t.webhooks), endpoints, events)
  const urls = new Map<string, string>()
  await endpointsSection(ctx, endpoints, urls)
  await eventsSection(ctx, events, urls, payment, openEvent)
}

async function endpointsSection(ctx: Ctx, section: HTMLElement, urls: Map<string, string>) {
  const { t } = ctx
  const writable = ctx.can('webhooks:write')
  const secretBox = h('div', { id: 'secret-box', class: 'secret', hidden: true, role: 'status' })
  const list = h('ul', { class: 'endpoints', id: 'endpoint-list' })
  const listMessage = h('p', { class: 'form-message', id: 'endpoint-message' })

  const showSecret = (e: WithSecret) => {
    const copied = h('span', { class: 'sub', id: 'copied', 'aria-live': 'polite' })
    const field = h('input', { id: 'new-secret', readonly: true, value: e.secret, class: 'mono', spellcheck: 'false', 'aria-describedby': 'secret-for' })
    replace(
      secretBox,
      h('label', { for: 'new-secret' }, t.secretOnce),
      h('p', { id: 'secret-for', class: 'sub mono' }, e.url),
      h(
        'div',
        { class: 'row' },
        field,
        h(
          'button',
          {
            type: 'button',
            id: 'copy-secret',
            onClick: async () => {
              try {
                await navigator.clipboard.writeText(e.secret)
              } catch {
                // No clipboard API (an insecure origin, a frame without permission): select for Ctrl-C instead.
                field.select()
                document.execCommand('copy')
              }
              copied.textContent = t.copied
            },
          },
          t.copy,
        ),
        copied,
      ),
    )
    secretBox.hidden = false
    field.focus()
    field.select()
  }

  const refresh = async (focusId?: string) => {
    let items: Endpoint[]
    try {
      items = await ctx.api.get<Endpoint[]>('/v1/platform/webhook-endpoints')
    } catch (err) {
      replace(list, h('li', {}, errorBox(ctx, err)))
      return
    }
    urls.clear()
    for (const e of items) urls.set(e.id, e.url)
    replace(list, ...(items.length ? items.map(item) : [h('li', { class: 'muted' }, t.noEndpoints)]))
    if (focusId) document.getElementById(focusId)?.focus()
  }

  const act = async (button: HTMLButtonElement, run: () => Promise<unknown>) => {
    button.disabled = true
    formMessage(listMessage, '')
    try {
      await run()
    } catch (err) {
      formMessage(listMessage, 'error', ...errorText(ctx, err))
      button.disabled = false
    }
  }

  const item = (e: Endpoint) => {
    const toggle = h('button', { type: 'button', class: 'secondary small', id: `toggle-${e.id}` }, e.status === 'enabled' ? t.disable : t.enable)
    toggle.setAttribute('aria-describedby', `url-${e.id}`)
    toggle.addEventListener('click', () =>
      act(toggle, async () => {
        await ctx.api.patch(`/v1/platform/webhook-endpoints/${e.id}`, { status: e.status === 'enabled' ? 'disabled' : 'enabled' })
        announce(e.status === 'enabled' ? t.endpointStates.disabled : t.endpointStates.enabled)
        await refresh(`toggle-${e.id}`)
      }),
    )
    const rotate = h('button', { type: 'button', class: 'secondary small', id: `rotate-${e.id}`, 'aria-describedby': `url-${e.id}` }, t.rotateSecret)
    rotate.addEventListener('click', () =>
      act(rotate, async () => {
        const rotated = await ctx.api.post<WithSecret>(`/v1/platform/webhook-endpoints/${e.id}/rotate-secret`)
        await refresh()
        showSecret(rotated)
      }),
    )
    return h(
      'li',
      { 'data-id': e.id, 'data-status': e.status },
      h('p', { class: 'mono url', id: `url-${e.id}` }, e.url),
      e.description ? h('p', { class: 'sub' }, e.description) : null,
      h('p', {}, badge(e.status, t.endpointStates[e.status]), e.disabled_reason ? h('span', { class: 'sub' }, ` ${e.disabled_reason}`) : null),
      writable ? h('div', { class: 'buttons' }, toggle, rotate) : null,
    )
  }

  let addForm: HTMLFormElement | null = null
  if (writable) {
    const message = h('p', { class: 'form-message', id: 'add-message' })
    const button = h('button', { type: 'submit', id: 'add-endpoint' }, t.add)
    addForm = h(
      'form',
      {
        id: 'add-form',
        class: 'add',
        novalidate: true,
        onSubmit: async (ev) => {
          ev.preventDefault()
          button.disabled = true
          formMessage(message, '')
          const description = fieldValue(addForm!, 'description')
          try {
            const made = await ctx.api.post<WithSecret>('/v1/platform/webhook-endpoints', { url: fieldValue(addForm!, 'url'), ...(description ? { description } : {}) })
            addForm!.reset()
            await refresh()
            showSecret(made)
          } catch (err) {
            formMessage(message, 'error', ...errorText(ctx, err))
            ;(addForm!.elements.namedItem('url') as HTMLInputElement).focus()
          } finally {
            button.disabled = false
          }
        },
      },
      h(
        'fieldset',
        {},
        h('legend', {}, t.addEndpoint),
        h('div', { class: 'field' }, h('label', { for: 'endpoint-url' }, t.url), h('input', { id: 'endpoint-url', name: 'url', type: 'url', required: true, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'add-message' })),
        h('div', { class: 'field' }, h('label', { for: 'endpoint-description' }, t.description), h('input', { id: 'endpoint-description', name: 'description', maxlength: '500', autocomplete: 'off' })),
        button,
        message,
      ),
    )
  }

  replace(section, h('h2', { id: 'endpoints-title' }, t.endpoints), secretBox, list, listMessage, addForm)
  await refresh()
}

async function eventsSection(ctx: Ctx, section: HTMLElement, urls: Map<string, string>, payment: string | undefined, openEvent: string | undefined) {
  const { t, fmt } = ctx
  const list = h('ul', { class: 'events', id: 'event-list' })
  const more = h('button', { type: 'button', class: 'secondary', id: 'events-more', hidden: true }, t.loadMore)
  const status = h('p', { class: 'muted', role: 'status' })
  replace(
    section,
    h('h2', { id: 'events-title' }, payment ? t.eventsFor(payment) : t.events),
    payment ? h('p', {}, h('a', { href: `#/payments/${payment}` }, payment), ' · ', h('a', { href: '#/webhooks' }, t.allEvents)) : null,
    list,
    status,
    more,
  )

  const deliveriesOf = async (event: WebhookEvent, panel: HTMLElement) => {
    replace(panel, h('p', { class: 'loading' }, t.loading))
    let deliveries: Delivery[]
    try {
      deliveries = await ctx.api.get<Delivery[]>(`/v1/platform/events/${event.id}/deliveries`)
    } catch (err) {
      replace(panel, errorBox(ctx, err))
      return
    }
    if (!deliveries.length) return replace(panel, h('p', { class: 'muted' }, t.noDeliveries))
    const head = [t.url, t.status, t.statusCode, t.time, t.duration, t.error, t.attempts]
    replace(
      panel,
      h(
        'table',
        { class: 'deliveries' },
        h('caption', { class: 'visually-hidden' }, `${t.deliveries}: ${event.type}`),
        h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          ...deliveries.map((d) => {
            const last = d.attempt_log[d.attempt_log.length - 1]
            const cell = (label: string, ...c: (Node | string)[]) => h('td', { 'data-label': label }, ...c)
            return h(
              'tr',
              { 'data-id': d.id, 'data-status': d.status },
              cell(head[0]!, h('span', { class: 'mono' }, urls.get(d.endpoint_id) ?? d.endpoint_id)),
              cell(head[1]!, badge(d.status, t.deliveryStates[d.status])),
              cell(head[2]!, last?.status_code != null ? String(last.status_code) : '—'),
              cell(head[3]!, last ? h('time', { datetime: last.attempted_at }, fmt.dateTime(last.attempted_at)) : '—'),
              cell(head[4]!, last ? fmt.ms(last.duration_ms) : '—'),
              cell(head[5]!, last?.error ?? '—'),
              cell(head[6]!, fmt.count(d.attempts)),
            )
          }),
        ),
      ),
    )
  }

  const item = (event: WebhookEvent) => {
    const panelId = `deliveries-${event.id}`
    const panel = h('div', { id: panelId, class: 'delivery-panel', hidden: true })
    const toggle = h('button', { type: 'button', class: 'secondary small', id: `show-${event.id}`, 'aria-expanded': 'false', 'aria-controls': panelId }, t.showDeliveries)
    const expand = async (open: boolean) => {
      toggle.setAttribute('aria-expanded', String(open))
      panel.hidden = !open
      if (open) await deliveriesOf(event, panel)
    }
    toggle.addEventListener('click', () => void expand(toggle.getAttribute('aria-expanded') !== 'true'))
    let resend: HTMLButtonElement | null = null
    const resendMessage = h('p', { class: 'form-message', id: `resend-message-${event.id}` })
    if (ctx.can('webhooks:write')) {
      const button = h('button', { type: 'button', class: 'secondary small', id: `resend-${event.id}` }, t.resend)
      button.setAttribute('aria-describedby', `type-${event.id}`)
      button.addEventListener('click', async () => {
        button.disabled = true
        try {
          const r = await ctx.api.post<{ deliveries_queued: number }>(`/v1/platform/events/${event.id}/redeliver`)
          formMessage(resendMessage, 'ok', t.resent(r.deliveries_queued))
          await expand(true)
        } catch (err) {
          formMessage(resendMessage, 'error', ...errorText(ctx, err))
        } finally {
          button.disabled = false
        }
      })
      resend = button
    }
    const li = h(
      'li',
      { 'data-id': event.id, 'data-type': event.type },
      h(
        'div',
        { class: 'event-head' },
        h('span', { class: 'mono', id: `type-${event.id}` }, event.type),
        event.payment_intent_id ? h('a', { href: `#/payments/${event.payment_intent_id}`, class: 'mono sub' }, event.payment_intent_id) : null,
        h('time', { class: 'sub', datetime: event.created_at }, fmt.dateTime(event.created_at)),
        h('span', { class: 'buttons' }, toggle, resend),
      ),
      resendMessage,
      panel,
    )
    if (event.id === openEvent) queueMicrotask(() => void expand(true).then(() => li.scrollIntoView({ block: 'nearest' })))
    return li
  }

  let cursor: string | undefined
  let shown = 0
  const load = async () => {
    more.disabled = true
    try {
      const page = await ctx.api.page<WebhookEvent>('/v1/platform/events', { limit: 20, cursor, payment_intent_id: payment })
      for (const e of page.items) list.append(item(e))
      shown += page.items.length
      cursor = page.nextCursor ?? undefined
      more.hidden = !page.hasMore
      status.textContent = shown ? '' : t.noEvents
    } catch (err) {
      status.replaceChildren(errorBox(ctx, err))
      if (err instanceof ApiError && err.status === 0) more.hidden = true
    } finally {
      more.disabled = false
    }
  }
  more.addEventListener('click', () => void load())
  await load()
}
