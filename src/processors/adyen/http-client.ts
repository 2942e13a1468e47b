/**
 * The HTTP client the Adyen SDK (`@adyen/api-library`) calls through, built on Node's
 * `fetch` instead of the SDK's own `HttpURLConnectionClient`, which speaks only https
 * and cannot be pointed anywhere but Adyen.
 *
 * What it keeps from the SDK's client (lib/src/httpClient/httpURLConnectionClient.js):
 * - the headers: `X-API-Key` (or Basic auth from username/password), `Content-Type:
 *   application/json` unless the caller set one, `Idempotency-Key` from
 *   `requestOptions.idempotencyKey`, `Cache-Control: no-cache`, `Accept-Charset: utf-8`,
 *   `User-Agent: [applicationName ]adyen-node-api-library/<version>` and the
 *   `adyen-library-name` / `adyen-library-version` pair; `requestOptions.params` become
 *   the query string and `requestOptions.method` the method (POST when absent);
 * - the errors: a non-2xx answer rejects with the SDK's `HttpClientException`. When the
 *   body is Adyen's error JSON (`{status, errorCode, message, errorType}`) the exception
 *   carries that `statusCode`, `errorCode` and the parsed `apiError`, as the SDK does;
 *   otherwise the HTTP status. `responseBody` and `responseHeaders` are always set.
 * - a 308 is followed once, and only to *.adyen.com or *.adyenpayments.com, unless
 *   `config.enable308Redirect` is false.
 *
 * Where it differs, on purpose:
 * - No answer (timeout, connection refused, reset or cut mid-answer) rejects with
 *   `AdyenConnectionError`, an `HttpClientException` whose `statusCode` is 500 (the SDK
 *   rejects those with an `ApiException` of status 500, which is not even an `Error`) and
 *   whose `code` says which: `timeout` or `connection_lost`. Never a 4xx: the request may
 *   have been carried out, so the caller must treat the outcome as unknown and retry with
 *   the same Idempotency-Key.
 * - A non-2xx body of `{errors: [...]}` also becomes an `HttpClientException` with the
 *   HTTP status (the SDK throws a bare `Error` there and loses the status).
 * - There is always a timeout (`timeoutMs`, else `config.connectionTimeoutMillis`, else
 *   30 s) and it covers the whole exchange, answer body included.
 * - Error messages never quote a body: the request carries card data, and an answer is
 *   only ever in `responseBody`. Nothing is logged.
 *
 * `apiBase` sends every call somewhere else (a fake, a recording proxy), keeping the SDK's
 * path. See `rewriteEndpoint` for the mapping.
 */
import { createRequire } from 'node:module'
import type { IncomingHttpHeaders } from 'node:http'
import { URLSearchParams } from 'node:url'
import adyen from '@adyen/api-library'
import type { Config } from '@adyen/api-library'
import type { IRequest } from '@adyen/api-library/lib/src/typings/requestOptions.js'

const { HttpClientException } = adyen
/** The SDK's `ClientInterface` (its module is CommonJS-only; the Client's constructor names it). */
type ClientInterface = NonNullable<ConstructorParameters<typeof adyen.Client>[1]>
/** The SDK's name and version, as its own client puts them in the User-Agent. */
const { default: LibraryConstants } = createRequire(import.meta.url)(
  '@adyen/api-library/lib/src/constants/libraryConstants.js',
) as { default: { LIB_NAME: string; LIB_VERSION: string } }

const DEFAULT_TIMEOUT_MS = 30_000
const REDIRECT_HOSTS = /(\.adyen\.com|\.adyenpayments\.com)$/i

/** Options of `AdyenHttpClient`; both are checked when the client is made. */
export interface AdyenHttpClientOptions {
  /** Where to send calls instead of Adyen: an http(s) origin, optionally with a path prefix. */
  apiBase?: string
  /** Abort a call (answer body included) after this long. */
  timeoutMs?: number
}

/** Why no answer came back. The request may or may not have been carried out. */
export type ConnectionFailure = 'timeout' | 'connection_lost'

/** No HTTP answer was received: treat the outcome as unknown (status 500, never 4xx). */
export class AdyenConnectionError extends HttpClientException {
  override readonly name = 'AdyenConnectionError'
  constructor(
    readonly code: ConnectionFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super({ message, statusCode: 500 })
    if (options?.cause !== undefined) Object.defineProperty(this, 'cause', { value: options.cause })
  }
}

/**
 * Maps an SDK endpoint onto `apiBase`: the service name becomes the first path segment and
 * the SDK's path (and query) follow unchanged. The service name is the first label of the
 * SDK's host with a trailing `-test` dropped; a live host keeps its whole label, prefix and
 * `-live` included, so a live call can never land on a test route:
 *
 *   https://checkout-test.adyen.com/v71/payments
 *     → {apiBase}/checkout/v71/payments
 *   https://{prefix}-checkout-live.adyenpayments.com/checkout/v71/payments  (environment LIVE)
 *     → {apiBase}/{prefix}-checkout-live/checkout/v71/payments
 *   https://pal-test.adyen.com/pal/servlet/Payment/v68/authorise
 *     → {apiBase}/pal/pal/servlet/Payment/v68/authorise
 */
