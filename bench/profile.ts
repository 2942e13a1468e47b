/**
 * Profiles the mint and confirm paths: where the CPU goes and which statements run.
 *
 *   node --import tsx bench/profile.ts            (or: npm run bench -- is not needed)
 *
 * 1. CPU: a paylink child (`node --cpu-prof bin/paylink.mjs serve`, ROLE=api) takes only
 *    the load being profiled — mints, or confirms on links minted and loaded through a
 *    second, unprofiled paylink — and the samples of that window are summed by function
 *    (self time) and by package.
 * 2. Statements: the app in this process on a Db that records every statement, with its
 *    time, per mint, per page load and per confirm.
 *
 * Knobs: PROFILE_SECONDS (8), PROFILE_CONNECTIONS (50), PROFILE_TOP (25), PROFILE_ONLY
 * (a comma list of mint, page, confirm, statements), PROFILE_KEEP=1 keeps the .cpuprofile
 * files (their directory is printed).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { ROOT, SANDBOX_CARD, cannon, confirmRequest, createBenchDb, loadPages, log, mintRequest, pageRequest, preMint, runScript, seed, sessionOf, startPaylink, startReceiver, type BenchDb, type LoadedPage, type LoadResult } from './lib.js'
import type { Db, Queryable, Statement } from '../src/storage/db.js'

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 8)
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 50)
const TOP = Number(process.env.PROFILE_TOP ?? 25)
// Page loads run at up to ~3,000/s here: enough fresh links for the warm-up and the profiled stretch.
const PAGE_LINKS = Math.round(SECONDS * 3500)
const ONLY = new Set((process.env.PROFILE_ONLY ?? 'mint,page,confirm,statements').split(','))

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Self time by function and by package over the samples in [fromUs, toUs] of the profile's own clock. */
function analyse(profile: CpuProfile, windowUs: number, tailUs: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const times: number[] = []
  let t = profile.startTime
  for (const d of profile.timeDeltas) times.push((t += d))
  const to = profile.endTime - tailUs
  const from = to - windowUs
  const self = new Map<number, number>()
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i]! < from || times[i]! > to) continue
    const dt = (times[i + 1] ?? profile.endTime) - times[i]!
    self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + dt)
    total += dt
  }
  const where = (n: ProfileNode) => {
    const u = n.callFrame.url.replace(/^file:\/\//, '')
    if (!u) return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)'
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)
    if (nm) return nm[1]!
    if (u.startsWith('node:')) return u
    if (u.startsWith(ROOT)) return path.relative(ROOT, u).split('/').slice(0, 3).join('/')
    return u
  }
  const fnKey = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}${n.callFrame.url && !n.callFrame.url.includes('node_modules') ? ':' + (n.callFrame.lineNumber + 1) : ''}`
  const byFn = new Map<string, number>()
  const byPkg = new Map<string, number>()
  // Inclusive time of a few functions that matter here: any sample with one of them on its stack.
  const marks: Record<string, RegExp> = {
    'jose jwtVerify (JWT signature + claims)': /^jwtVerify$/,
    'TokenService.verify': /^verify$/,
    'pg (query build + parse)': /^(query|handleDataRow|parseRow|_handleDataRow|attachListeners|submit|prepare)$/,
    'fast-json-stringify / serializers': /^(serialize|\$main|anonymous0)$/,
    'ajv validation': /^validate\d*$/,
    'prom-client observe': /^(observe|startTimer|inc)$/,
    'pino': /^(LOG|write|asJson)$/,
    'renderPage (HTML)': /^renderPage$/,
    'esbuild/tsx (compile)': /^(transformSync|transform)$/,
    'GC': /^\(garbage collector\)$/,
  }
  const inclusive = new Map<string, number>()
  for (const [id, dt] of self) {
    const n = byId.get(id)!
    byFn.set(fnKey(n), (byFn.get(fnKey(n)) ?? 0) + dt)
    byPkg.set(where(n), (byPkg.get(where(n)) ?? 0) + dt)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame
      for (const [label, re] of Object.entries(marks)) {
        if (seen.has(label)) continue
        if (re.test(f.functionName) && (label !== 'TokenService.verify' || f.url.includes('/oauth/tokens')) && (!label.startsWith('pg ') || f.url.includes('/node_modules/pg'))) {
          seen.add(label)
          inclusive.set(label, (inclusive.get(label) ?? 0) + dt)
        }
      }
    }
  }
  const pct = (v: number) => `${((100 * v) / total).toFixed(1).padStart(5)}%`
  const top = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k)
  return {
    totalMs: total / 1000,
    text: [
      `  samples in window: ${(total / 1e6).toFixed(2)} s of CPU-profiled time (idle included)`,
      '  by package (self time):',
      ...top(byPkg, 14).map(([k, v]) => `    ${pct(v)}  ${k}`),
      `  top ${TOP} functions (self time):`,
      ...top(byFn, TOP).map(([k, v]) => `    ${pct(v)}  ${k}`),
      '  inclusive (on the stack):',
      ...[...inclusive.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `    ${pct(v)}  ${k}`),
    ].join('\n'),
  }
}

async function profiled(bdb: BenchDb, key: string, dir: string, label: string, load: (baseUrl: string, token: string) => Promise<unknown>, client: { id: string; secret: string }) {
  const sub = path.join(dir, label)
  fs.mkdirSync(sub, { recursive: true })
  const p = await startPaylink({ databaseUrl: bdb.url, encryptionKey: key, role: 'api', nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${sub}`, '--cpu-prof-interval=200'] })
  // Tokens name their issuer (PUBLIC_BASE_URL, with the port): this process issues its own.
  const tr = await fetch(`${p.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret }).toString(),
  })
  const token = ((await tr.json()) as { access_token: string }).access_token
  // The warm-up (JIT, prepared statements) is outside the window.
  await load(p.baseUrl, token).catch(() => {})
  const t0 = performance.now()
  const result = await load(p.baseUrl, token)
  const windowUs = (performance.now() - t0) * 1000
  const t1 = performance.now()
  await p.stop()
  const tailUs = (performance.now() - t1) * 1000
  const file = fs.readdirSync(sub).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no profile written in ${sub}`)
  const profile = JSON.parse(fs.readFileSync(path.join(sub, file), 'utf8')) as CpuProfile
  const a = analyse(profile, windowUs, tailUs)
  return { result, text: a.text }
}

