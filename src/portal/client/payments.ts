/**
 * Payments: the API's listing, newest first, a page at a time ("Load more" follows the
 * cursor), filtered by status, user, date range and amount range. The filters live in the
 * address (#/payments?status=failed&user=usr_…), so a filtered view can be reloaded, shared
 * within the session, and left with Back. The search box takes an id: a payment opens it,
 * a user filters by them, a refund opens its payment.
 *
 * Dates are the viewer's days: "from" is its local midnight, "to" includes the whole day
 * (the API's created_lt is the next local midnight). Amounts need their currency (the
 * API compares amounts within one currency).
 */
import { ApiError, type Query } from './api.js'
import { fieldValue, h, replace } from './dom.js'
import { badge, errorBox, formMessage, screenTitle } from './ui.js'
import type { Ctx, Intent, Refund, Route } from './types.js'
import type { IntentStatus } from '../i18n.js'
import { brandLabel } from '../../page/templates.js'

const STATUSES: IntentStatus[] = ['pending', 'processing', 'succeeded', 'failed']
const FILTERS = ['status', 'user', 'from', 'to', 'min', 'max', 'currency'] as const
const PAGE = 25

/** Local midnight of a yyyy-mm-dd day (plus `days`), as the API's RFC 3339. */
function localMidnight(day: string, days = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (!m) return undefined
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days).toISOString()
}

/** The listing's query for the filters in the address. */
export function listQuery(q: URLSearchParams): Query {
  const currency = q.get('currency')?.toUpperCase() || undefined
  const hasAmount = Boolean(q.get('min') || q.get('max'))
  return {
    limit: PAGE,
    status: q.get('status') || undefined,
    user_id: q.get('user') || undefined,
    created_gte: localMidnight(q.get('from') ?? ''),
    created_lt: localMidnight(q.get('to') ?? '', 1),
    currency,
    amount_gte: hasAmount && currency ? q.get('min') || undefined : undefined,
    amount_lte: hasAmount && currency ? q.get('max') || undefined : undefined,
  }
}

/** Where an id leads: a payment opens, a user filters, a refund opens its payment. */
async function search(ctx: Ctx, id: string, message: HTMLElement) {
  if (/^pi_[0-9a-z]+$/.test(id)) return ctx.go(`#/payments/${id}`)
  if (/^usr_[0-9a-z]+$/.test(id)) return ctx.go(`#/payments?user=${id}`)
  if (/^re_[0-9a-z]+$/.test(id)) {
    try {
      const refund = await ctx.api.get<Refund>(`/v1/platform/refunds/${id}`)
      return ctx.go(`#/payments/${refund.payment_intent_id}`)
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return formMessage(message, 'error', ctx.t.searchNotFound(id))
      return formMessage(message, 'error', ...(err instanceof ApiError && err.status === 0 ? [ctx.t.networkError] : [ctx.t.genericError]))
    }
  }
  formMessage(message, 'error', ctx.t.searchUnknown)
}

