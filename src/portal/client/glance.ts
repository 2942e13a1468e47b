/**
 * "At a glance", the first screen: payments per hour over the last 48 hours or per day
 * over the last 30 days, succeeded and failed stacked, with the amount collected and the
 * success rate over the range, in one currency. The figures come from the API's one
 * aggregate call (GET /v1/platform/payment-stats); the chart is drawn here.
 *
 * Which currencies to offer: the API keeps no list of a tenant's currencies, so the
 * picker offers the ones of the newest payments (one page of the listing, fetched once per
 * session), and USD, the API's default; the one chosen stays in the address (#/glance?currency=EUR).
 */
import { h, replace } from './dom.js'
import { stackedBars } from './chart.js'
import { errorBox, facts, screenTitle } from './ui.js'
import type { Ctx, Intent, Route, Stats, StatsBucket } from './types.js'

let knownCurrencies: Promise<string[]> | undefined

async function currencies(ctx: Ctx): Promise<string[]> {
  knownCurrencies ??= ctx.api
    .page<Intent>('/v1/platform/payment-intents', { limit: 100 })
    .then((p) => {
      const seen = new Map<string, number>()
      for (const i of p.items) seen.set(i.currency, (seen.get(i.currency) ?? 0) + 1)
      return [...seen.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c)
    })
    .catch(() => [])
  return knownCurrencies
}

export async function glanceScreen(ctx: Ctx, route: Route) {
  const { t, fmt } = ctx
  const seen = await currencies(ctx)
  const currency = (route.query.get('currency') ?? seen[0] ?? 'USD').toUpperCase()
  const granularity = route.query.get('range') === 'day' ? 'day' : 'hour'
  const choices = [...new Set([...seen, currency, 'USD'])].sort()
  const go = (c: string, g: string) => ctx.go(`#/glance?currency=${encodeURIComponent(c)}&range=${g}`)

  const picker = h('select', { id: 'glance-currency', name: 'currency', onChange: (e) => go((e.target as HTMLSelectElement).value, granularity) }, ...choices.map((c) => h('option', { value: c, selected: c === currency }, c)))
  const rangeRadio = (value: 'hour' | 'day', label: string) =>
    h('label', { class: 'segment' }, h('input', { type: 'radio', name: 'range', id: `range-${value}`, value, checked: granularity === value, onChange: () => go(currency, value) }), ' ', label)
  const rangeText = granularity === 'hour' ? t.last48h : t.last30d
  const body = h('div', { class: 'glance-body' }, h('p', { class: 'loading' }, t.loading))

  replace(
    ctx.main,
    screenTitle(t.glance),
    h(
      'div',
      { class: 'controls' },
      h('div', { class: 'field inline' }, h('label', { for: 'glance-currency' }, t.currency), picker),
      h('fieldset', { class: 'segmented' }, h('legend', {}, t.range), rangeRadio('hour', t.last48h), rangeRadio('day', t.last30d)),
    ),
    body,
  )

  let stats: Stats
  try {
    stats = await ctx.api.get<Stats>('/v1/platform/payment-stats', { currency, granularity })
  } catch (err) {
    replace(body, errorBox(ctx, err))
    return
  }
  const when = (b: StatsBucket) => (granularity === 'hour' ? fmt.dayHour(b.start) : fmt.day(b.start))
  const width = ctx.main.clientWidth || 720
  // A label every 6 hours or 5 days, half as many on a narrow screen.
  const every = width < 600 ? 2 : 1
  const tick = (b: StatsBucket, i: number) => {
    if (granularity === 'day') return i % (5 * every) === 0 ? fmt.day(b.start) : ''
    return new Date(b.start).getHours() % (6 * every) === 0 ? fmt.hour(b.start) : ''
  }
  const rate = stats.success_rate === null || stats.success_rate === undefined ? '—' : fmt.percent(Number(stats.success_rate))
  const label = t.chartLabel(currency, rangeText)

  replace(
    body,
    h(
      'dl',
      { class: 'figures' },
      figure('fig-succeeded', t.succeeded, fmt.count(stats.succeeded)),
      figure('fig-failed', t.failed, fmt.count(stats.failed)),
      figure('fig-collected', t.amountCollected, fmt.money(stats.amount_collected, currency)),
      figure('fig-rate', t.successRate, rate),
    ),
    h(
      'figure',
      { class: 'chart-box' },
      stackedBars(stats.buckets, { label, tick, title: (b) => t.barLabel(when(b), b.succeeded, b.failed), count: fmt.count, width }),
      h('figcaption', {}, h('span', { class: 'key succeeded' }, t.succeeded), ' ', h('span', { class: 'key failed' }, t.failed), ' · ', label),
    ),
    stats.succeeded + stats.failed === 0 ? h('p', { class: 'muted' }, t.noPaymentsInRange) : null,
    h(
      'details',
      { class: 'as-table' },
      h('summary', {}, t.showAsTable),
      h(
        'table',
        {},
        h('caption', { class: 'visually-hidden' }, label),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t.period), h('th', { scope: 'col' }, t.succeeded), h('th', { scope: 'col' }, t.failed), h('th', { scope: 'col' }, t.amountCollected))),
        h(
          'tbody',
          {},
          ...stats.buckets.map((b) => h('tr', {}, h('th', { scope: 'row' }, when(b)), h('td', {}, fmt.count(b.succeeded)), h('td', {}, fmt.count(b.failed)), h('td', {}, fmt.money(b.amount_collected, currency)))),
        ),
      ),
    ),
  )
}

const figure = (id: string, term: string, value: string) => h('div', { class: 'figure' }, h('dt', {}, term), h('dd', { id }, value))