/** Records each statement's name (or first words), count and time; `mark()` starts a new tally. */
function recordingDb(db: Db) {
  let tally = new Map<string, { n: number; ms: number }>()
  const label = (s: Statement | string) => (typeof s === 'string' ? s : s.name ?? s.text).replace(/\s+/g, ' ').trim().slice(0, 70)
  const record = async <T>(stmt: Statement | string, run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now()
    try {
      return await run()
    } finally {
      const k = label(stmt)
      const e = tally.get(k) ?? { n: 0, ms: 0 }
      e.n++
      e.ms += performance.now() - t0
      tally.set(k, e)
    }
  }
  const timed = (q: Queryable): Queryable => ({
    query: (stmt, params) => record(stmt, () => q.query(stmt, params)),
    run: (stmt, params) => record(stmt, () => q.run(stmt, params)),
    exec: (s) => q.exec(s),
  })
  const wrapped: Db = {
    kind: db.kind,
    ...timed(db),
    async transaction(fn) {
      const t0 = performance.now()
      try {
        return await db.transaction((tx) => fn(timed(tx)))
      } finally {
        const e = tally.get('(transaction: BEGIN … COMMIT, whole)') ?? { n: 0, ms: 0 }
        e.n++
        e.ms += performance.now() - t0
        tally.set('(transaction: BEGIN … COMMIT, whole)', e)
      }
    },
    close: () => db.close(),
  }
  return {
    db: wrapped,
    take(ops: number) {
      const out = [...tally.entries()].sort((a, b) => b[1].n - a[1].n).map(([k, v]) => `    ${(v.n / ops).toFixed(2).padStart(5)} × ${(v.ms / v.n).toFixed(2).padStart(6)} ms  ${k}`)
      tally = new Map()
      return out
    },
  }
}