export async function paymentsScreen(ctx: Ctx, route: Route) {
  const { t } = ctx
  const q = route.query
  const searchMessage = h('p', { id: 'search-message', class: 'form-message' })
  const searchForm = h(
    'form',
    {
      role: 'search',
      class: 'search',
      onSubmit: (e) => {
        e.preventDefault()
        void search(ctx, fieldValue(searchForm, 'q'), searchMessage)
      },
    },
    h('label', { for: 'search-id' }, t.search),
    h('div', { class: 'row' }, h('input', { id: 'search-id', name: 'q', type: 'search', spellcheck: 'false', autocomplete: 'off', 'aria-describedby': 'search-hint search-message' }), h('button', { type: 'submit' }, t.searchButton)),
    h('p', { id: 'search-hint', class: 'hint' }, t.searchHint),
    searchMessage,
  )

  const filterMessage = h('p', { id: 'filter-message', class: 'form-message' })
  const input = (name: string, label: string, attrs: Record<string, string>) =>
    h('div', { class: 'field' }, h('label', { for: `filter-${name}` }, label), h('input', { id: `filter-${name}`, name, value: q.get(name) ?? '', ...attrs }))
  const filters = h(
    'form',
    {
      class: 'filters',
      onSubmit: (e) => {
        e.preventDefault()
        const next = new URLSearchParams()
        for (const name of FILTERS) {
          const v = fieldValue(filters, name)
          if (v) next.set(name, v)
        }
        if ((next.get('min') || next.get('max')) && !next.get('currency')) {
          formMessage(filterMessage, 'error', t.amountNeedsCurrency)
          ;(filters.elements.namedItem('currency') as HTMLElement).focus()
          return
        }
        ctx.go(`#/payments${next.size ? `?${next}` : ''}`)
      },
    },
    h(
      'fieldset',
      {},
      h('legend', {}, t.filters),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'filter-status' }, t.status),
        h('select', { id: 'filter-status', name: 'status' }, h('option', { value: '' }, t.anyStatus), ...STATUSES.map((st) => h('option', { value: st, selected: q.get('status') === st }, t.statuses[st]))),
      ),
      input('user', t.userId, { spellcheck: 'false', autocomplete: 'off' }),
      input('from', t.dateFrom, { type: 'date' }),
      input('to', t.dateTo, { type: 'date' }),
      input('min', t.amountMin, { inputmode: 'decimal', autocomplete: 'off' }),
      input('max', t.amountMax, { inputmode: 'decimal', autocomplete: 'off' }),
      input('currency', t.amountCurrency, { maxlength: '3', autocomplete: 'off', spellcheck: 'false', class: 'short' }),
      h('div', { class: 'buttons' }, h('button', { type: 'submit', id: 'apply-filters' }, t.apply), h('a', { class: 'button secondary', href: '#/payments' }, t.clearFilters)),
      filterMessage,
    ),
  )

  const rows = h('tbody', { id: 'payment-rows' })
  const table = h(
    'table',
    { class: 'payments' },
    h('caption', { class: 'visually-hidden' }, t.payments),
    h(
      'thead',
      {},
      h('tr', {}, ...[t.created, t.amount, t.status, t.user, t.card, t.id].map((c) => h('th', { scope: 'col' }, c))),
    ),
    rows,
  )
  const more = h('button', { type: 'button', class: 'secondary', id: 'load-more', hidden: true }, t.loadMore)
  const status = h('p', { id: 'list-status', class: 'muted', role: 'status' }, t.loading)
  replace(ctx.main, screenTitle(t.payments), searchForm, filters, table, status, more)

  const query = listQuery(q)
  let cursor: string | undefined
  let shown = 0
  const load = async () => {
    more.disabled = true
    try {
      const page = await ctx.api.page<Intent>('/v1/platform/payment-intents', { ...query, cursor })
      for (const intent of page.items) rows.append(row(ctx, intent))
      shown += page.items.length
      cursor = page.nextCursor ?? undefined
      more.hidden = !page.hasMore
      status.textContent = shown === 0 ? t.noResults : t.shown(shown)
    } catch (err) {
      status.replaceChildren(errorBox(ctx, err))
    } finally {
      more.disabled = false
    }
  }
  more.addEventListener('click', () => void load())
  await load()
}

function row(ctx: Ctx, i: Intent) {
  const { t, fmt } = ctx
  const amount = fmt.money(i.amount, i.currency)
  const cell = (label: string, ...content: (Node | string)[]) => h('td', { 'data-label': label }, ...content)
  return h(
    'tr',
    { 'data-id': i.id },
    cell(t.created, fmt.dateTime(i.created_at)),
    cell(t.amount, h('a', { href: `#/payments/${i.id}` }, amount), ...(i.amount_refunded_minor > 0 ? [h('span', { class: 'sub' }, t.refundedPart(fmt.money(i.amount_refunded, i.currency)))] : [])),
    cell(t.status, badge(i.status, t.statuses[i.status])),
    cell(t.user, h('a', { href: `#/payments?user=${i.user_id}`, class: 'mono' }, i.user_id)),
    cell(t.card, i.card ? t.cardOf(brandLabel(i.card.brand), i.card.last4) : '—'),
    cell(t.id, h('span', { class: 'mono' }, i.id)),
  )
}
