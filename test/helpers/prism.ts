/**
 * PAYLINK_PRISM=1: the API test client's traffic goes through Stoplight Prism, a validating
 * proxy that checks every request and every answer against paylink's own OpenAPI document
 * (what a validating API gateway in front of paylink would do).
 *
 * One Prism for the whole run, started by the global setup: `prism proxy <document> <router>
 * --errors=false` (request validation on, nothing refused: Prism reports in `sl-violations`).
 * Test files start servers on ports of their own, so Prism's upstream is a small router in the
 * global setup's process that forwards each request to the port named by its
 * `x-paylink-upstream` header. The client (`prismFetch`) sends a request meant for a test
 * server to Prism with that header, and appends every answer's violations to a file the global
 * teardown reads: the run fails if an answer broke the document anywhere, or if a request
 * broke it and was answered 2xx (tests that send bad input on purpose get a 4xx).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { expect, inject } from 'vitest'
import { freePort } from './net.js'

export const prismEnabled = () => process.env.PAYLINK_PRISM === '1'

/** The header that tells the router which test server a request is for. */
const UPSTREAM = 'x-paylink-upstream'

/** Where Prism listens and where the clients record what it saw (a JSON line per answer with violations). */
export interface PrismRun {
  url: string
  records: string
}

/** One violation as Prism reports it in `sl-violations`. */
interface Violation {
  location: string[]
  severity: string
  code?: string | number
  message: string
}

interface PrismRecord {
  test: string
  method: string
  path: string
  status: number
  violations: Violation[]
}

/** Starts the router and Prism in front of it; `stop()` ends both and answers what Prism saw (see `verdict`). */
export async function startPrism(document: unknown): Promise<PrismRun & { stop(): Promise<ReturnType<typeof verdict>> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `paylink-prism-${randomBytes(3).toString('hex')}-`))
  const documentFile = path.join(dir, 'openapi.json')
  const records = path.join(dir, 'violations.jsonl')
  fs.writeFileSync(documentFile, JSON.stringify(document))
  fs.writeFileSync(records, '')

  const router = http.createServer((req, res) => {
    const port = Number(req.headers[UPSTREAM])
    const headers = { ...req.headers }
    delete headers[UPSTREAM]
    const forwarded = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    forwarded.on('error', () => {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    })
    req.pipe(forwarded)
  })
  await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve))
  const routerUrl = `http://127.0.0.1:${(router.address() as { port: number }).port}`

  const port = await freePort()
  const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../node_modules/.bin/prism')
  const prism = spawn(bin, ['proxy', documentFile, routerUrl, '--errors=false', '--cors=false', '--host', '127.0.0.1', '--port', String(port), '--verboseLevel', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (b: Buffer) => void (output = (output + b.toString()).slice(-20_000))
  prism.stdout!.on('data', keep)
  prism.stderr!.on('data', keep)
  let stopping = false
  let died = ''
  prism.on('exit', (code, signal) => {
    if (!stopping) died = `Prism exited during the run (${signal ?? code}):\n${output}`
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    const up = await fetch(`${url}/healthz`, { headers: { [UPSTREAM]: '1' } }).then(
      () => true,
      () => false,
    )
    if (up) break
    if (prism.exitCode !== null || Date.now() > deadline) throw new Error(`Prism did not start:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }

  return {
    url,
    records,
    async stop() {
      stopping = true
      prism.kill()
      router.closeAllConnections()
      await new Promise<void>((resolve) => router.close(() => resolve()))
      try {
        if (died) throw new Error(died)
        return verdict(records)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

/**
 * What Prism saw: how many answers it checked, how many refused requests broke the document
 * (tolerated: tests send bad input on purpose), and the violations that fail the run — any in
 * an answer, any in a request the server answered 2xx — each once, with the first test that met it.
 */
export function verdict(records: string): { answers: number; tolerated: number; failures: string[] } {
  const failing = new Map<string, { first: string; times: number }>()
  let answers = 0
  let tolerated = 0
  for (const line of fs.readFileSync(records, 'utf8').split('\n')) {
    if (!line) continue
    const r = JSON.parse(line) as PrismRecord
    answers++
    const ok2xx = r.status >= 200 && r.status < 300
    for (const v of r.violations) {
      if (v.location[0] !== 'response' && !ok2xx) {
        tolerated++
        continue
      }
      const key = `${r.method} ${r.path.replace(/\/[a-z]+_[0-9a-z]{8,}(?=\/|$)/g, '/{id}')} → ${r.status}: ${v.location.join('.')} ${v.message}`
      const seen = failing.get(key)
      if (seen) seen.times++
      else failing.set(key, { first: r.test, times: 1 })
    }
  }
  return { answers, tolerated, failures: [...failing].map(([key, { first, times }]) => `${key} (${times}×; first in ${first})`) }
}

let shared: typeof fetch | undefined

/**
 * `fetch` for the API test client's requests to a test server: through this run's Prism when
 * PAYLINK_PRISM=1, recording the violations it reports; plain `fetch` otherwise.
 */
export function serverFetch(): typeof fetch {
  if (!shared) {
    const url = inject('prismUrl')
    shared = url ? prismFetch({ url, records: inject('prismRecords') }, testName) : (input, init) => fetch(input, init)
  }
  return shared
}

function testName() {
  const { testPath, currentTestName } = expect.getState()
  return `${path.relative(process.cwd(), testPath ?? '?')} > ${currentTestName ?? '(outside a test)'}`
}

/** The documentation itself (the document, and Swagger UI's pages for people): not part of the API, not in the document. */
const UNDOCUMENTED = /^\/(docs(\/|$)|openapi\.json$)/

function decodable(path: string) {
  try {
    decodeURIComponent(path)
    return true
  } catch {
    return false
  }
}

function prismFetch(run: PrismRun, testName: () => string): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init)
    const target = new URL(request.url)
    // Prism 5 dies on a path it cannot percent-decode (URIError in its router): such a request,
    // sent on purpose to test the server's answer, goes to the server directly.
    if (!decodable(target.pathname) || UNDOCUMENTED.test(target.pathname)) return fetch(request)
    const headers = new Headers(request.headers)
    headers.set(UPSTREAM, target.port)
    const body = request.body ? await request.arrayBuffer() : undefined
    const res = await fetch(run.url + target.pathname + target.search, { method: request.method, headers, body, redirect: request.redirect })
    const reported = res.headers.get('sl-violations')
    const violations = !reported ? [] : reported.startsWith('Too many') ? [{ location: ['response'], severity: 'Error', message: reported }] : (JSON.parse(reported) as Violation[])
    const record: PrismRecord = { test: testName(), method: request.method, path: target.pathname, status: res.status, violations }
    fs.appendFileSync(run.records, JSON.stringify(record) + '\n')
    return res
  }
}
