/**
 * The page's HTML. Everything is escaped; there is no inline script or style: the page's
 * data rides in data- attributes and its behaviour comes from the hashed script.
 */
import type { SavedCard } from '../domain/cards/saved-cards.js'
import type { Strings, Lang } from './i18n.js'
import type { PaymentResult } from '../http/schemas/objects.js'

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!)

/**
 * `returned`: back from the processor's 3-D Secure, showing the outcome (`result`);
 * `redirect`: the form a processor's 3-D Secure wants posted, submitted by the script.
 */
export type Screen = 'ready' | 'used' | 'expired' | 'not_found' | 'top_level' | 'returned' | 'redirect'

export interface PageModel {
  screen: Screen
  lang: Lang
  t: Strings
  scriptPath: string
  stylePath: string
  tenantName?: string
  amountText?: string
  paymentIntentId?: string
  allowedOrigins?: string[]
  sessionSecret?: string
  savedCards?: SavedCard[]
  cvcLength?: number
  /** The outcome a `returned` page shows and tells the tenant's page. */
  result?: PaymentResult
  /** The form a `redirect` page posts. */
  redirect?: { url: string; fields: Record<string, string> }
}

const BRAND_LABELS: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', diners: 'Diners Club', jcb: 'JCB', unionpay: 'UnionPay', maestro: 'Maestro' }
export const brandLabel = (b: string) => BRAND_LABELS[b] ?? b.charAt(0).toUpperCase() + b.slice(1)

function message(title: string, body: string, kind: string) {
  return `<section class="screen message ${kind}" id="screen-${kind}" tabindex="-1" aria-labelledby="title-${kind}">
  <div class="icon" aria-hidden="true"></div>
  <h1 id="title-${kind}">${esc(title)}</h1>
  <p class="detail">${esc(body)}</p>
</section>`
}

function form(m: PageModel) {
  const t = m.t
  const saved = m.savedCards ?? []
  const savedList = saved.length
    ? `<fieldset class="saved">
    <legend>${esc(t.savedCards)}</legend>
    ${saved
      .map(
        (c, i) => `<label class="saved-card"><input type="radio" name="source" value="${esc(c.id)}"${i === 0 ? ' checked' : ''}>
      <span>${esc(t.useSavedCard(brandLabel(c.brand), c.last4, String(c.expMonth).padStart(2, '0'), String(c.expYear).slice(-2)))}</span></label>`,
      )
      .join('\n    ')}
    <label class="saved-card"><input type="radio" name="source" value="new"> <span>${esc(t.newCard)}</span></label>
  </fieldset>`
    : ''
  return `<section class="screen" id="screen-ready" aria-labelledby="title-ready">
  <h1 id="title-ready">${esc(t.payTo(m.tenantName ?? ''))}</h1>
  <p class="amount" id="amount">${esc(m.amountText ?? '')}</p>
  <form id="pay-form" novalidate autocomplete="on">
  ${savedList}
  <div id="new-card"${saved.length ? ' hidden' : ''}>
    <div class="field">
      <label for="cc-number">${esc(t.cardNumber)}</label>
      <div class="with-brand"><input id="cc-number" name="cc-number" autocomplete="cc-number" inputmode="numeric" aria-describedby="cc-number-error" maxlength="23" spellcheck="false" placeholder="1234 1234 1234 1234"><span id="brand" class="brand" aria-live="polite"></span></div>
      <p class="error" id="cc-number-error" role="alert"></p>
    </div>
    <div class="row">
      <div class="field">
        <label for="cc-exp">${esc(t.expiry)} <span class="hint">(${esc(t.expiryHint)})</span></label>
        <input id="cc-exp" name="cc-exp" autocomplete="cc-exp" inputmode="numeric" aria-describedby="cc-exp-error" maxlength="7" placeholder="${esc(t.expiryHint)}">
        <p class="error" id="cc-exp-error" role="alert"></p>
      </div>
      <div class="field">
        <label for="cc-csc">${esc(t.cvc)}</label>
        <input id="cc-csc" name="cc-csc" autocomplete="cc-csc" inputmode="numeric" aria-describedby="cc-csc-error" maxlength="4" placeholder="${'•'.repeat(m.cvcLength ?? 3)}">
        <p class="error" id="cc-csc-error" role="alert"></p>
      </div>
    </div>
    <div class="field">
      <label for="cc-name">${esc(t.nameOnCard)}</label>
      <input id="cc-name" name="cc-name" autocomplete="cc-name" aria-describedby="cc-name-error" maxlength="100">
      <p class="error" id="cc-name-error" role="alert"></p>
    </div>
    <div class="check"><input type="checkbox" id="save-card" name="save-card"><label for="save-card">${esc(t.saveCard)}</label></div>
  </div>
  <p class="error" id="form-error" role="alert"></p>
  <button type="submit" id="pay-button">${esc(t.pay(m.amountText ?? ''))}</button>
  <p class="secured">${esc(t.securedBy)}</p>
  </form>
</section>
${outcomes(m)}`
}

