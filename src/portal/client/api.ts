/**
 * The portal's calls: the API itself (/v1/platform/*) with the session's secret as the
 * bearer token, in the envelope (SPEC "The envelope"). Nothing is sent with credentials
 * (there are no cookies to send) and nothing is cached.
 */

/** An API error as the envelope states it; `status` 0 when paylink could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; issue: string }[] = [],
  ) {
    super(message)
  }
}

/** One page of a listing and the cursor of the next. */
export interface Page<T> {
  items: T[]
  nextCursor: string | null
  hasMore: boolean
}

export type Query = Record<string, string | number | undefined>

const withQuery = (path: string, query: Query = {}) => {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v))
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

/** Sends one request; answers the envelope's body, or throws an ApiError. */
export async function request(method: string, path: string, opts: { secret?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<any> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers }
  if (opts.secret) headers.authorization = `Bearer ${opts.secret}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, { method, headers, credentials: 'omit', cache: 'no-store', ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) })
  } catch {
    throw new ApiError(0, 'network', 'network')
  }
  const json = await res.json().catch(() => undefined)
  if (res.ok && json?.success) return json
  const error = json?.error
  throw new ApiError(res.status, typeof error?.code === 'string' ? error.code : 'internal_error', typeof error?.message === 'string' ? error.message : '', Array.isArray(error?.details) ? error.details : [])
}

/** The API as the session sees it. `onUnauthorized` runs when the session has ended (401). */
export function sessionApi(secret: string, onUnauthorized: () => void) {
  const call = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
    try {
      return await request(method, path, { secret, body, ...(headers ? { headers } : {}) })
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) onUnauthorized()
      throw err
    }
  }
  return {
    get: async <T>(path: string, query?: Query): Promise<T> => (await call('GET', withQuery(path, query))).data as T,
    /** `headers`: an Idempotency-Key, for a call the viewer may retry. */
    post: async <T>(path: string, body: unknown = {}, headers?: Record<string, string>): Promise<T> => (await call('POST', path, body, headers)).data as T,
    patch: async <T>(path: string, body: unknown): Promise<T> => (await call('PATCH', path, body)).data as T,
    page: async <T>(path: string, query?: Query): Promise<Page<T>> => {
      const json = await call('GET', withQuery(path, query))
      return { items: json.data as T[], nextCursor: json.pagination?.next_cursor ?? null, hasMore: Boolean(json.pagination?.has_more) }
    },
  }
}
export type Api = ReturnType<typeof sessionApi>
