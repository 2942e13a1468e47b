/** Pieces every screen uses: its heading, an error as the viewer should read it, a status badge, a definition list. */
import { ApiError } from './api.js'
import { h, type Child } from './dom.js'
import type { Ctx } from './types.js'

/** The screen's heading; focused when the screen changes, so a screen reader starts there. */
export const screenTitle = (text: string) => h('h1', { id: 'screen-title', tabindex: '-1' }, text)

/**
 * What went wrong, in the viewer's language where the portal knows the case, followed by
 * the API's own message (in English, as the API writes it) so that nothing is hidden.
 */
export function errorText(ctx: Ctx, err: unknown): Child[] {
  if (!(err instanceof ApiError)) return [ctx.t.genericError]
  if (err.status === 0) return [ctx.t.networkError]
  return err.message ? [h('span', { lang: 'en' }, err.message)] : [ctx.t.genericError]
}

/** A paragraph that says an error at once (role=alert). */
export const errorBox = (ctx: Ctx, err: unknown) => h('p', { class: 'error', role: 'alert' }, ...errorText(ctx, err))

export const badge = (kind: string, text: string) => h('span', { class: `badge ${kind}` }, text)

/** A definition list of [term, value] rows, skipping rows without a value. */
export const facts = (rows: [string, Child | Child[]][]) =>
  h(
    'dl',
    { class: 'facts' },
    ...rows.flatMap(([term, value]) => (value === null || value === undefined || value === false ? [] : [h('dt', {}, term), h('dd', {}, ...(Array.isArray(value) ? value : [value]))])),
  )

/** A form's messages: an error (role=alert) or a confirmation (role=status). */
export function formMessage(el: HTMLElement, kind: 'error' | 'ok' | '', ...text: Child[]) {
  el.className = `form-message ${kind}`
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status')
  el.replaceChildren()
  for (const c of text) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'object' ? c : String(c))
}
