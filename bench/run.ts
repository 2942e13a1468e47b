/**
 * `npm run bench`: paylink under load on PostgreSQL, side by side with a bare baseline,
 * in one run on this machine. Every figure is measured against real processes: paylink
 * is `node bin/paylink.mjs serve` (ROLE=api, and ROLE=worker children for webhooks), the
 * baseline is bench/baseline.ts, the load comes from autocannon in this process.
 *
 *  1. mint: POST /v1/platform/card/payment-link at 50 connections, and two bare baselines'
 *     single-row inserts at 50 connections (bench/baseline.ts: into paylink's own table,
 *     and into a lean table with only a primary key and the unique token hash); the ratios.
 *  2. page: time to first byte of GET /pay/{token} (each load a fresh link, from the links
 *     minted in 1), one connection and 50; the page's weight gzipped (HTML + CSS + script).
 *  3. confirm: POST /pay/{token}/confirm with the sandbox's 4242 card at 50 connections,
 *     on links loaded in 2 (each confirm has its own link and page-session secret).
 *  4. webhooks: a backlog drained by one ROLE=worker process, then by two; the lag from an
 *     event's commit to its arrival at a local receiver, with live payments.
 *
 * A private database is created, migrated and dropped. Results are printed and written
 * into BENCHMARKS.md between its results markers (BENCH_WRITE=0 to skip).
 * `npm run bench -- slow-processor` runs instead the scenario of bench/slow-processor.ts alone
 * (likewise `startup`, and `portal`: the tenant portal's first screen with 100,000 intents).
 * Knobs: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50),
 * BENCH_WEBHOOK_BACKLOG (6000), PAYLINK_BENCH_ADMIN_URL (postgresql://postgres@127.0.0.1:5432/postgres).
 */
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { gunzipSync, gzipSync } from 'node:zlib'
import {
  ROOT,
  writeBenchmarkSection,
  SANDBOX_CARD,
  cannon,
  confirmRequest,
  cpuMeter,
  createBenchDb,
  freePort,
  insertBacklog,
  log,
  machine,
  pageRequest,
  seed,
  sessionOf,
  sleep,
  startChild,
  startPaylink,
  startReceiver,
  stopAllChildren,
  summarize,
  type BenchDb,
  type CpuSplit,
  type LoadedPage,
  type LoadResult,
} from './lib.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const BACKLOG = Number(process.env.BENCH_WEBHOOK_BACKLOG ?? 6000)
const TTFB_SAMPLES = 300
const LAG_RATE = 40 // live payments per second while measuring webhook lag
const LAG_SECONDS = 5

const started = Date.now()
const results: Record<string, unknown> = {}
let bdb: BenchDb | undefined

