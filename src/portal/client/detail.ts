/**
 * A payment's detail: its card, processor and account, why it failed (the plain reason in
 * the viewer's language, and the processor's own code), its timeline, its refunds, and
 * links to its webhook events. A session with `payments:write` may refund from here, the
 * whole of what is left or a part; the API decides (same rules, same errors), and an
 * over-refund is refused with what is left, which this screen then shows.
 *
 * "What is left" is the amount less the refunds that succeeded or are still pending
 * (the API reserves a pending refund's amount).
 */
import { ApiError } from './api.js'
import { fieldValue, h, replace, announce, type Child } from './dom.js'
import { badge, errorBox, errorText, facts, formMessage, screenTitle } from './ui.js'
import { digitsOf, toMajor } from './format.js'
import { brandLabel } from '../../page/templates.js'
import type { Account, Ctx, Intent, Refund, TimelineItem } from './types.js'
import type { FailureCode } from '../../domain/payments/intents.js'
import type { TimelineKind } from '../i18n.js'

interface Loaded {
  intent: Intent
  timeline: TimelineItem[]
  refunds: Refund[]
  account: Account | undefined
}

async function load(ctx: Ctx, id: string): Promise<Loaded> {
  const intent = await ctx.api.get<Intent>(`/v1/platform/payment-intents/${id}`)
  const [timeline, refunds, account] = await Promise.all([
    ctx.api.get<{ items: TimelineItem[] }>(`/v1/platform/payment-intents/${id}/timeline`).then((r) => r.items),
    ctx.api.page<Refund>(`/v1/platform/payment-intents/${id}/refunds`, { limit: 100 }).then((p) => p.items),
    // The account's name and processor, from the user's accounts (the API has no tenant-wide listing).
    ctx.api
      .get<Account[]>(`/v1/platform/card-processing/users/${intent.user_id}`, { currency: intent.currency })
      .then((accounts) => accounts.find((a) => a.card_processing_id === intent.card_processing_id))
      .catch(() => undefined),
  ])
  return { intent, timeline, refunds, account }
}

export async function detailScreen(ctx: Ctx, id: string, notice?: Child[]) {
  const { t } = ctx
  const back = h('p', {}, h('a', { href: '#/payments', class: 'back' }, t.backToPayments))
  replace(ctx.main, back, h('p', { class: 'loading' }, t.loading))
  let data: Loaded
  try {
    data = await load(ctx, id)
  } catch (err) {
    // Another tenant's payment is not_found, exactly as one that never existed.
    if (err instanceof ApiError && err.status === 404) replace(ctx.main, back, screenTitle(t.searchNotFound(id)))
    else replace(ctx.main, back, screenTitle(t.payments), errorBox(ctx, err))
    return
  }
  render(ctx, data, back, notice)
}

function render(ctx: Ctx, { intent, timeline, refunds, account }: Loaded, back: HTMLElement, notice?: Child[]) {
  const { t, fmt } = ctx
  const money = (major: string) => fmt.money(major, intent.currency)
  const failure = intent.failure_code
    ? [
        h('span', {}, t.reasons[intent.failure_code as FailureCode] ?? intent.failure_code),
        ' ',
        h('span', { class: 'mono sub' }, intent.failure_code),
        intent.processor_code ? h('span', { class: 'sub' }, `${t.processorSaid}: `, h('span', { class: 'mono' }, intent.processor_code), intent.processor_message ? ` — ${intent.processor_message}` : '') : null,
      ]
    : null
  replace(
    ctx.main,
    back,
    screenTitle(t.paymentTitle(money(intent.amount))),
    h('p', { class: 'summary' }, badge(intent.status, t.statuses[intent.status]), ' ', h('span', { class: 'mono', id: 'payment-id' }, intent.id)),
    facts([
      [t.amount, money(intent.amount)],
      [t.amountRefunded, intent.amount_refunded_minor > 0 ? money(intent.amount_refunded) : null],
      [t.user, h('a', { href: `#/payments?user=${intent.user_id}`, class: 'mono' }, intent.user_id)],
      [t.card, intent.card ? t.cardOf(brandLabel(intent.card.brand), intent.card.last4) : t.noCard],
      [t.processor, account?.processor ?? null],
      [t.account, [account ? `${account.name} ` : '', h('span', { class: 'mono' }, intent.card_processing_id)]],
      [t.created, fmt.dateTime(intent.created_at)],
      [t.expiresAt, intent.status === 'pending' ? fmt.dateTime(intent.expires_at) : null],
      [t.failure, failure],
    ]),
    refundSection(ctx, intent, refunds, notice),
    timelineSection(ctx, intent, timeline),
  )
}

