/**
 * The payment page's own script. It checks the card as the server does, locks the button
 * while a payment is in flight, shows each outcome, and tells the parent page what happens
 * with postMessage — only ever to the tenant's allowed origin that framed it, never "*".
 */
import type { PaymentResult } from '../../http/schemas/objects.js'
import { cardBrand, checkCard, cvcLength, formatCardNumber, type CardProblem } from '../../domain/cards/checks.js'

type EventType = 'ready' | 'resize' | 'payment_intent.processing' | 'payment_intent.succeeded' | 'payment_intent.failed' | 'link.expired' | 'link.used'


const root = document.getElementById('paylink') as HTMLElement
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T | null
const screenName = root.dataset.screen ?? 'not_found'
const intentId = root.dataset.intent ?? ''
const session = root.dataset.session ?? ''
const origins = JSON.parse(root.dataset.origins ?? '[]') as string[]
const errors = JSON.parse(root.dataset.errors ?? '{}') as Record<string, string>
const failures = JSON.parse(root.dataset.failures ?? '{}') as Record<string, string>
const base = location.pathname.replace(/\/+$/, '')

/** The framing origin, if it is one of the tenant's: the only place events may go. */
function parentOrigin(): string | undefined {
  if (window.parent === window) return undefined
  const candidates: string[] = []
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins
  if (ancestors && ancestors.length > 0) candidates.push(ancestors[0]!)
  else if (document.referrer) {
    try {
      candidates.push(new URL(document.referrer).origin)
    } catch {
      // no usable referrer
    }
  }
  return candidates.find((o) => origins.includes(o))
}
const target = parentOrigin()

function post(type: EventType, extra: Record<string, unknown> = {}) {
  if (!target) return
  window.parent.postMessage({ source: 'paylink', version: 1, type, payment_intent_id: intentId, ...extra }, target)
}

const height = () => Math.ceil(document.documentElement.getBoundingClientRect().height)

function show(id: string) {
  for (const s of Array.from(document.querySelectorAll<HTMLElement>('.screen'))) s.hidden = s.id !== `screen-${id}`
  const el = $(`screen-${id}`)
  if (el && id !== 'ready') el.focus()
  post('resize', { height: height() })
}

function finish(result: PaymentResult) {
  if (result.status === 'succeeded') {
    show('succeeded')
    post('payment_intent.succeeded')
  } else if (result.status === 'failed') {
    const detail = document.querySelector<HTMLElement>('#screen-failed .detail')
    if (detail) detail.textContent = failures[result.failure_code ?? ''] ?? failures.processing_error ?? ''
    if (result.failure_code === 'link_expired') {
      show('expired')
      post('link.expired')
      return
    }
    show('failed')
    post('payment_intent.failed', { failure_code: result.failure_code })
  } else if (result.status === 'requires_authentication' && result.redirect) {
    toBank(result.redirect)
  } else if (result.status === 'requires_authentication') {
    show('challenge')
    $('challenge-approve')?.focus()
  } else {
    show('processing')
  }
}

/**
 * The processor's 3-D Secure, in this frame: a GET goes there by location; a POST goes
 * through /pay/{token}/redirect (posted with this page's session), whose page submits the
 * processor's form — this page's own CSP keeps posting to this origin only.
 */
function toBank(redirect: NonNullable<PaymentResult['redirect']>) {
  show('processing')
  if (redirect.method === 'GET') {
    window.location.assign(redirect.url)
    return
  }
  const form = document.createElement('form')
  form.method = 'POST'
  form.action = `${base}/redirect`
  const field = document.createElement('input')
  field.type = 'hidden'
  field.name = 'session'
  field.value = session
  form.appendChild(field)
  document.body.appendChild(form)
  form.submit()
}

async function call(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-paylink-session': session },
    body: JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  })
  return { status: res.status, json: await res.json().catch(() => ({})) }
}

function setError(id: string, text: string) {
  const p = $(`${id}-error`)
  const input = $(id)
  if (p) p.textContent = text
  if (input) {
    if (text) input.setAttribute('aria-invalid', 'true')
    else input.removeAttribute('aria-invalid')
  }
}

const FIELD_OF: Record<string, string> = { number: 'cc-number', exp_month: 'cc-exp', exp_year: 'cc-exp', expiry: 'cc-exp', cvc: 'cc-csc', name: 'cc-name' }
const MESSAGE_OF: Record<string, string> = { number: 'number', exp_month: 'expiry', exp_year: 'expiry', expiry: 'expiry', cvc: 'cvc', name: 'name' }

function showProblems(problems: CardProblem[]) {
  for (const id of ['cc-number', 'cc-exp', 'cc-csc', 'cc-name']) setError(id, '')
  for (const p of problems) setError(FIELD_OF[p.field]!, errors[MESSAGE_OF[p.field]!] ?? errors.generic ?? '')
  const first = problems[0]
  if (first) $(FIELD_OF[first.field]!)?.focus()
  post('resize', { height: height() })
}

