/**
 * One HTTP attempt: POST the body with Standard Webhooks headers, 10 s timeout, no
 * redirects followed (a 3xx is a failure), the connection guarded against private
 * addresses. Only 2xx is success.
 */
import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import { isBlockedAddress } from '../domain/webhooks/addresses.js'
import { guardedLookup } from './address-guard.js'

export interface SendInput {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
  allowPrivate: boolean
}

export interface SendResult {
  statusCode?: number
  retryAfter?: string
  error?: string
  durationMs: number
}

export function send(input: SendInput): Promise<SendResult> {
  const started = performance.now()
  const duration = () => Math.round(performance.now() - started)
  return new Promise((resolve) => {
    let u: URL
    try {
      u = new URL(input.url)
    } catch {
      return resolve({ error: 'invalid URL', durationMs: 0 })
    }
    // An IP literal never goes through the guarded DNS lookup: check it here.
    const literal = u.hostname.replace(/^\[|\]$/g, '')
    if (!input.allowPrivate && isIP(literal) && isBlockedAddress(literal)) return resolve({ error: `refused: ${literal} is a private address`, durationMs: 0 })
    const mod = u.protocol === 'https:' ? https : http
    const req = mod.request(
      u,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'paylink-webhooks/1', ...input.headers, 'content-length': Buffer.byteLength(input.body) },
        lookup: guardedLookup(input.allowPrivate) as never,
        timeout: input.timeoutMs,
        agent: false,
      },
      (res) => {
        // Read (and drop) up to a little of the body, so the socket is released.
        let seen = 0
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length
          if (seen > 64 * 1024) res.destroy()
        })
        const done = () =>
          resolve({ statusCode: res.statusCode, retryAfter: (res.headers['retry-after'] as string | undefined) ?? undefined, durationMs: duration() })
        res.on('end', done)
        res.on('close', done)
        res.on('error', done)
      },
    )
    const deadline = setTimeout(() => req.destroy(new Error(`timed out after ${input.timeoutMs} ms`)), input.timeoutMs)
    req.on('timeout', () => req.destroy(new Error(`timed out after ${input.timeoutMs} ms`)))
    req.on('error', (err) => resolve({ error: err.message.slice(0, 500), durationMs: duration() }))
    req.on('close', () => clearTimeout(deadline))
    req.end(input.body)
  })
}