function timelineSection(ctx: Ctx, intent: Intent, items: TimelineItem[]) {
  const { t, fmt } = ctx
  const events = ctx.can('webhooks:read') ? h('p', {}, h('a', { href: `#/webhooks?payment=${intent.id}`, id: 'events-link' }, t.eventsOfPayment)) : null
  const line = (item: TimelineItem) => {
    const extra: Child[] = []
    if (typeof item.amount === 'string') extra.push(fmt.money(item.amount, typeof item.currency === 'string' ? item.currency : intent.currency))
    if (typeof item.failure_code === 'string') extra.push(t.reasons[item.failure_code as FailureCode] ?? item.failure_code)
    if (typeof item.type === 'string') {
      const eventId = typeof item.event_id === 'string' ? item.event_id : typeof item.id === 'string' && item.id.startsWith('evt_') ? item.id : undefined
      extra.push(eventId && ctx.can('webhooks:read') ? h('a', { href: `#/webhooks?payment=${intent.id}&event=${eventId}`, class: 'mono' }, item.type) : h('span', { class: 'mono' }, item.type))
    }
    return h(
      'li',
      { 'data-kind': item.kind },
      h('time', { datetime: item.at }, fmt.dateTime(item.at)),
      h('span', { class: 'kind' }, t.kinds[item.kind as TimelineKind] ?? item.kind),
      ...extra.flatMap((e) => [' ', h('span', { class: 'sub' }, e)]),
    )
  }
  return h(
    'section',
    { 'aria-labelledby': 'timeline-title' },
    h('h2', { id: 'timeline-title' }, t.timeline),
    items.length ? h('ol', { class: 'timeline', id: 'timeline' }, ...items.map(line)) : h('p', { class: 'muted' }, t.noTimeline),
    events,
  )
}

/** An Idempotency-Key (crypto.randomUUID needs a secure context; getRandomValues does not). */
const newKey = () => `portal-${Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')}`

/** What is left to refund, in minor units: the amount less succeeded and pending refunds. */
const leftOf = (intent: Intent, refunds: Refund[]) => intent.amount_minor - intent.amount_refunded_minor - refunds.filter((r) => r.status === 'pending').reduce((sum, r) => sum + r.amount_minor, 0)

/** What the API says is left, from its refusal ("… the 7.50 USD left to refund"). */
function leftFromRefusal(err: ApiError): { major: string; currency: string } | undefined {
  for (const text of [err.message, ...err.details.map((d) => d.issue)]) {
    const m = /(\d+(?:\.\d+)?) ([A-Z]{3})\b/.exec(text)
    if (m) return { major: m[1]!, currency: m[2]! }
  }
  return undefined
}