/** The screens an answer can lead to, hidden until the script shows one. */
function outcomes(m: PageModel) {
  const t = m.t
  return `<section class="screen message processing" id="screen-processing" hidden tabindex="-1" aria-labelledby="title-processing">
  <div class="spinner" aria-hidden="true"></div>
  <h1 id="title-processing">${esc(t.processing)}</h1>
</section>
<section class="screen challenge" id="screen-challenge" hidden tabindex="-1" aria-labelledby="title-challenge">
  <h1 id="title-challenge">${esc(t.challengeTitle)}</h1>
  <p>${esc(t.challengeBody)}</p>
  <p class="amount">${esc(m.amountText ?? '')}</p>
  <div class="buttons"><button type="button" id="challenge-approve">${esc(t.approve)}</button><button type="button" class="secondary" id="challenge-decline">${esc(t.decline)}</button></div>
</section>
${message(t.succeededTitle, t.succeededBody, 'succeeded').replace('<section', '<section hidden')}
${message(t.failedTitle, '', 'failed').replace('<section', '<section hidden')}
${message(t.expiredTitle, t.expiredBody, 'expired').replace('<section', '<section hidden')}
${message(t.usedTitle, t.usedBody, 'used').replace('<section', '<section hidden')}`
}

/** The processor's 3-D Secure form, posted by the script at once (the button is for a page without it). */
function redirectForm(m: PageModel) {
  const r = m.redirect!
  const fields = Object.entries(r.fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n  ')
  return `<section class="screen message processing" id="screen-redirect" tabindex="-1" aria-labelledby="title-redirect">
  <div class="spinner" aria-hidden="true"></div>
  <h1 id="title-redirect">${esc(m.t.redirectTitle)}</h1>
  <form id="redirect-form" method="post" action="${esc(r.url)}">
  ${fields}
  <button type="submit">${esc(m.t.continueToBank)}</button>
  </form>
</section>`
}

/** What each screen's page holds. */
const SCREENS: Record<Screen, (m: PageModel) => string> = {
  ready: form,
  returned: outcomes,
  redirect: redirectForm,
  used: ({ t }) => message(t.usedTitle, t.usedBody, 'used'),
  expired: ({ t }) => message(t.expiredTitle, t.expiredBody, 'expired'),
  top_level: ({ t }) => message(t.topLevelTitle, t.topLevelBody, 'top_level'),
  not_found: ({ t }) => message(t.notFoundTitle, t.notFoundBody, 'not_found'),
}

export function renderPage(m: PageModel): string {
  const t = m.t
  const data: Record<string, string> = {
    'data-screen': m.screen,
    'data-origins': JSON.stringify(m.allowedOrigins ?? []),
    'data-intent': m.paymentIntentId ?? '',
    'data-errors': JSON.stringify(t.errors),
    'data-failures': JSON.stringify(t.failures),
  }
  if (m.sessionSecret) data['data-session'] = m.sessionSecret
  if (m.result) data['data-result'] = JSON.stringify(m.result)
  const attrs = Object.entries(data)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(' ')
  const body = SCREENS[m.screen](m)
  return `<!doctype html>
<html lang="${m.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${esc(m.tenantName ? `${t.title} — ${m.tenantName}` : t.title)}</title>
<link rel="stylesheet" href="${m.stylePath}">
<script src="${m.scriptPath}" defer></script>
</head>
<body>
<main id="paylink" ${attrs}>
${body}
</main>
</body>
</html>
`
}