function parseExpiry(text: string): { month: number; year: number } {
  const m = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(text)
  if (!m) return { month: 0, year: 0 }
  const year = Number(m[2]!.length === 2 ? `20${m[2]}` : m[2])
  return { month: Number(m[1]), year }
}

function setupForm() {
  const form = $<HTMLFormElement>('pay-form')!
  const button = $<HTMLButtonElement>('pay-button')!
  const number = $<HTMLInputElement>('cc-number')!
  const exp = $<HTMLInputElement>('cc-exp')!
  const cvc = $<HTMLInputElement>('cc-csc')!
  const name = $<HTMLInputElement>('cc-name')!
  const save = $<HTMLInputElement>('save-card')!
  const brand = $('brand')!
  const newCard = $('new-card')!
  const formError = $('form-error')!
  let busy = false

  const source = () => document.querySelector<HTMLInputElement>('input[name="source"]:checked')?.value ?? 'new'
  for (const radio of Array.from(document.querySelectorAll<HTMLInputElement>('input[name="source"]'))) {
    radio.addEventListener('change', () => {
      newCard.hidden = source() !== 'new'
      post('resize', { height: height() })
    })
  }

  number.addEventListener('input', () => {
    const digits = number.value.replace(/\D/g, '').slice(0, 19)
    const caret = number.selectionStart === number.value.length
    number.value = formatCardNumber(digits)
    if (caret) number.setSelectionRange(number.value.length, number.value.length)
    const b = digits.length >= 1 ? cardBrand(digits) : undefined
    brand.textContent = b ? b.toUpperCase() : ''
    brand.dataset.brand = b ?? ''
    cvc.maxLength = cvcLength(digits)
  })
  exp.addEventListener('input', () => {
    const digits = exp.value.replace(/\D/g, '').slice(0, 4)
    exp.value = digits.length > 2 ? `${digits.slice(0, 2)} / ${digits.slice(2)}` : digits
  })
  cvc.addEventListener('input', () => {
    cvc.value = cvc.value.replace(/\D/g, '').slice(0, 4)
  })

  const lock = (on: boolean) => {
    busy = on
    button.disabled = on
    button.setAttribute('aria-busy', String(on))
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    if (busy) return
    formError.textContent = ''
    let body: unknown
    if (source() === 'new') {
      const { month, year } = parseExpiry(exp.value)
      const card = { number: number.value.replace(/\D/g, ''), exp_month: month, exp_year: year, cvc: cvc.value, ...(name.value.trim() ? { name: name.value.trim() } : {}) }
      const problems = checkCard(card, new Date())
      showProblems(problems)
      if (problems.length) return
      body = { card, save_card: save.checked }
    } else {
      body = { saved_card_id: source() }
    }
    lock(true)
    post('payment_intent.processing')
    try {
      const { status, json } = await call('confirm', body)
      if (status === 200) return finish(json.data as PaymentResult)
      if (status === 422 && Array.isArray(json.error?.details)) {
        const problems = (json.error.details as { field: string; issue: string }[])
          .filter((d) => d.field.startsWith('card.'))
          .map((d) => ({ field: d.field.slice(5) as CardProblem['field'], issue: d.issue }))
        showProblems(problems)
        if (!problems.length) formError.textContent = errors.generic ?? ''
        lock(false)
        return
      }
      if (status === 410) {
        show('expired')
        post('link.expired')
        return
      }
      if (status === 409 || status === 401) {
        show('used')
        post('link.used')
        return
      }
      formError.textContent = errors.network ?? ''
      lock(false)
    } catch {
      formError.textContent = errors.network ?? ''
      lock(false)
    }
  })

  const answer = async (choice: 'approve' | 'decline') => {
    for (const id of ['challenge-approve', 'challenge-decline']) ($<HTMLButtonElement>(id)!).disabled = true
    try {
      const { status, json } = await call('challenge', { answer: choice })
      if (status === 200) return finish(json.data as PaymentResult)
      if (status === 410) {
        show('expired')
        post('link.expired')
        return
      }
      show('used')
      post('link.used')
    } catch {
      for (const id of ['challenge-approve', 'challenge-decline']) ($<HTMLButtonElement>(id)!).disabled = false
    }
  }
  $('challenge-approve')!.addEventListener('click', () => void answer('approve'))
  $('challenge-decline')!.addEventListener('click', () => void answer('decline'))
}

if (screenName === 'ready') setupForm()
post('ready', { height: height() })
// Back from 3-D Secure at the processor: show how it ended and tell the tenant's page.
if (screenName === 'returned') finish(JSON.parse(root.dataset.result ?? '{}') as PaymentResult)
// On the way to it with a form to post.
if (screenName === 'redirect') $<HTMLFormElement>('redirect-form')?.submit()
if (screenName === 'used') post('link.used')
if (screenName === 'expired') post('link.expired')
if (typeof ResizeObserver !== 'undefined') {
  let last = 0
  new ResizeObserver(() => {
    const h = height()
    if (h !== last) {
      last = h
      post('resize', { height: h })
    }
  }).observe(document.body)
}