async function statements(bdb: BenchDb, key: Buffer) {
  const { buildApp } = await import('../src/app.js')
  const { loadConfig } = await import('../src/config.js')
  const { systemClock } = await import('../src/domain/shared/clock.js')
  const { postgresDb } = await import('../src/storage/db.js')
  const { default: net } = await import('node:net')
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => resolve(p))
    })
  })
  const base = `http://127.0.0.1:${port}`
  const rec = recordingDb(postgresDb(bdb.url))
  const config = loadConfig({ PORT: String(port), PUBLIC_BASE_URL: base, DATABASE_URL: bdb.url, LOG_LEVEL: 'silent', RATE_LIMIT_MULTIPLIER: '1000000', ALLOW_PRIVATE_WEBHOOK_URLS: 'true' })
  const { app, services } = await buildApp({ config, db: rec.db, clock: systemClock, encryptionKey: key })
  // Time the bearer-token check as a whole (signature, claims and the client lookup).
  const verify = services.tokens.verify.bind(services.tokens)
  let verifyMs = 0
  let verifies = 0
  services.tokens.verify = async (t: string) => {
    const t0 = performance.now()
    try {
      return await verify(t)
    } finally {
      verifyMs += performance.now() - t0
      verifies++
    }
  }
  await app.listen({ port, host: '127.0.0.1' })
  const receiver = await startReceiver(() => undefined)
  const s = await seed(rec.db, key, base, receiver.url)
  rec.take(1)
  const N = 400
  const auth = { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' }
  const urls: string[] = []
  const t0 = performance.now()
  for (let i = 0; i < N; i++) {
    const r = await fetch(`${base}/v1/platform/card/payment-link`, { method: 'POST', headers: auth, body: JSON.stringify({ user_id: s.userId, amount: '12.50' }) })
    urls.push(((await r.json()) as { data: { pay_url: string } }).data.pay_url)
  }
  const mintMs = (performance.now() - t0) / N
  const lines = [`  mint, sequential (${N}): ${mintMs.toFixed(2)} ms each; token check ${(verifyMs / verifies).toFixed(2)} ms of it`, '    per op × mean   statement', ...rec.take(N)]
  const sessions: { url: string; session: string }[] = []
  const t1 = performance.now()
  for (const u of urls) {
    const html = await (await fetch(u, { headers: { 'sec-fetch-dest': 'iframe' } })).text()
    sessions.push({ url: u, session: sessionOf(html)! })
  }
  lines.push(`  page load, sequential (${N}): ${((performance.now() - t1) / N).toFixed(2)} ms each`, ...rec.take(N))
  const t2 = performance.now()
  for (const x of sessions) {
    const r = await fetch(`${x.url}/confirm`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-paylink-session': x.session }, body: JSON.stringify({ card: SANDBOX_CARD }) })
    await r.arrayBuffer()
  }
  lines.push(`  confirm, sequential (${N}): ${((performance.now() - t2) / N).toFixed(2)} ms each`, ...rec.take(N))
  await app.close()
  await rec.db.close()
  await receiver.close()
  return lines.join('\n')
}

let bdb: BenchDb | undefined
await runScript(
  async () => {
    bdb = await createBenchDb()
    const key = randomBytes(32)
    const keyHex = key.toString('hex')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paylink-profile-'))
    const receiver = await startReceiver(() => undefined)
    const helper = await startPaylink({ databaseUrl: bdb.url, encryptionKey: keyHex, role: 'api' })
    const s = await seed(bdb.db, key, helper.baseUrl, receiver.url)
    const mintReq = mintRequest(s.token, s.userId)
    const client = { id: s.clientId, secret: s.clientSecret }
    const checkAll2xx = (r: LoadResult) => {
      if (r.non2xx || r.errors) throw new Error(`${r.title}: ${r.non2xx} non-2xx answers, ${r.errors} errors: the profile would not be of the real path`)
      return r
    }
    /** The load of one profiled stretch of the page or confirm path: `request` for half the seconds. */
    const halfLoad = (title: string, request: object) => async (url: string) =>
      checkAll2xx(await cannon({ title, url, connections: CONNECTIONS, duration: SECONDS / 2, requests: [request] }))

    if (ONLY.has('mint')) {
      log(`CPU profile: mint, ${CONNECTIONS} connections, ${SECONDS} s`)
      const mint = await profiled(bdb, keyHex, dir, 'mint', async (url, token) => checkAll2xx(await cannon({ title: 'mint', url, connections: CONNECTIONS, duration: SECONDS, requests: [mintRequest(token, s.userId)] })), client)
      process.stdout.write(`\n== mint (${(mint.result as LoadResult).rps.toFixed(0)} req/s while profiled)\n${mint.text}\n`)
    }

    // Links minted (and for confirms loaded) through the unprofiled helper; the profiled process only loads pages, or only confirms.
    log('pre-minting links (and loading some) for the page and confirm profiles')
    const sessions: LoadedPage[] = []
    const tokens = await preMint(helper.baseUrl, mintReq, (ONLY.has('confirm') ? 9000 : 0) + (ONLY.has('page') ? PAGE_LINKS : 0) + 50)
    const pageTokens = ONLY.has('page') ? tokens.splice(0, PAGE_LINKS) : []
    if (ONLY.has('page')) {
      log(`CPU profile: page loads, ${CONNECTIONS} connections, ${SECONDS} s`)
      const page = await profiled(bdb, keyHex, dir, 'page', halfLoad('page', pageRequest(pageTokens)), client)
      process.stdout.write(`\n== page (${(page.result as LoadResult).rps.toFixed(0)} loads/s while profiled)\n${page.text}\n`)
    }
    if (ONLY.has('confirm')) {
      sessions.push(...(await loadPages(helper.baseUrl, tokens, tokens.length - 40)))
      log(`CPU profile: confirm, ${CONNECTIONS} connections, ${SECONDS} s (${sessions.length} loaded links)`)
      const conf = await profiled(bdb, keyHex, dir, 'confirm', halfLoad('confirm', confirmRequest(sessions)), client)
      process.stdout.write(`\n== confirm (${(conf.result as LoadResult).rps.toFixed(0)} payments/s while profiled)\n${conf.text}\n`)
    }
    await helper.stop()
    await receiver.close()

    if (ONLY.has('statements')) {
      log('statements per operation (app in process, sequential)')
      process.stdout.write(`\n== statements\n${await statements(bdb, key)}\n`)
    }
    if (process.env.PROFILE_KEEP === '1') log(`profiles kept in ${dir}`)
    else fs.rmSync(dir, { recursive: true, force: true })
  },
  async () => {
    await bdb?.drop()
  },
)
