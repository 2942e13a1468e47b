/**
 * The portal's HTML: the shell its script fills in, and the pages that grant nothing (a
 * used, expired or unknown link). Everything is escaped; there is no inline script or
 * style: what the script needs rides in data- attributes.
 */
import { esc } from '../page/templates.js'
import type { Lang, PortalStrings } from './i18n.js'

/** What a link that grants nothing shows. */
export type Refusal = 'used' | 'expired' | 'not_found'

export interface ShellModel {
  lang: Lang
  /** The viewer's locale for numbers and times (from Accept-Language). */
  locale: string
  t: PortalStrings
  scriptPath: string
  stylePath: string
  /** `exchange`: the URL holds a link's token to exchange; `app`: the session is in sessionStorage (or not). */
  mode: 'exchange' | 'app'
}

const head = (lang: Lang, title: string, stylePath: string, scriptPath?: string) => `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${stylePath}">
${scriptPath ? `<script src="${scriptPath}" defer></script>\n` : ''}</head>`

/** The shell: a header, the navigation (filled once the session's scopes are known) and the screen. */
export function renderShell(m: ShellModel): string {
  return `${head(m.lang, m.t.title, m.stylePath, m.scriptPath)}
<body>
<div id="portal" data-mode="${m.mode}" data-locale="${esc(m.locale)}">
<header class="top">
  <p class="brand">paylink <span id="tenant-name"></span></p>
  <nav id="nav" aria-label="${esc(m.t.nav)}" hidden></nav>
  <p id="session-ends" class="muted"></p>
</header>
<main id="main" tabindex="-1">
  <p class="loading">${esc(m.t.loading)}</p>
</main>
<div id="announce" class="visually-hidden" aria-live="polite"></div>
</div>
</body>
</html>
`
}

/** The page for a link that grants nothing; it loads no script. */
export function renderRefusal(m: Omit<ShellModel, 'mode' | 'scriptPath' | 'locale'>, refusal: Refusal): string {
  const words: Record<Refusal, [title: string, body: string]> = {
    used: [m.t.usedTitle, m.t.usedBody],
    expired: [m.t.expiredTitle, m.t.expiredBody],
    not_found: [m.t.notFoundTitle, m.t.notFoundBody],
  }
  const [title, body] = words[refusal]
  return `${head(m.lang, `${title} — ${m.t.title}`, m.stylePath)}
<body>
<main id="main" class="refusal">
<section class="message ${refusal}" aria-labelledby="refusal-title">
  <h1 id="refusal-title">${esc(title)}</h1>
  <p>${esc(body)}</p>
</section>
</main>
</body>
</html>
`
}