export function rewriteEndpoint(endpoint: string, apiBase: string): string {
  const url = new URL(endpoint)
  const label = url.hostname.split('.')[0] ?? ''
  const service = label.endsWith('-test') ? label.slice(0, -'-test'.length) : label
  return `${apiBase.replace(/\/+$/, '')}/${service}${url.pathname}${url.search}`
}

/** The SDK's `ClientInterface` over `fetch`. Give it to `new Client(config, httpClient)`. */
export class AdyenHttpClient implements ClientInterface {
  private readonly apiBase: string | undefined
  private readonly timeoutMs: number | undefined

  constructor(options: AdyenHttpClientOptions = {}) {
    if (options.apiBase !== undefined) {
      const protocol = URL.canParse(options.apiBase) ? new URL(options.apiBase).protocol : ''
      if (protocol !== 'http:' && protocol !== 'https:') throw new TypeError('apiBase must be an http(s) URL')
    }
    if (options.timeoutMs !== undefined && !(Number.isInteger(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new TypeError('timeoutMs must be a positive integer')
    }
    this.apiBase = options.apiBase
    this.timeoutMs = options.timeoutMs
  }

  async request(
    endpoint: string,
    json: string | Buffer,
    config: Config,
    isApiKeyRequired: boolean,
    requestOptions: IRequest.Options = {},
  ): Promise<string> {
    if (isApiKeyRequired && !config.apiKey) {
      throw new HttpClientException({ message: 'Invalid X-API-Key was used', statusCode: 401 })
    }
    const method = (requestOptions.method ?? 'POST').toUpperCase()
    let url = this.apiBase === undefined ? endpoint : rewriteEndpoint(endpoint, this.apiBase)
    if (requestOptions.params) url += `?${new URLSearchParams(requestOptions.params).toString()}`
    const init: RequestInit = {
      method,
      headers: requestHeaders(config, requestOptions),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs ?? config.connectionTimeoutMillis ?? DEFAULT_TIMEOUT_MS),
    }
    if (method !== 'GET' && method !== 'HEAD' && json.length > 0) {
      init.body = typeof json === 'string' ? json : new Uint8Array(json)
    }

    try {
      let response = await fetch(url, init)
      const location = response.headers.get('location')
      if (response.status === 308 && config.enable308Redirect !== false && location && isAdyenHost(location)) {
        await response.body?.cancel()
        response = await fetch(location, init)
      }
      const body = await response.text()
      if (response.ok) return body
      throw httpError(response, body)
    } catch (e) {
      if (e instanceof HttpClientException) throw e
      throw connectionError(e)
    }
  }
}

function requestHeaders(config: Config, options: IRequest.Options): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  if (config.apiKey) headers['X-API-Key'] = config.apiKey
  else headers.Authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`, 'utf8').toString('base64')}`
  if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = 'application/json'
  }
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey
  headers['Cache-Control'] = 'no-cache'
  headers['Accept-Charset'] = 'utf-8'
  const library = `${LibraryConstants.LIB_NAME}/${LibraryConstants.LIB_VERSION}`
  headers['User-Agent'] = config.applicationName ? `${config.applicationName} ${library}` : library
  headers['adyen-library-name'] = LibraryConstants.LIB_NAME
  headers['adyen-library-version'] = LibraryConstants.LIB_VERSION
  return headers
}

function isAdyenHost(location: string): boolean {
  return URL.canParse(location) && REDIRECT_HOSTS.test(new URL(location).hostname)
}

/** Adyen's error JSON, the only body whose fields the exception takes over. */
interface AdyenApiError {
  status: number
  errorCode?: string
  message?: string
  errorType?: string
  pspReference?: string
}

function httpError(response: Response, body: string): InstanceType<typeof HttpClientException> {
  const responseHeaders: IncomingHttpHeaders = {}
  response.headers.forEach((value, name) => (responseHeaders[name] = value))
  const apiError = parseApiError(body)
  if (apiError) {
    return new HttpClientException({
      message: `HTTP Exception: ${apiError.status}. ${response.statusText}: ${apiError.message ?? ''}`,
      statusCode: apiError.status,
      errorCode: apiError.errorCode,
      responseHeaders,
      responseBody: body,
      apiError,
    })
  }
  return new HttpClientException({
    message: `HTTP Exception: ${response.status}. ${response.statusText}`,
    statusCode: response.status,
    responseHeaders,
    responseBody: body,
  })
}

function parseApiError(body: string): AdyenApiError | undefined {
  try {
    const parsed: unknown = JSON.parse(body)
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as AdyenApiError).status === 'number') {
      return parsed as AdyenApiError
    }
  } catch {
    // not JSON: the HTTP status speaks for itself
  }
  return undefined
}

function connectionError(e: unknown): AdyenConnectionError {
  const name = e instanceof Error ? e.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new AdyenConnectionError('timeout', 'Adyen did not answer in time', { cause: e })
  }
  return new AdyenConnectionError('connection_lost', 'The connection to Adyen failed before an answer came', { cause: e })
}
