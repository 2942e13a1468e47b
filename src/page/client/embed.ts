/**
 * /embed.js — an optional, dependency-free helper for tenant pages:
 *
 *   <div id="pay"></div>
 *   <script src="https://pay.example.com/embed.js"></script>
 *   <script>
 *     Paylink.mount(document.getElementById('pay'), payUrl, { onEvent: (e) => console.log(e.type) })
 *   </script>
 *
 * It creates the iframe, resizes it to the page's height, and passes on the page's
 * events. Messages are accepted only from the paylink origin of `payUrl` and only from
 * that iframe's window; anything else is ignored.
 */
interface PaylinkEvent {
  source: 'paylink'
  version: 1
  type: string
  payment_intent_id: string
  height?: number
  failure_code?: string
}

interface MountOptions {
  onEvent?: (event: PaylinkEvent) => void
  /** Accessible name of the frame (default "Card payment"). */
  title?: string
  /** Minimum height in pixels before the page reports its own (default 360). */
  minHeight?: number
}

interface Mounted {
  iframe: HTMLIFrameElement
  /** Removes the iframe and stops listening. */
  unmount(): void
}

function mount(element: HTMLElement, payUrl: string, options: MountOptions = {}): Mounted {
  const origin = new URL(payUrl, location.href).origin
  const iframe = document.createElement('iframe')
  iframe.src = payUrl
  iframe.title = options.title ?? 'Card payment'
  iframe.setAttribute('allow', 'payment')
  iframe.style.cssText = `width:100%;border:0;display:block;height:${options.minHeight ?? 360}px;transition:height .15s ease`
  const onMessage = (e: MessageEvent) => {
    if (e.origin !== origin || e.source !== iframe.contentWindow) return
    const data = e.data as PaylinkEvent
    if (!data || data.source !== 'paylink' || data.version !== 1 || typeof data.type !== 'string') return
    if (typeof data.height === 'number' && data.height > 0 && data.height < 10_000) iframe.style.height = `${Math.ceil(data.height)}px`
    options.onEvent?.(data)
  }
  window.addEventListener('message', onMessage)
  element.appendChild(iframe)
  return {
    iframe,
    unmount() {
      window.removeEventListener('message', onMessage)
      iframe.remove()
    },
  }
}

;(window as unknown as { Paylink: { mount: typeof mount; version: number } }).Paylink = { mount, version: 1 }