function refundSection(ctx: Ctx, intent: Intent, refunds: Refund[], notice?: Child[]) {
  const { t, fmt } = ctx
  if (intent.status !== 'succeeded' && refunds.length === 0) return null
  const digits = intent.amount.includes('.') ? intent.amount.split('.')[1]!.length : digitsOf(intent.currency)
  const left = leftOf(intent, refunds)
  const leftText = (major: string) => (Number(major) > 0 ? t.amountLeft(fmt.money(major, intent.currency)) : t.nothingLeft)
  const leftLine = h('p', { id: 'amount-left', class: 'left' }, leftText(toMajor(left, digits)))
  const message = h('p', { id: 'refund-message', class: 'form-message' })
  if (notice) formMessage(message, 'ok', ...notice)

  const list = refunds.length
    ? h(
        'ul',
        { class: 'refunds', id: 'refund-list' },
        ...refunds.map((r) =>
          h('li', { 'data-id': r.id }, fmt.money(r.amount, r.currency), ' ', badge(r.status, t.refundStatuses[r.status]), ' ', h('span', { class: 'mono sub' }, r.id), ' ', h('time', { class: 'sub', datetime: r.created_at }, fmt.dateTime(r.created_at))),
        ),
      )
    : null

  let form: HTMLFormElement | null = null
  if (ctx.can('payments:write') && intent.status === 'succeeded' && left > 0) {
    // One key per refund the viewer means: a retry after a lost answer finds the same refund.
    let key = newKey()
    const amountField = h(
      'div',
      { class: 'field', id: 'refund-amount-field', hidden: true },
      h('label', { for: 'refund-amount' }, `${t.refundAmount} (${intent.currency})`),
      h('input', { id: 'refund-amount', name: 'amount', inputmode: 'decimal', autocomplete: 'off', 'aria-describedby': 'amount-left refund-message' }),
    )
    const choice = (value: 'whole' | 'part', label: string) =>
      h(
        'label',
        { class: 'choice' },
        h('input', {
          type: 'radio',
          name: 'how',
          value,
          id: `refund-${value}`,
          checked: value === 'whole',
          // Focus stays in the group (arrow keys move within it); the amount field follows it in the tab order.
          onChange: () => (amountField.hidden = value === 'whole'),
        }),
        ' ',
        label,
      )
    const button = h('button', { type: 'submit', id: 'refund-button' }, t.refundButton)
    form = h(
      'form',
      {
        id: 'refund-form',
        novalidate: true,
        onSubmit: async (e) => {
          e.preventDefault()
          const part = (form!.querySelector('input[name="how"]:checked') as HTMLInputElement | null)?.value === 'part'
          const amount = fieldValue(form!, 'amount')
          if (part && !(Number(amount) > 0)) {
            formMessage(message, 'error', t.refundInvalidAmount)
            return
          }
          button.disabled = true
          formMessage(message, '')
          try {
            const refund = await ctx.api.post<Refund>(`/v1/platform/payment-intents/${intent.id}/refunds`, part ? { amount } : {}, { 'idempotency-key': key })
            const done = t.refundDone(fmt.money(refund.amount, refund.currency), t.refundStatuses[refund.status])
            announce(done)
            await detailScreen(ctx, intent.id, [done])
            document.getElementById('refund-message')?.focus()
          } catch (err) {
            key = newKey()
            button.disabled = false
            if (err instanceof ApiError && err.code === 'refund_exceeds_amount') {
              const apiLeft = leftFromRefusal(err)
              if (apiLeft) leftLine.textContent = leftText(apiLeft.major)
              formMessage(message, 'error', apiLeft && Number(apiLeft.major) > 0 ? t.refundExceeds(fmt.money(apiLeft.major, apiLeft.currency)) : t.nothingLeft, ' ', h('span', { class: 'api-message' }, ...errorText(ctx, err)))
            } else {
              formMessage(message, 'error', ...errorText(ctx, err))
            }
            ;(part ? (amountField.querySelector('input') as HTMLInputElement) : button).focus()
          }
        },
      },
      h('fieldset', { class: 'choices' }, h('legend', {}, t.refundAmount), choice('whole', t.refundWhole), choice('part', t.refundPart)),
      amountField,
      button,
    )
  }
  message.tabIndex = -1
  return h('section', { 'aria-labelledby': 'refund-title', class: 'refund' }, h('h2', { id: 'refund-title' }, t.refund), leftLine, list, form, message)
}
