/**
 * Building the portal's DOM without innerHTML: every text is a text node, so nothing the
 * API returns (a webhook URL, a description, an error message) can become markup.
 */
export type Child = Node | string | number | null | undefined | false
type Attr = string | number | boolean | null | undefined | ((event: Event) => void)

function fill<E extends Element>(el: E, attrs: Record<string, Attr>, children: Child[]): E {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value)
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    el.append(typeof child === 'object' ? child : String(child))
  }
  return el
}

/** `h('a', {href: '#/payments'}, 'Payments')`: an element with attributes (`onClick` listens) and children. */
export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: Child[]): HTMLElementTagNameMap[K] =>
  fill(document.createElement(tag), attrs, children)

const SVG_NS = 'http://www.w3.org/2000/svg'
/** An SVG element, as `h` makes HTML ones. */
export const s = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: Child[]): SVGElementTagNameMap[K] =>
  fill(document.createElementNS(SVG_NS, tag), attrs, children)

export const byId = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T | null

/** Replaces an element's children. */
export function replace(el: Element, ...children: Child[]) {
  el.replaceChildren()
  fill(el, {}, children)
}

/** Says `text` to screen readers (the shell's polite live region). */
export function announce(text: string) {
  const live = byId('announce')
  if (!live) return
  live.textContent = ''
  // A fresh text node in a later task is announced even when the text repeats.
  setTimeout(() => (live.textContent = text), 50)
}

/** A form's field value, trimmed. */
export const fieldValue = (form: HTMLFormElement, name: string) => {
  const el = form.elements.namedItem(name)
  return el && 'value' in el ? String(el.value).trim() : ''
}