async function main() {
  const m = await machine()
  results.machine = m
  log(`machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres}, load ${m.loadavg.join(' ')}`)

  bdb = await createBenchDb()
  log(`database ${bdb.name}`)
  const key = randomBytes(32)
  let webhookSecret: string | undefined
  const receiver = await startReceiver(() => webhookSecret)
  const api = await startPaylink({ databaseUrl: bdb.url, encryptionKey: key.toString('hex'), role: 'api' })
  const s = await seed(bdb.db, key, api.baseUrl, receiver.url)
  webhookSecret = s.webhookSecret
  /** bench/baseline.ts of one kind, listening; its URL. */
  const startBaseline = async (kind: 'schema' | 'lean') => {
    const port = await freePort()
    const child = startChild(kind === 'lean' ? 'lean baseline' : 'baseline', ['--import', 'tsx', 'bench/baseline.ts'], {
      DATABASE_URL: bdb!.url,
      PORT: String(port),
      BASELINE_TENANT: s.tenantId,
      BASELINE_ACCOUNT: s.accountId,
      BASELINE_KIND: kind,
    })
    await child.waitFor(/baseline listening/)
    return Object.assign(child, { url: `http://127.0.0.1:${port}` })
  }
  const [baseline, leanBaseline] = await Promise.all([startBaseline('schema'), startBaseline('lean')])
  const baselineUrl = baseline.url
  const leanUrl = leanBaseline.url
  log(`paylink (ROLE=api) at ${api.baseUrl}, baseline at ${baselineUrl}, lean baseline at ${leanUrl}`)

  // ------------------------------------------------------------ 1. mint
  const mintBody = JSON.stringify({ user_id: s.userId, amount: '12.50' })
  const mintHeaders = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }
  const tokens: string[] = []
  const mintRequest = (collect: boolean) => ({
    method: 'POST',
    path: '/v1/platform/card/payment-link',
    headers: mintHeaders,
    body: mintBody,
    ...(collect
      ? {
          onResponse: (status: number, body: string) => {
            const token = status === 201 ? /\/pay\/([A-Za-z0-9_-]{43})"/.exec(body)?.[1] : undefined
            if (token) tokens.push(token)
          },
        }
      : {}),
  })
  const baselineRequest = { method: 'POST', path: '/v1/platform/card/payment-link', headers: { 'content-type': 'application/json' }, body: mintBody }
  log(`warm-up ${WARMUP} s each`)
  await cannon({ title: 'baseline warm-up', url: baselineUrl, connections: CONNECTIONS, duration: WARMUP, requests: [baselineRequest] })
  await cannon({ title: 'lean baseline warm-up', url: leanUrl, connections: CONNECTIONS, duration: WARMUP, requests: [baselineRequest] })
  await cannon({ title: 'mint warm-up', url: api.baseUrl, connections: CONNECTIONS, duration: WARMUP, requests: [mintRequest(true)] })
  const cpu: Record<string, CpuSplit & { requests: number }> = {}
  const metered = async (label: string, pid: number, run: () => Promise<LoadResult>) => {
    const meter = await cpuMeter(pid, bdb!.db, bdb!.name)
    const r = await run()
    const c = await meter.stop()
    const prev = cpu[label]
    cpu[label] = prev
      ? { server: prev.server + c.server, postgres: prev.postgres + c.postgres, loadGenerator: prev.loadGenerator + c.loadGenerator, requests: prev.requests + r.total }
      : { ...c, requests: r.total }
    return r
  }
  /** `title` on CONNECTIONS connections for SECONDS, metered; `request` draws on a pool of links and is stopped early, with `ranOut`, once it is empty. */
  const untilRanOut = async (title: string, request: (onEmpty: () => void) => object) => {
    let inst: { stop(): void } | undefined
    let ranOut = false
    const onEmpty = () => {
      ranOut = true
      setImmediate(() => inst?.stop())
    }
    const load = await metered(title, api.proc.pid!, () =>
      cannon({ title, url: api.baseUrl, connections: CONNECTIONS, duration: SECONDS, requests: [request(onEmpty)] }, (started) => (inst = started)),
    )
    return { load, ranOut }
  }
  // Two stretches each, mirrored (lean, baseline, paylink, paylink, baseline, lean), so that a
  // change in the machine's other load weighs on all alike. paylink is measured as the
  // baselines are: without reading the answers (that costs the load generator CPU on this machine).
  const half = SECONDS / 2
  log(`mint: baselines and paylink, ${half} s stretches, mirrored`)
  const stretches: { lean: LoadResult[]; base: LoadResult[]; mint: LoadResult[] } = { lean: [], base: [], mint: [] }
  const runs = {
    lean: () => metered('lean baseline insert', leanBaseline.proc.pid!, () => cannon({ title: 'lean baseline insert', url: leanUrl, connections: CONNECTIONS, duration: half, requests: [baselineRequest] })),
    base: () => metered('baseline insert', baseline.proc.pid!, () => cannon({ title: 'baseline insert', url: baselineUrl, connections: CONNECTIONS, duration: half, requests: [baselineRequest] })),
    mint: () => metered('paylink mint', api.proc.pid!, () => cannon({ title: 'paylink mint', url: api.baseUrl, connections: CONNECTIONS, duration: half, requests: [mintRequest(false)] })),
  }
  for (const which of ['lean', 'base', 'mint', 'mint', 'base', 'lean'] as const) {
    const r = await runs[which]()
    stretches[which].push(r)
    log(`  ${which.padEnd(7)} ${fmtLoad(r)}`)
  }
  const leanBase = combine(stretches.lean)
  const base = combine(stretches.base)
  const mint = combine(stretches.mint)
  log(`  lean     ${fmtLoad(leanBase)}`)
  log(`  baseline ${fmtLoad(base)}`)
  log(`  paylink  ${fmtLoad(mint)}`)
  // Links for the page and confirm runs: about as many as a mint run makes (page loads are slower than mints).
  const wanted = Math.round(mint.rps * SECONDS) + TTFB_SAMPLES + 1000
  if (tokens.length < wanted) {
    log(`minting ${wanted - tokens.length} more links for the page and confirm runs`)
    await cannon({ title: 'links', url: api.baseUrl, connections: CONNECTIONS, amount: wanted - tokens.length, requests: [mintRequest(true)] })
  }
  await baseline.stop()
  await leanBaseline.stop()
  results.mint = {
    paylink: mint,
    baseline: base,
    throughputRatio: mint.rps / base.rps,
    p99Ratio: mint.p99 / base.p99,
    lean: leanBase,
    leanThroughputRatio: mint.rps / leanBase.rps,
    leanP99Ratio: mint.p99 / leanBase.p99,
  }
  results.cpu = cpu

  // ------------------------------------------------------------ 2. page
  const sessions: LoadedPage[] = []
  log(`page: ${TTFB_SAMPLES} loads on one connection (time to first byte)`)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const ttfb: number[] = []
  const total: number[] = []
  let sampleHtml = ''
  let htmlEncoding = ''
  for (let i = 0; i < TTFB_SAMPLES; i++) {
    const token = tokens.pop()
    if (!token) throw new Error('ran out of minted links for the page benchmark')
    const r = await timedGet(api.baseUrl + `/pay/${token}`, { 'sec-fetch-dest': 'iframe', 'accept-language': 'en-US,en;q=0.9', 'accept-encoding': 'gzip, deflate, br' }, agent)
    if (r.status !== 200) throw new Error(`page load answered ${r.status}`)
    ttfb.push(r.ttfbMs)
    total.push(r.totalMs)
    const html = (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body).toString('utf8')
    sampleHtml ||= html
    htmlEncoding ||= r.headers['content-encoding'] ?? 'identity'
    const session = sessionOf(html)
    if (session) sessions.push({ token, session })
  }
  agent.destroy()
  const weight = await pageWeight(api.baseUrl, sampleHtml, htmlEncoding)
  log(`  TTFB ${fmtSummary(summarize(ttfb))}; weight ${weight.totalGzipBytes} B gzipped`)

  log(`page: ${CONNECTIONS} connections, ${SECONDS} s, a fresh link for every load (${tokens.length} links in the pool)`)
  const { load: page, ranOut: pageRanOut } = await untilRanOut('page load', (onEmpty) => ({
    ...pageRequest(tokens, onEmpty),
    onResponse: (status: number, body: string, ctx: Record<string, unknown>) => {
      const session = status === 200 ? sessionOf(body) : undefined
      if (session) sessions.push({ token: ctx.token as string, session })
    },
  }))
  log(`  ${fmtLoad(page)}${pageRanOut ? ' (the link pool ran out: the run was cut short)' : ''}`)
  results.page = { ttfb1: summarize(ttfb), total1: summarize(total), load: page, ranOut: pageRanOut, weight }

  // ------------------------------------------------------------ 3. confirm
  const reserved = sessions.splice(0, LAG_RATE * LAG_SECONDS * 2 + 20)
  log(`confirm: ${CONNECTIONS} connections, ${SECONDS} s, sandbox card 4242 (${sessions.length} loaded links)`)
  const confirmBody = JSON.stringify({ card: SANDBOX_CARD })
  const outcomes: Record<string, number> = {}
  const { load: confirm, ranOut: confirmRanOut } = await untilRanOut('confirm', (onEmpty) => ({
    ...confirmRequest(sessions, onEmpty),
    onResponse: (status: number, body: string) => {
      const k = status === 200 ? (JSON.parse(body) as { data: { status: string } }).data.status : `http_${status}`
      outcomes[k] = (outcomes[k] ?? 0) + 1
    },
  }))
  log(`  ${fmtLoad(confirm)} ${JSON.stringify(outcomes)}${confirmRanOut ? ' (the session pool ran out: the run was cut short)' : ''}`)
  // Confirms in flight when the load stopped still finish on the server: wait for them.
  await sleep(500)
  for (let i = 0; i < 100; i++) {
    const [p] = await bdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM payment_intents WHERE status = 'processing'`)
    if (!p?.n) break
    await sleep(100)
  }
  const [tally] = await bdb.db.query<{ charges: number; succeeded: number; events: number; pending_deliveries: number }>(
    `SELECT (SELECT count(*)::int FROM sandbox_charges) AS charges,
            (SELECT count(*)::int FROM payment_intents WHERE status = 'succeeded') AS succeeded,
            (SELECT count(*)::int FROM events) AS events,
            (SELECT count(*)::int FROM deliveries WHERE status = 'pending') AS pending_deliveries`,
  )
  log(`  sandbox charges ${tally!.charges}, succeeded intents ${tally!.succeeded}, events ${tally!.events}`)
  results.confirm = { load: confirm, outcomes, ranOut: confirmRanOut, tally }

  // ------------------------------------------------------------ 4. webhooks
  const realEvents = tally!.events
  const payLive = async (label: string) => {
    const from = receiver.arrivals.length
    const batch = reserved.splice(0, LAG_RATE * LAG_SECONDS)
    const t0 = performance.now()
    await Promise.all(
      batch.map(async (b, i) => {
        const wait = t0 + (i * 1000) / LAG_RATE - performance.now()
        if (wait > 0) await sleep(wait)
        const r = await fetch(`${api.baseUrl}/pay/${b.token}/confirm`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-paylink-session': b.session }, body: confirmBody })
        await r.arrayBuffer()
      }),
    )
    const ok = await receiver.waitForCount(from + batch.length, 30_000)
    const lags = receiver.arrivals.slice(from).map((a) => a.at - a.eventAt)
    log(`  ${label}: lag ${fmtSummary(summarize(lags))} (${lags.length}/${batch.length} delivered)`)
    return { payments: batch.length, delivered: lags.length, complete: ok, lag: summarize(lags) }
  }
  const backlogRun = async (workers: number) => {
    // Empty queue first: the workers are up and polling when the backlog commits.
    const procs = await Promise.all(Array.from({ length: workers }, () => startPaylink({ databaseUrl: bdb!.url, encryptionKey: key.toString('hex'), role: 'worker' })))
    const drained = await receiver.waitForCount(realEvents, 120_000)
    if (!drained) throw new Error(`only ${receiver.arrivals.length} of ${realEvents} webhooks of the confirm run arrived`)
    await sleep(1500)
    const body = JSON.parse((await bdb!.db.query<{ body: string }>('SELECT body FROM events LIMIT 1'))[0]!.body) as Record<string, unknown>
    body.timestamp = new Date().toISOString()
    const from = receiver.arrivals.length
    const committed = Date.now()
    await insertBacklog(bdb!.db, s.tenantId, s.endpointId, BACKLOG, JSON.stringify(body))
    const ok = await receiver.waitForCount(from + BACKLOG, 120_000)
    const got = receiver.arrivals.slice(from)
    const first = got[0]?.at ?? NaN
    const last = got[got.length - 1]?.at ?? NaN
    const rate = (got.length - 1) / ((last - first) / 1000)
    log(`  ${workers} worker(s): ${got.length}/${BACKLOG} in ${((last - committed) / 1000).toFixed(2)} s after commit, ${rate.toFixed(0)} deliveries/s (first→last arrival)`)
    const live = await payLive(`${workers} worker(s), ${LAG_RATE} payments/s for ${LAG_SECONDS} s`)
    await Promise.all(procs.map((p) => p.stop()))
    return { workers, backlog: BACKLOG, delivered: got.length, complete: ok, deliveriesPerSecond: rate, commitToLastS: (last - committed) / 1000, firstAfterCommitMs: first - committed, live }
  }
  log(`webhooks: ${realEvents} events of the confirm run pending; backlog of ${BACKLOG} per run`)
  const w1 = await backlogRun(1)
  const w2 = await backlogRun(2)
  const ids = receiver.arrivals.map((a) => a.id)
  const unverified = receiver.arrivals.filter((a) => !a.verified).length
  const duplicates = ids.length - new Set(ids).size
  const [events] = await bdb.db.query<{ events: number }>('SELECT count(*)::int AS events FROM events')
  log(`  events ${events!.events}, webhooks received ${ids.length} (${new Set(ids).size} distinct), unverified ${unverified}`)
  results.webhooks = { one: w1, two: w2, events: events!.events, received: ids.length, distinct: new Set(ids).size, duplicates, unverified }

  await api.stop()
  await receiver.close()
  results.machineAfter = { loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100) }
  results.elapsedS = Math.round((Date.now() - started) / 1000)
}

// ---------------------------------------------------------------- helpers

/** Stretches of one load as one: throughput over all of them; latency percentiles as the mean of the stretches'. */
function combine(rs: LoadResult[]): LoadResult {
  const mean = (f: (r: LoadResult) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length
  const total = rs.reduce((a, r) => a + r.total, 0)
  const durationS = rs.reduce((a, r) => a + r.durationS, 0)
  return {
    title: rs[0]!.title,
    connections: rs[0]!.connections,
    durationS,
    total,
    rps: total / durationS,
    p50: mean((r) => r.p50),
    p90: mean((r) => r.p90),
    p99: mean((r) => r.p99),
    max: Math.max(...rs.map((r) => r.max)),
    non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
  }
}

async function timedGet(url: string, headers: Record<string, string>, agent: http.Agent) {
  return new Promise<{ status: number; ttfbMs: number; totalMs: number; body: Buffer; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const t0 = performance.now()
    const req = http.get(url, { headers, agent }, (res) => {
      const ttfbMs = performance.now() - t0
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ttfbMs, totalMs: performance.now() - t0, body: Buffer.concat(chunks), headers: res.headers }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

/** HTML gzipped (as a proxy would; paylink sends it uncompressed) plus CSS and script as served with Accept-Encoding: gzip. */
async function pageWeight(baseUrl: string, html: string, htmlEncoding: string) {
  const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1]
  const style = /<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"|<link[^>]+href="([^"]+)"[^>]+rel="stylesheet"/.exec(html)
  const stylePath = style?.[1] ?? style?.[2]
  if (!script || !stylePath) throw new Error('the page names no script or stylesheet')
  const agent = new http.Agent({ keepAlive: false })
  const get = (p: string) => timedGet(new URL(p, baseUrl).toString(), { 'accept-encoding': 'gzip' }, agent)
  const [js, css] = await Promise.all([get(script), get(stylePath)])
  const htmlBytes = Buffer.byteLength(html)
  const htmlGzip = gzipSync(html, { level: 6 }).length
  const rawOf = (r: Awaited<ReturnType<typeof get>>) => (r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body).length : r.body.length)
  return {
    html: { bytes: htmlBytes, gzipBytes: htmlGzip, servedEncoding: htmlEncoding },
    css: { path: stylePath, bytes: rawOf(css), gzipBytes: css.headers['content-encoding'] === 'gzip' ? css.body.length : gzipSync(css.body).length, servedEncoding: css.headers['content-encoding'] ?? 'identity' },
    script: { path: script, bytes: rawOf(js), gzipBytes: js.headers['content-encoding'] === 'gzip' ? js.body.length : gzipSync(js.body).length, servedEncoding: js.headers['content-encoding'] ?? 'identity' },
    get totalGzipBytes() {
      return this.html.gzipBytes + this.css.gzipBytes + this.script.gzipBytes
    },
  }
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))
const fmtLoad = (r: LoadResult) => `${r.rps.toFixed(0)} req/s, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms (${r.total} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`
const us = (cpuMs: number, requests: number) => `${Math.round((cpuMs * 1000) / Math.max(1, requests))} µs`
const fmtSummary = (x: { n: number; p50: number; p99: number }) => `p50 ${ms(x.p50)} ms, p99 ${ms(x.p99)} ms (n=${x.n})`

function report(r: any): string {
  const m = r.machine
  const mint = r.mint
  const pass = (ok: boolean) => (ok ? 'met' : '**not met**')
  const w = r.page.weight
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`
  const lines = [
    `Run ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${r.elapsedS} s in all (\`npm run bench\`). Machine: ${m.nproc} vCPUs (${m.cpu}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, PostgreSQL ${m.postgres} (stock settings, fsync on). Load average at start ${m.loadavg.join(' / ')}, at end ${r.machineAfter.loadavg.join(' / ')}. ${SECONDS} s per measurement (mint and the baselines: two ${SECONDS / 2} s stretches each, mirrored; p50/p99 the mean of the two), ${CONNECTIONS} connections, autocannon in the same process as the receiver, on the same machine.`,
    '',
    '| what | figure | target |',
    '|---|---|---|',
    `| mint \`POST /v1/platform/card/payment-link\`, paylink | **${mint.paylink.rps.toFixed(0)} req/s**, p50 ${ms(mint.paylink.p50)} ms, p99 ${ms(mint.paylink.p99)} ms (${mint.paylink.total} links, ${mint.paylink.non2xx} non-2xx) | |`,
    `| mint, bare baseline (Fastify + pg, one INSERT) | **${mint.baseline.rps.toFixed(0)} req/s**, p50 ${ms(mint.baseline.p50)} ms, p99 ${ms(mint.baseline.p99)} ms (${mint.baseline.total} rows) | |`,
    `| paylink ÷ baseline | throughput **${(mint.throughputRatio * 100).toFixed(0)}%**, p99 **${mint.p99Ratio.toFixed(2)}×** | ≥ 70%: ${pass(mint.throughputRatio >= 0.7)}; ≤ 1.5×: ${pass(mint.p99Ratio <= 1.5)} |`,
    `| mint, lean baseline (Fastify + pg, one INSERT into a table with only a primary key and the unique token hash) | **${mint.lean.rps.toFixed(0)} req/s**, p50 ${ms(mint.lean.p50)} ms, p99 ${ms(mint.lean.p99)} ms (${mint.lean.total} rows) | |`,
    `| paylink ÷ lean baseline | throughput **${mint.leanThroughputRatio.toFixed(2)}×**, p99 **${mint.leanP99Ratio.toFixed(2)}×** | ≥ 0.80×: ${pass(mint.leanThroughputRatio >= 0.8)}; ≤ 1.2×: ${pass(mint.leanP99Ratio <= 1.2)} |`,
    `| page \`GET /pay/{token}\`, time to first byte, 1 connection | p50 **${ms(r.page.ttfb1.p50)} ms**, p99 **${ms(r.page.ttfb1.p99)} ms** (n=${r.page.ttfb1.n}, each a fresh link) | |`,
    `| page loads, ${CONNECTIONS} connections | ${r.page.load.rps.toFixed(0)} loads/s, p50 ${ms(r.page.load.p50)} ms, p99 ${ms(r.page.load.p99)} ms (${r.page.load.total} loads, ${r.page.load.non2xx} non-2xx)${r.page.ranOut ? ', cut short: link pool empty' : ''} | |`,
    `| page weight, gzipped | **${kb(w.totalGzipBytes)}**: HTML ${kb(w.html.gzipBytes)} (${kb(w.html.bytes)} raw, sent ${w.html.servedEncoding}), CSS ${kb(w.css.gzipBytes)} (${kb(w.css.bytes)}), script ${kb(w.script.gzipBytes)} (${kb(w.script.bytes)}) | < 20 KB: ${pass(w.totalGzipBytes < 20 * 1024)} |`,
    `| confirm \`POST /pay/{token}/confirm\`, sandbox, ${CONNECTIONS} connections | **${r.confirm.load.rps.toFixed(0)} payments/s**, p50 ${ms(r.confirm.load.p50)} ms, p99 ${ms(r.confirm.load.p99)} ms (${JSON.stringify(r.confirm.outcomes).replace(/"/g, '')})${r.confirm.ranOut ? ', cut short: session pool empty' : ''} | |`,
    `| webhooks, 1 worker process | **${r.webhooks.one.deliveriesPerSecond.toFixed(0)} deliveries/s** (backlog of ${r.webhooks.one.backlog}, drained ${r.webhooks.one.commitToLastS.toFixed(1)} s after commit) | |`,
    `| webhooks, 2 worker processes | **${r.webhooks.two.deliveriesPerSecond.toFixed(0)} deliveries/s** (backlog of ${r.webhooks.two.backlog}, drained ${r.webhooks.two.commitToLastS.toFixed(1)} s after commit) | |`,
    `| webhook lag, commit → receiver, 1 worker | p50 **${ms(r.webhooks.one.live.lag.p50)} ms**, p99 **${ms(r.webhooks.one.live.lag.p99)} ms** (${r.webhooks.one.live.delivered} live payments at ${LAG_RATE}/s) | |`,
    `| webhook lag, commit → receiver, 2 workers | p50 **${ms(r.webhooks.two.live.lag.p50)} ms**, p99 **${ms(r.webhooks.two.live.lag.p99)} ms** (${r.webhooks.two.live.delivered} live payments at ${LAG_RATE}/s) | |`,
    '',
    `CPU per request, from /proc (user + system), over the same stretches: ${Object.entries(r.cpu as Record<string, CpuSplit & { requests: number }>)
      .map(([k, c]) => `${k} — server ${us(c.server, c.requests)}, PostgreSQL backends ${us(c.postgres, c.requests)}, load generator ${us(c.loadGenerator, c.requests)}`)
      .join('; ')}. (PostgreSQL's shared WAL writer and checkpointer are not counted.)`,
    '',
    `Checks of the same run: sandbox charges ${r.confirm.tally.charges} ${r.confirm.tally.charges === r.confirm.tally.succeeded ? '=' : '≠'} succeeded intents ${r.confirm.tally.succeeded}; events ${r.webhooks.events}, webhooks received ${r.webhooks.received} (${r.webhooks.distinct} distinct ids, ${r.webhooks.duplicates} duplicates, ${r.webhooks.unverified} failing signature check).`,
  ]
  return lines.join('\n')
}


const cleanup = async () => {
  await stopAllChildren()
  await bdb?.drop().catch((err) => log(`could not drop ${bdb?.name}: ${(err as Error).message}`))
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)))

// `npm run bench -- <scenario>` runs one scenario alone, a script of its own that ends the process.
const SCENARIOS: Record<string, string> = { 'slow-processor': './slow-processor.js', startup: './startup.js', portal: './portal.js' }
const scenario = process.argv[2]
if (scenario !== undefined) {
  const script = SCENARIOS[scenario]
  if (!script) {
    log(`no scenario "${scenario}"; there are: ${Object.keys(SCENARIOS).join(', ')}`)
    process.exit(2)
  }
  await import(script)
}

try {
  await main()
  await cleanup()
  const text = report(results)
  process.stdout.write('\n' + text + '\n')
  if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2))
  if (process.env.BENCH_WRITE !== '0' && writeBenchmarkSection('results', text)) log('results written to BENCHMARKS.md')
} catch (err) {
  log(`failed: ${(err as Error).stack ?? err}`)
  await cleanup()
  process.exitCode = 1
}
// Whatever is left open (a receiver after an error, autocannon's timers) must not keep the run alive.
process.exit()
