/**
 * What the security suite's files share beyond test/helpers: raw HTTP over keep-alive (any
 * header, any body, any source address in 127/8), the OpenAPI document's operations, the
 * envelope's shape, and a dump of every table.
 */
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import type { TestServer } from '../helpers/index.js'

// ---------------------------------------------------------------------------------------
// Raw HTTP

export interface RawAnswer {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any
}

export interface RawRequest {
  method: string
  /** Path and query exactly as sent (printable ASCII). */
  path: string
  headers?: Record<string, string | string[]>
  body?: string | Buffer
  /** Source address (127.x.y.z), for the per-IP rate limits. */
  ip?: string
}

/** One keep-alive agent per server: fuzz batches reuse their sockets. */
const agents = new WeakMap<TestServer, http.Agent>()
const agentOf = (server: TestServer) => {
  let a = agents.get(server)
  if (!a) {
    a = new http.Agent({ keepAlive: true, maxSockets: 64 })
    agents.set(server, a)
  }
  return a
}
export const closeAgent = (server: TestServer) => agents.get(server)?.destroy()

/** Sends one request as given; `content-length` is set from the body unless the caller set it. */
export function raw(server: TestServer, req: RawRequest): Promise<RawAnswer> {
  const url = new URL(server.baseUrl)
  const headers: Record<string, string | string[]> = { ...req.headers }
  const hasLength = Object.keys(headers).some((h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding')
  if (req.body !== undefined && !hasLength) headers['content-length'] = String(Buffer.byteLength(req.body))
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: url.hostname, port: url.port, path: req.path, method: req.method, headers, agent: agentOf(server), ...(req.ip ? { localAddress: req.ip } : {}) },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (d: Buffer) => chunks.push(d))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
        })
        res.on('error', reject)
      },
    )
    r.on('error', reject)
    if (req.body !== undefined) r.write(req.body)
    r.end()
  })
}

/** A loopback address of its own (127.x.y.z, never 127.0.0.1), so per-IP counts start at zero. */
export function newIp(): string {
  const [a, b, c] = randomBytes(3)
  return `127.${(a! % 254) + 1}.${b}.${(c! % 254) + 1}`
}

// ---------------------------------------------------------------------------------------
// The OpenAPI document

export interface Operation {
  method: string
  /** The templated path: /v1/platform/users/{user_id}. */
  path: string
  operationId: string
  /** The scopes its security asks for (empty: none). */
  scopes: string[]
  pathParams: string[]
  op: any
}

export async function operations(server: TestServer): Promise<{ doc: any; ops: Operation[] }> {
  const doc = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as any
  const ops: Operation[] = []
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue
      ops.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        scopes: (op.security ?? []).flatMap((s: Record<string, string[]>) => Object.values(s).flat()),
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        op,
      })
    }
  }
  return { doc, ops }
}

/** The path with each {param} replaced by the (encoded) value given. */
export const fillPath = (path: string, values: Record<string, string>) =>
  path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (values[name] === undefined) throw new Error(`no value for {${name}} in ${path}`)
    return values[name]!
  })

// ---------------------------------------------------------------------------------------
// The envelope

/** Checks `body` is the envelope: success with data, or failure with a stable error code. */
export function envelopeProblem(status: number, body: any): string | undefined {
  if (body === undefined || body === null || typeof body !== 'object') return 'not JSON'
  if (typeof body.request_id !== 'string' || !body.request_id.startsWith('req_')) return 'no request_id'
  if (status < 400) {
    if (body.success !== true || body.error !== null || !('data' in body)) return 'a success without {success: true, data, error: null}'
    return undefined
  }
  if (body.success !== false || body.data !== null) return 'an error without {success: false, data: null}'
  if (typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string') return 'an error without code and message'
  const allowed = new Set(['success', 'data', 'error', 'request_id'])
  const extra = Object.keys(body).filter((k) => !allowed.has(k))
  if (extra.length) return `unexpected keys ${extra.join(', ')}`
  return undefined
}

export function expectEnvelopeError(res: { status: number; json?: any; body?: any }, status: number, code: string) {
  const body = res.json ?? res.body
  expect(res.status, JSON.stringify(body)).toBe(status)
  expect(envelopeProblem(res.status, body)).toBeUndefined()
  expect(body.error.code).toBe(code)
}

// ---------------------------------------------------------------------------------------
// The database

/** Every row of every table of the schema, as `{table, row}` with the row as JSON text. */
export async function everyRow(server: TestServer): Promise<Array<{ table: string; row: Record<string, unknown>; text: string }>> {
  const tables = await server.db.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
  )
  const out: Array<{ table: string; row: Record<string, unknown>; text: string }> = []
  for (const { table_name } of tables) {
    for (const row of await server.db.query<Record<string, unknown>>(`SELECT * FROM "${table_name.replace(/"/g, '""')}"`)) {
      // Binary columns as text, hex and base64, so that a secret kept as bytes is found too.
      const readable = Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? { utf8: Buffer.from(v).toString('utf8'), hex: Buffer.from(v).toString('hex'), base64: Buffer.from(v).toString('base64') } : v]),
      )
      out.push({ table: table_name, row, text: JSON.stringify(readable) })
    }
  }
  return out
}
